/**
 * A server process for bench/platform.ts, so the load generator and the server
 * under test never share a thread. `node bench/platform-server.ts hello` starts a
 * bare fastify hello-world (with a series body at /series, and, for
 * bench/console.ts, a minimal page at /page); `… platform [databaseUrl]` starts the platform
 * (logging at warn) with an extra high-quota tier for the create benchmark;
 * BENCH_ADMIN_KEY / BENCH_ENCRYPTION_KEY make several such servers share one
 * PostgreSQL database (bench/webhooks.ts); OTEL_* variables start traces as
 * `tokenplane serve` does.
 * Prints one JSON line `{url, adminKey?}` when ready; exits on SIGTERM.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { startTracing } from '../core/tracing.ts';
import { startServer } from '../platform/main.ts';
import { seriesJson } from '../platform/server/analytics.ts';

const [mode, databaseUrl] = process.argv.slice(2);
const ENTITY = '0190d7a4-0000-7000-8000-000000000001';

if (mode === 'hello') {
  const app = Fastify({ logger: false });
  app.get('/hello', async () => ({ hello: 'world' }));
  // What a series' points cost a server that does nothing else: the same body
  // as the platform's series route for the same query, made fresh and sent.
  app.get<{ Querystring: { from: string; to: string } }>('/series', (request, reply) => {
    const [from, to] = [Date.parse(request.query.from), Date.parse(request.query.to)];
    reply.type('application/json; charset=utf-8').send(seriesJson('requests', ENTITY, from, to));
  });
  // The console benchmark's baseline: the smallest page that becomes "ready" the
  // way a console page does (an external module script sets data-ready).
  app.get('/page', async (_req, reply) =>
    reply
      .type('text/html')
      .send(
        '<!doctype html><html lang="en"><head><title>page</title><script type="module" src="/ready.js"></script></head><body><main><h1>page</h1></main></body></html>',
      ),
  );
  app.get('/ready.js', async (_req, reply) =>
    reply.type('text/javascript').send("document.documentElement.dataset.ready = 'true';"),
  );
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
  process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
} else {
  // As `tokenplane serve` does: traces only when OTEL_EXPORTER_OTLP_ENDPOINT is set (bench/platform.ts, tracing cost).
  const tracing = await startTracing('tokenplane-platform');
  const dataDir = mkdtempSync(join(tmpdir(), 'tokenplane-bench-'));
  const server = await startServer({
    port: 0,
    dataDir,
    env: {},
    logLevel: 'warn',
    // The bench's webhook receivers listen on loopback, and nothing else is reached (README "Lifecycle events, leak response, revocation across servers").
    webhookEgress: 'allowlist',
    webhookAllowedNetworks: ['127.0.0.0/8'],
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(process.env.BENCH_ADMIN_KEY ? { adminKey: process.env.BENCH_ADMIN_KEY } : {}),
    ...(process.env.BENCH_ENCRYPTION_KEY
      ? { encryptionKey: process.env.BENCH_ENCRYPTION_KEY }
      : {}),
    // A small verification cache makes most look-ups miss (bench/platform.ts, cold introspection).
    ...(process.env.BENCH_VERIFY_CACHE_SIZE
      ? { verifyCacheSize: Number(process.env.BENCH_VERIFY_CACHE_SIZE) }
      : {}),
    ...(process.env.BENCH_WEBHOOK_POLL_MS
      ? { webhookPollMs: Number(process.env.BENCH_WEBHOOK_POLL_MS) }
      : {}),
    tiers: [
      { name: 'lite', rank: 0, tokenQuota: 1 },
      { name: 'advanced', rank: 1, tokenQuota: 5 },
      { name: 'bench', rank: 2, tokenQuota: 10_000_000 },
    ],
  });
  process.stdout.write(`${JSON.stringify({ url: server.url, adminKey: server.adminKey })}\n`);
  process.on('SIGTERM', () =>
    server
      .close()
      .then(() => tracing?.shutdown())
      .then(() => {
        rmSync(dataDir, { recursive: true, force: true });
        process.exit(0);
      }),
  );
}
