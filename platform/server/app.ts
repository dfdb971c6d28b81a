/**
 * The tokenplane platform service.
 *
 * Stable API for other parts of the repository (operator, provider, client
 * tests start a real platform with it):
 *
 *   import { startServer } from '../platform/server/app.ts';
 *   const platform = await startServer({ port: 0, dataDir: tmp, logger: false });
 *   platform.url       // 'http://127.0.0.1:<port>'
 *   platform.adminKey  // the administrator key (given, read from or generated into dataDir)
 *   await platform.close();  // stops listening, flushes lastUsedAt, closes the database
 *
 * `startServer(options)`: every option falls back to the environment of SPEC §2
 * (pass `env: {}` to ignore the environment entirely):
 *
 *   port           PORT                      default 8080; 0 = a free port
 *   host                                     default 127.0.0.1
 *   dataDir        TOKENPLANE_DATA_DIR       default ./.data (SQLite file, generated keys)
 *   databaseUrl    TOKENPLANE_DATABASE_URL   PostgreSQL; unset = SQLite in dataDir
 *   adminKey       TOKENPLANE_ADMIN_KEY      unset = generated into <dataDir>/admin-key (0600)
 *   encryptionKey  TOKENPLANE_ENCRYPTION_KEY unset = generated into <dataDir>/encryption-key (0600)
 *   tiers          TOKENPLANE_TIERS          JSON [{name, rank, tokenQuota}]; default lite=1, advanced=5
 *   logLevel       TOKENPLANE_LOG_LEVEL      default info
 *   logger         false = silent; logStream = a writable stream receiving pino JSON lines
 *   clock          () => epoch ms; tests inject one to cross expiry and grace periods
 *   trustedProxies TOKENPLANE_TRUSTED_PROXIES comma-separated addresses/CIDRs whose
 *                                           X-Forwarded-For is believed (token allowedIps)
 *   verifyCacheTtlMs, lastUsedFlushMs   hot-path tuning (defaults 5000 ms each; the
 *                  latter also paces usage reports and idle usage-lease returns)
 *   verifyCacheSize entries per verification cache (default 10 000, least recently used go)
 *   webhookPollMs  how often the webhook sender looks for due retries (default 1000 ms)
 *   noticeScanMs   how often expiring/expired/usage-low notices are looked for (default 60 s)
 *   bodyLimit      request body limit in bytes (default 64 KiB; larger → 413 problem)
 *   webhookAllowedNetworks TOKENPLANE_WEBHOOK_ALLOWED_NETWORKS  comma-separated addresses/CIDRs
 *                  beyond the public internet that webhooks may deliver to (default none:
 *                  loopback, private and link-local destinations are refused)
 *   webhookEgress  TOKENPLANE_WEBHOOK_EGRESS  'public' (default: public addresses and the
 *                  allowed networks) or 'allowlist' (the allowed networks only; the tests'
 *                  servers list loopback alone, and then no name but localhost is looked up)
 *   leakReportKeysUrl TOKENPLANE_LEAK_REPORT_KEYS_URL  where leak reporters publish their
 *                  signing keys (GitHub: https://api.github.com/meta/public_keys/secret_scanning);
 *                  set, POST /v1/token-leaks also takes reports signed by one of them
 *   console        {idleMs, absoluteMs, maxSessions} of console sessions (default 30 min, 12 h)
 *   publicUrl      TOKENPLANE_PUBLIC_URL     the console's public origin (https://tokens.example.com):
 *                  set, the console's forgery check compares Origin with it, not with Host
 *
 * The result also has `port`, `host`, `dataDir`, `storage` ('sqlite' |
 * 'postgres') and `app` (the fastify instance; `app.tokenplane.context` holds
 * the store, verifier and metrics for white-box tests).
 *
 * `buildApp(options)` returns the fastify instance without listening (for
 * `app.inject` or embedding); `app.close()` releases everything.
 */
