/**
 * Helpers of the platform suites: start a real platform on loopback on SQLite
 * or PostgreSQL, call it over HTTP, capture its logs, move its clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll } from 'vitest';
import { type RunningServer, type ServerOptions, startServer } from '../../platform/main.ts';
import { type PostgresCluster, startPostgres } from '../harness/postgres.ts';

export type Engine = 'sqlite' | 'postgres';
export const ENGINES: Engine[] = ['sqlite', 'postgres'];

/** Collects pino JSON lines, so a test can assert that no secret was logged. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.lines.push(chunk.toString('utf8'));
    done();
  }
  get text(): string {
    return this.lines.join('');
  }
}

/** A clock tests can move forward (expiry, grace periods) without sleeping. */
export class TestClock {
  offsetMs = 0;
  readonly now = (): number => Date.now() + this.offsetMs;
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export type Reply = {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
  body: any;
  text: string;
};

export type CallOptions = {
  key?: string | null;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
};

export class Api {
  readonly url: string;
  readonly defaultKey: string;
  constructor(url: string, defaultKey: string) {
    this.url = url;
    this.defaultKey = defaultKey;
  }

  async call(method: string, path: string, options: CallOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...options.headers };
    const key = options.key === undefined ? this.defaultKey : options.key;
    if (key !== null) headers.authorization = `Bearer ${key}`;
    let body: string | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined && !headers['content-type'])
      headers['content-type'] = 'application/json';
    const res = await fetch(this.url + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: res.status, headers: res.headers, body: parsed, text };
  }

  get = (path: string, o?: CallOptions) => this.call('GET', path, o);
  post = (path: string, body?: unknown, o?: CallOptions) => this.call('POST', path, { ...o, body });
  patch = (path: string, body?: unknown, o?: CallOptions) =>
    this.call('PATCH', path, { ...o, body });
  delete = (path: string, o?: CallOptions) => this.call('DELETE', path, o);

  /** Token-authenticated analytics read. */
  metric = (token: string, name: string, query = '') =>
    this.get(`/v1/analytics/metrics/${name}${query}`, { key: token });
}

export type Platform = {
  engine: Engine;
  server: RunningServer;
  api: Api;
  logs: LogCapture;
  clock: TestClock;
  dataDir: string;
  databaseUrl: string | undefined;
  /** Stops this server and starts another on the same data dir / database. */
  restart(): Promise<void>;
  close(): Promise<void>;
};

let cluster: Promise<PostgresCluster> | undefined;

/** One PostgreSQL cluster per test file (worker); each platform gets its own database. */
export function postgresCluster(): Promise<PostgresCluster> {
  cluster ??= startPostgres();
  return cluster;
}

async function stopPostgres(): Promise<void> {
  if (cluster) {
    const c = await cluster;
    cluster = undefined;
    await c.stop();
  }
}
// Every suite file that imports these helpers stops the cluster when it ends:
// the hook registers on the file as it imports this module.
afterAll(stopPostgres);

/** The tests' webhook receivers listen on loopback, which a server refuses unless told (SSRF guard). */
export const LOOPBACK = ['127.0.0.0/8', '::1'];

/**
 * Every test server delivers webhooks to loopback alone (README "Lifecycle events, leak response, revocation across servers", Egress): a
 * test or a fuzzer may hand it any URL, and it neither connects outside the
 * machine nor looks a name up (test/platform/no-egress.test.ts proves it).
 */
export const LOOPBACK_EGRESS = {
  webhookEgress: 'allowlist',
  webhookAllowedNetworks: LOOPBACK,
} as const satisfies Partial<ServerOptions>;

export async function startPlatform(
  engine: Engine,
  options: Partial<ServerOptions> = {},
): Promise<Platform> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tokenplane-test-'));
  const databaseUrl =
    engine === 'postgres' ? await (await postgresCluster()).createDatabase() : undefined;
  const logs = new LogCapture();
  const clock = new TestClock();
  const start = () =>
    startServer({
      port: 0,
      dataDir,
      ...(databaseUrl ? { databaseUrl } : {}),
      env: {},
      logLevel: 'debug',
      logStream: logs,
      clock: clock.now,
      ...LOOPBACK_EGRESS,
      ...options,
    });
  const platform: Platform = {
    engine,
    server: await start(),
    api: undefined as unknown as Api,
    logs,
    clock,
    dataDir,
    databaseUrl,
    async restart() {
      await platform.server.close();
      platform.server = await start();
      platform.api = new Api(platform.server.url, platform.server.adminKey);
    },
    async close() {
      await platform.server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  platform.api = new Api(platform.server.url, platform.server.adminKey);
  return platform;
}

/** Another server on the platform's data dir and database (a replica), on its clock. */
export function startReplica(
  p: Platform,
  options: Partial<ServerOptions> = {},
): Promise<RunningServer> {
  return startServer({
    port: 0,
    dataDir: p.dataDir,
    ...(p.databaseUrl ? { databaseUrl: p.databaseUrl } : {}),
    env: {},
    logger: false,
    clock: p.clock.now,
    ...LOOPBACK_EGRESS,
    ...options,
  });
}

/** A new advanced entity without a default token: its tier's quota is the test's own tokens'. */
export async function advancedEntity(
  p: { api: Api },
  name: string,
  kind: 'customer' | 'reseller' = 'customer',
): Promise<{ id: string }> {
  const body = { name, kind, tier: 'advanced', defaultToken: false };
  return (await p.api.post('/v1/entities', body)).body;
}

export function isProblem(reply: Reply, slug: string, status: number): boolean {
  return (
    reply.status === status &&
    (reply.headers.get('content-type') ?? '').startsWith('application/problem+json') &&
    typeof reply.body?.type === 'string' &&
    reply.body.type.endsWith(`/${slug}`)
  );
}
