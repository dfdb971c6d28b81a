/**
 * `tokenplane serve [--port N] [--host H] [--data-dir DIR] [--log-format F]`: runs the platform
 * until SIGTERM or SIGINT, then shuts down gracefully (stops accepting, lets
 * in-flight requests finish, writes pending lastUsedAt, closes the database).
 */
import { parseArgs } from 'node:util';
import { type HeapStats, type HeapWatch, watchHeap } from '../core/heap-watch.ts';
import { createLogger, type LogFormat, parseLogFormat } from '../core/logging.ts';
import { startTracing } from '../core/tracing.ts';
import { DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_PORT, startServer } from './main.ts';

export const SERVE_HELP = `Usage: tokenplane serve [options]

Options:
  --port <n>        port to listen on (env PORT; default ${DEFAULT_PORT}; 0 = any free port)
  --host <addr>     address to bind (default ${DEFAULT_HOST})
  --data-dir <dir>  data directory: SQLite database and generated keys
                    (env TOKENPLANE_DATA_DIR; default ./${DEFAULT_DATA_DIR})
  --log-format <f>  auto (readable on a terminal, JSON lines otherwise), pretty or json
                    (env TOKENPLANE_LOG_FORMAT; default auto)
  -h, --help        show this help

Environment:
  TOKENPLANE_DATABASE_URL    use PostgreSQL instead of SQLite
  TOKENPLANE_ADMIN_KEY       administrator key (generated into the data dir when unset)
  TOKENPLANE_ENCRYPTION_KEY  encrypts revealable token values (generated when unset)
  TOKENPLANE_TIERS           tier table, JSON [{"name","rank","tokenQuota"}]
  TOKENPLANE_LOG_LEVEL       pino level (default info)
  TOKENPLANE_TRUSTED_PROXIES proxies whose X-Forwarded-For is believed for token
                             allowedIps and the console's sign-in limit: addresses/CIDRs,
                             comma-separated (default none)
  TOKENPLANE_PUBLIC_URL      the console's public origin (e.g. https://tokens.example.com):
                             its forgery check compares Origin with it, not with Host
  TOKENPLANE_WEBHOOK_ALLOWED_NETWORKS  networks webhooks may deliver to beyond public
                             addresses: addresses/CIDRs, comma-separated (default none)
  TOKENPLANE_WEBHOOK_EGRESS  public (default) or allowlist: webhooks go to the allowed
                             networks only
  TOKENPLANE_OIDC_ISSUER     single sign-on for the console: the OpenID provider's issuer
  TOKENPLANE_OIDC_CLIENT_ID  URL (https), and the console's client at it; all three or
  TOKENPLANE_OIDC_CLIENT_SECRET  none. Redirect URI: <console origin>/console/oidc/callback
`;

export async function run(argv: string[]): Promise<number> {
  let values: {
    port?: string;
    host?: string;
    'data-dir'?: string;
    'log-format'?: string;
    help?: boolean;
  };
  let format: LogFormat;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'data-dir': { type: 'string' },
        'log-format': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
    format = parseLogFormat(values['log-format'] ?? process.env.TOKENPLANE_LOG_FORMAT);
  } catch (error) {
    process.stderr.write(`tokenplane serve: ${(error as Error).message}\n\n${SERVE_HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    process.stderr.write(`tokenplane serve: --port must be an integer 0–65535\n`);
    return 2;
  }
  const tracing = await startTracing('tokenplane-platform');
  const server = await startServer({
    logger: createLogger({ level: process.env.TOKENPLANE_LOG_LEVEL, format }),
    ...(port !== undefined ? { port } : {}),
    ...(values.host !== undefined ? { host: values.host } : {}),
    ...(values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {}),
  });
  server.app.log.info({ url: server.url }, `tokenplane platform listening on ${server.url}`);
  const heap = watchServeHeap(server.app.log);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      server.app.log.info({ signal }, 'shutting down');
      heap.stop();
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      server
        .close()
        .then(() => tracing?.shutdown())
        .then(resolve, (error) => {
          server.app.log.error({ err: error }, 'error during shutdown');
          resolve();
        });
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
  return 0;
}

/**
 * The warning `tokenplane serve` logs when its heap nears the bound its flags
 * set (heap-flags.ts): a crash for lack of memory is then close.
 */
export function watchServeHeap(
  log: { warn(obj: object, msg: string): void },
  stats?: HeapStats,
): HeapWatch {
  return watchHeap({
    log,
    advice:
      'give tokenplane serve a larger --max-old-space-size in NODE_OPTIONS and raise its ' +
      'memory limit with it (README, Memory under load)',
    ...(stats ? { stats } : {}),
  });
}