import { resolve } from 'node:path';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import type { DestinationStream, Logger } from 'pino';
import { SecretBox } from '../../core/crypto/cipher.ts';
import {
  ensureDataDir,
  ensureWritableDataDir,
  loadAdminKey,
  loadEncryptionKey,
} from '../../core/crypto/keys.ts';
import { type Tier, TierTable } from '../../core/domain/tiers.ts';
import { createLogger, LogThrottle } from '../../core/logging.ts';
import { isAddressOrRange } from '../../core/schemas/permissions.ts';
import { type ConsoleOptions, consoleRoutes } from '../console/index.ts';
import { purgeIdempotency } from '../storage/idempotency.ts';
import { openStorage } from '../storage/index.ts';
import { RevocationListener } from '../storage/listener.ts';
import { purgeReplacedValues } from '../storage/replaced-values.ts';
import { purgeSignatures } from '../storage/signatures.ts';
import { purgeDeliveries } from '../storage/webhooks.ts';
import {
  WEBHOOK_EGRESS_MODES,
  WebhookDestinations,
  type WebhookEgress,
} from '../webhooks/destinations.ts';
import { NoticeScheduler } from '../webhooks/scheduler.ts';
import { WebhookSender } from '../webhooks/sender.ts';
import { MetricCatalog } from './analytics.ts';
import { installAudit } from './audit.ts';
import { adminKeyDigest, installAuth } from './auth.ts';
import type { PlatformContext } from './context.ts';
import { httpOptions, requestId, requireHost } from './http-options.ts';
import { jsonBodyParser } from './json-body.ts';
import { LeakReportSignatures } from './leak-signature.ts';
import { RouteMethods } from './methods.ts';
import { PlatformMetrics } from './metrics.ts';
import { RateLimiter } from './permissions/rate-limiter.ts';
import { storedLedger, UsageMeter } from './permissions/usage-meter.ts';
import { clientErrorHandler, frameworkErrors, installProblemHandlers } from './problems.ts';
import { RequestLog } from './request-log.ts';
import { accessKeyRoutes } from './routes/access-keys.ts';
import { analyticsRoutes } from './routes/analytics.ts';
import { auditRoutes } from './routes/audit.ts';
import { unknownPathIds } from './routes/common.ts';
import { entityRoutes } from './routes/entities.ts';
import { memberRoutes } from './routes/members.ts';
import { metaRoutes } from './routes/meta.ts';
import { tokenLeakRoutes } from './routes/token-leaks.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { TokenVerifier } from './verifier.ts';

export type ServerOptions = {
  port?: number;
  host?: string;
  dataDir?: string;
  databaseUrl?: string;
  adminKey?: string;
  encryptionKey?: string;
  tiers?: TierTable | readonly Tier[];
  logger?: boolean | Logger;
  logLevel?: string;
  logStream?: DestinationStream;
  clock?: () => number;
  /** Peers whose X-Forwarded-For is believed (addresses or CIDR ranges). */
  trustedProxies?: readonly string[];
  verifyCacheTtlMs?: number;
  /** Entries per verification cache (default 10 000). */
  verifyCacheSize?: number;
  /** Keys URL of signed leak reports (GitHub's secret-scanning partner format). */
  leakReportKeysUrl?: string;
  /** Private addresses or CIDR ranges webhooks may deliver to (default none: public only). */
  webhookAllowedNetworks?: readonly string[];
  /** 'allowlist': webhooks go to webhookAllowedNetworks only, public addresses refused too. */
  webhookEgress?: WebhookEgress;
  /** How long a client may take to send a whole request (default 25 s; headers within 20 s). */
  requestTimeoutMs?: number;
  lastUsedFlushMs?: number;
  webhookPollMs?: number;
  noticeScanMs?: number;
  /** Request body limit in bytes (default 64 KiB). */
  bodyLimit?: number;
  /** Console session limits (platform/console/sessions.ts). */
  console?: ConsoleOptions;
  /** The console's public origin, e.g. https://tokens.example.com (its forgery check). */
  publicUrl?: string;
  /** Environment to fall back on; default process.env. */
  env?: Record<string, string | undefined>;
};

