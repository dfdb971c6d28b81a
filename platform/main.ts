/**
 * The platform's composition root: settings, then services, then the HTTP app
 * with the console. Other parts of the repository (operator, provider and
 * client tests, benchmarks) start a real platform with it:
 *
 *   import { startServer } from '../platform/main.ts';
 *   const platform = await startServer({ port: 0, dataDir: tmp, logger: false });
 *   platform.url       // 'http://127.0.0.1:<port>'
 *   platform.adminKey  // the administrator key (given, read from or generated into dataDir)
 *   await platform.close();  // stops listening, flushes lastUsedAt, closes the database
 *
 * The options and their environment fallbacks: `ServerOptions` in config.ts.
 * `buildApp(options)` returns the fastify instance without listening (for
 * `app.inject` or embedding); `app.close()` releases everything.
 */
import type { FastifyInstance } from 'fastify';
import { DEFAULT_HOST, DEFAULT_PORT, readConfig, type ServerOptions } from './config.ts';
import { consoleRoutes } from './console/index.ts';
import { createApp } from './server/app.ts';
import { openServices } from './services.ts';

export { DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_PORT, type ServerOptions } from './config.ts';

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

export async function buildApp(options: ServerOptions = {}): Promise<FastifyInstance> {
  const config = readConfig(options);
  const services = await openServices(config);
  const { ctx, adminKey, storage } = services;
  let app: FastifyInstance;
  try {
    app = await createApp(config, { adminKey, dataDir: config.dataDir, storage, context: ctx });
    await app.register(
      consoleRoutes(ctx, { ...options.console, publicUrl: config.publicUrl, oidc: config.oidc }),
    );
  } catch (error) {
    await services.close();
    throw error;
  }
  app.addHook('onClose', () => services.close());
  await app.ready();
  services.start();
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