export type RunningServer = {
  url: string;
  port: number;
  host: string;
  adminKey: string;
  dataDir: string;
  storage: 'sqlite' | 'postgres';
  app: FastifyInstance;
  close(): Promise<void>;
};

/** What buildApp attaches to the instance (`app.tokenplane`). */
export type PlatformInfo = {
  adminKey: string;
  dataDir: string;
  storage: 'sqlite' | 'postgres';
  context: PlatformContext;
};

declare module 'fastify' {
  interface FastifyInstance {
    tokenplane: PlatformInfo;
  }
}

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_DATA_DIR = '.data';
export const DEFAULT_BODY_LIMIT = 64 * 1024;
const IDEMPOTENCY_RETENTION_MS = 48 * 3600 * 1000;
/** Finished webhook deliveries stay in the delivery log this long. */
const DELIVERY_RETENTION_MS = 30 * 24 * 3600 * 1000;

function makeLogger(options: ServerOptions, env: Record<string, string | undefined>): Logger {
  if (options.logger && typeof options.logger === 'object') return options.logger;
  const level =
    options.logger === false ? 'silent' : (options.logLevel ?? env.TOKENPLANE_LOG_LEVEL ?? 'info');
  // Embedded servers log JSON; `tokenplane serve` passes its own logger (readable on a terminal).
  return createLogger({
    level,
    format: 'json',
    secrets: [
      options.adminKey ?? env.TOKENPLANE_ADMIN_KEY,
      options.encryptionKey ?? env.TOKENPLANE_ENCRYPTION_KEY,
    ],
    ...(options.logStream ? { stream: options.logStream } : {}),
  });
}

/** A list of addresses and CIDR ranges: the option, else the comma-separated variable. */
function addressList(
  given: readonly string[] | undefined,
  env: Record<string, string | undefined>,
  variable: string,
  what: string,
): string[] {
  const list = [
    ...(given ??
      (env[variable] ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)),
  ];
  const bad = list.filter((entry) => !isAddressOrRange(entry));
  if (bad.length > 0) {
    throw new Error(
      `${variable}: ${bad.join(', ')} is not an IP address or CIDR range; list ${what}, comma-separated (e.g. 10.0.0.0/8,::1).`,
    );
  }
  return list;
}

function resolveTiers(options: ServerOptions, env: Record<string, string | undefined>): TierTable {
  if (options.tiers instanceof TierTable) return options.tiers;
  if (options.tiers) return new TierTable(options.tiers);
  return TierTable.fromEnv(env.TOKENPLANE_TIERS);
}

/** On PostgreSQL: other servers' revocations reach this server's verifier at once. */
function listenForRevocations(
  databaseUrl: string,
  verifier: TokenVerifier,
  metrics: PlatformMetrics,
  logger: Logger,
): RevocationListener {
  return new RevocationListener(
    databaseUrl,
    {
      onChange: (target) =>
        'tokenId' in target
          ? verifier.invalidateToken(target.tokenId)
          : verifier.invalidateEntity(target.entityId),
      onResync: () => verifier.invalidateAll(),
      onState: (up) => metrics.revocationListener.set(up ? 1 : 0),
    },
    logger,
  );
}

function leakSignaturesOf(
  options: ServerOptions,
  env: Record<string, string | undefined>,
  clock: () => number,
): LeakReportSignatures | null {
  const url = options.leakReportKeysUrl ?? (env.TOKENPLANE_LEAK_REPORT_KEYS_URL || undefined);
  return url ? new LeakReportSignatures(url, clock) : null;
}

function webhookDestinationsOf(
  options: ServerOptions,
  env: Record<string, string | undefined>,
): WebhookDestinations {
  const allowedNetworks = addressList(
    options.webhookAllowedNetworks,
    env,
    'TOKENPLANE_WEBHOOK_ALLOWED_NETWORKS',
    'the networks webhooks may deliver to',
  );
  const egress = options.webhookEgress ?? (env.TOKENPLANE_WEBHOOK_EGRESS || 'public');
  if (!(WEBHOOK_EGRESS_MODES as readonly string[]).includes(egress)) {
    throw new Error(
      `TOKENPLANE_WEBHOOK_EGRESS: ${egress} is not a mode; use public (the default: public addresses and TOKENPLANE_WEBHOOK_ALLOWED_NETWORKS) or allowlist (TOKENPLANE_WEBHOOK_ALLOWED_NETWORKS only).`,
    );
  }
  if (egress === 'allowlist' && allowedNetworks.length === 0) {
    throw new Error(
      'TOKENPLANE_WEBHOOK_EGRESS=allowlist needs TOKENPLANE_WEBHOOK_ALLOWED_NETWORKS: list the networks webhooks may deliver to (e.g. 127.0.0.0/8,::1).',
    );
  }
  return new WebhookDestinations({ egress: egress as WebhookEgress, allowedNetworks });
}

export async function buildApp(options: ServerOptions = {}): Promise<FastifyInstance> {
  const env = options.env ?? process.env;
  const logger = makeLogger(options, env);
  const dataDir = resolve(options.dataDir ?? env.TOKENPLANE_DATA_DIR ?? DEFAULT_DATA_DIR);
  const databaseUrl = options.databaseUrl ?? (env.TOKENPLANE_DATABASE_URL || undefined);
  const clock = options.clock ?? Date.now;
  const tiers = resolveTiers(options, env);
  const destinations = webhookDestinationsOf(options, env);

  ensureDataDir(dataDir);
  const admin = loadAdminKey(dataDir, options.adminKey ?? env.TOKENPLANE_ADMIN_KEY);
  if (admin.source === 'generated') {
    logger.warn(
      { path: admin.path },
      `generated an administrator key (TOKENPLANE_ADMIN_KEY unset); it is stored in ${admin.path}`,
    );
  } else if (admin.source === 'file') {
    logger.info({ path: admin.path }, `using the administrator key stored in ${admin.path}`);
  }
  const encryption = loadEncryptionKey(
    dataDir,
    options.encryptionKey ?? env.TOKENPLANE_ENCRYPTION_KEY,
  );
  if (!databaseUrl) ensureWritableDataDir(dataDir);

  const box = new SecretBox(encryption.value);
  const generated = encryption.source === 'generated' ? encryption : null;
  const store = await openStorage({
    dataDir,
    databaseUrl,
    tiers,
    box,
    clock,
    key: generated
      ? { from: generated.path, save: generated.save }
      : { from: encryption.path ?? 'TOKENPLANE_ENCRYPTION_KEY' },
  });
  if (generated) {
    logger.warn(
      { path: generated.path },
      `generated an encryption key (TOKENPLANE_ENCRYPTION_KEY unset); it is stored in ${generated.path} — back it up with the database`,
    );
  }
  const storage = databaseUrl ? 'postgres' : 'sqlite';
  logger.info(
    { storage, dataDir },
    storage === 'sqlite' ? `storage: SQLite in ${dataDir}` : 'storage: PostgreSQL',
  );

  const metrics = new PlatformMetrics();
  const warnings = new LogThrottle();
  const verifier = new TokenVerifier({
    store,
    box,
    metrics,
    clock,
    ...(options.verifyCacheTtlMs !== undefined ? { cacheTtlMs: options.verifyCacheTtlMs } : {}),
    ...(options.verifyCacheSize !== undefined ? { cacheSize: options.verifyCacheSize } : {}),
    ...(options.lastUsedFlushMs !== undefined ? { lastUsedFlushMs: options.lastUsedFlushMs } : {}),
    onFlushError: (error) =>
      warnings.write(logger, 'error', { err: error }, 'could not write lastUsedAt'),
  });
  const usage = new UsageMeter(storedLedger(store), clock, (error) =>
    warnings.write(logger, 'error', { err: error }, 'could not report token usage'),
  );
  const sender = new WebhookSender({
    store,
    clock,
    log: logger,
    destinations,
    onAttempt: (outcome) => metrics.webhookAttempts.inc({ outcome }),
    ...(options.webhookPollMs !== undefined ? { pollMs: options.webhookPollMs } : {}),
  });
  const notices = new NoticeScheduler(store, logger, () => sender.wake(), options.noticeScanMs);
  const revocations = databaseUrl
    ? listenForRevocations(databaseUrl, verifier, metrics, logger)
    : null;
  await revocations?.start();
  const ctx: PlatformContext = {
    store,
    sender,
    notices,
    tiers,
    box,
    verifier,
    metrics,
    catalog: new MetricCatalog(tiers),
    rateLimiter: new RateLimiter(clock),
    usage,
    clock,
    adminKeyDigest: adminKeyDigest(admin.value),
    warnings,
    leakSignatures: leakSignaturesOf(options, env, clock),
    webhookDestinations: destinations,
  };

  metrics.countEntries('rate-limit-windows', () => ctx.rateLimiter.size);
  metrics.countEntries('usage-slots', () => usage.size);

  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const trustedProxies = addressList(
    options.trustedProxies,
    env,
    'TOKENPLANE_TRUSTED_PROXIES',
    'the proxies in front of tokenplane',
  );
  const app = Fastify({
    loggerInstance: logger,
    // request.ip: the socket's peer, or X-Forwarded-For's client when the peer is a listed proxy.
    ...(trustedProxies.length > 0 ? { trustProxy: trustedProxies } : {}),
    bodyLimit,
    requestIdHeader: false,
    genReqId: requestId,
    ...httpOptions(options.requestTimeoutMs),
    return503OnClosing: true,
    frameworkErrors,
    clientErrorHandler,
    logController: new RequestLog(),
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorate('tokenplane', { adminKey: admin.value, dataDir, storage, context: ctx });

  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, jsonBodyParser);
  // A text/plain body was parsed as a string and refused by the schema as such: now 415.
  app.removeContentTypeParser('text/plain');

  let ready = true;
  const routes = new RouteMethods();
  app.addHook('onRoute', (route) => routes.add(route.url, route.method));
  installProblemHandlers(app, ctx, routes);
  requireHost(app);
  installAuth(app, ctx);

  app.addHook('onResponse', async (request, reply) => {
    if (request.problemSlug) metrics.problem(request.problemSlug);
    metrics.observeRequest(
      request.method,
      request.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'tokenplane platform API',
        version: '1',
        description:
          'Entities, API tokens, tiers and quotas. Errors are RFC 9457 problems whose `type` ends in a slug.',
      },
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'The administrator key or an access key',
          },
          apiToken: { type: 'http', scheme: 'bearer', description: 'An API token' },
          httpSignature: {
            type: 'apiKey',
            in: 'header',
            name: 'Signature',
            description:
              'RFC 9421 signature (hmac-sha256, keyid = token id, covering @method, @path, @query; with Signature-Input) for tokens that require signed requests',
          },
        },
      },
    },
    transform: jsonSchemaTransform,
  });

  // Routes whose body may be omitted (reveal, rotate): the OpenAPI document says
  // so (@fastify/swagger marks every request body required).
  const optionalBodies = new Set<string>();
  app.addHook('onRoute', (route) => {
    const body = route.schema?.body as
      | { safeParse?: (v: unknown) => { success: boolean } }
      | undefined;
    if (body?.safeParse?.(undefined).success) {
      for (const method of [route.method].flat()) {
        optionalBodies.add(`${method.toLowerCase()} ${route.url.replace(/:(\w+)/g, '{$1}')}`);
      }
    }
  });

  await app.register(metaRoutes(ctx, { ready: () => ready, optionalBodies }));
  // Management routes: body defaults and the audit hook live in their scope only,
  // so the analytics hot path pays for neither.
  await app.register(
    async (v1) => {
      // A body-less POST is validated as `{}`: reveal and rotate need none,
      // and a create without one gets field-level errors, not "expected object".
      v1.addHook('preValidation', async (request) => {
        // Only a missing body: an explicit JSON `null` is refused like any non-object;
        // a PATCH must say what to change.
        if (request.body === undefined && request.method === 'POST') request.body = {};
      });
      v1.addHook('preHandler', unknownPathIds);
      installAudit(v1, ctx);
      // Management answers may carry token values and keys: never cache them.
      v1.addHook('onSend', async (_request, reply, payload) => {
        reply.header('cache-control', 'no-store');
        return payload;
      });
      await v1.register(entityRoutes(ctx));
      await v1.register(tokenRoutes(ctx));
      await v1.register(accessKeyRoutes(ctx));
      await v1.register(memberRoutes(ctx));
      await v1.register(auditRoutes(ctx));
      await v1.register(webhookRoutes(ctx));
      await v1.register(tokenLeakRoutes(ctx));
    },
    { prefix: '/v1' },
  );
  await app.register(analyticsRoutes(ctx), { prefix: '/v1' });
  await app.register(
    consoleRoutes(ctx, {
      ...options.console,
      publicUrl: options.publicUrl ?? (env.TOKENPLANE_PUBLIC_URL || undefined),
    }),
  );

  const purge = async () => {
    try {
      await purgeIdempotency(store, IDEMPOTENCY_RETENTION_MS);
      await purgeDeliveries(store, DELIVERY_RETENTION_MS);
      await purgeReplacedValues(store);
    } catch (error) {
      warnings.write(
        logger,
        'error',
        { err: error },
        'could not purge idempotency keys, old webhook deliveries or replaced token values',
      );
    }
  };
  const purgeTimer = setInterval(purge, 3600_000);
  purgeTimer.unref();
  // Usage reports and idle lease returns, rate-window and signature clean-up.
  const limitsTimer = setInterval(() => {
    ctx.rateLimiter.sweep();
    usage
      .tick()
      .catch((error) =>
        warnings.write(logger, 'error', { err: error }, 'could not report token usage'),
      );
    purgeSignatures(store).catch((error) =>
      warnings.write(logger, 'error', { err: error }, 'could not purge signatures'),
    );
  }, options.lastUsedFlushMs ?? 5000);
  limitsTimer.unref();

  app.addHook('preClose', async () => {
    ready = false;
  });
  app.addHook('onClose', async () => {
    clearInterval(purgeTimer);
    clearInterval(limitsTimer);
    await usage.close();
    await revocations?.close();
    await notices.close();
    await sender.close();
    try {
      await verifier.close();
    } catch (error) {
      logger.error({ err: error }, 'could not write lastUsedAt on close');
    }
    await store.db.close();
  });

  await app.ready();
  // Deliveries left pending by an earlier run (or a crash) go out now, and
  // notices that fell due while no server ran are written.
  sender.wake();
  notices.runOnce().catch(() => {});
  return app;
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const env = options.env ?? process.env;
  const app = await buildApp(options);
  const host = options.host ?? DEFAULT_HOST;
  const port = options.port ?? (env.PORT ? Number(env.PORT) : DEFAULT_PORT);
  try {
    await app.listen({ port, host });
  } catch (error) {
    await app.close();
    throw error;
  }
  const address = app.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${actualPort}`,
    port: actualPort,
    host,
    adminKey: app.tokenplane.adminKey,
    dataDir: app.tokenplane.dataDir,
    storage: app.tokenplane.storage,
    app,
    close() {
      closing ??= app.close();
      return closing;
    },
  };
}
