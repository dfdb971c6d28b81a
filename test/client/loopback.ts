/**
 * A tiny scripted HTTP server on loopback for the client's transport tests: it
 * records every request and answers with what the test's handler says.
 */
import http from 'node:http';
import { afterEach } from 'vitest';
import { TokenplaneClient, type TokenplaneClientOptions } from '../../core/client/index.ts';
import { listenOnLoopback } from '../harness/ports.ts';

export type Seen = {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
};

export type Answer =
  | { status: number; headers?: Record<string, string>; body?: unknown }
  /** Close the connection without answering (after the request was read). */
  | 'drop'
  /** Never answer. */
  | 'hang';

export type Loopback = {
  url: string;
  requests: Seen[];
  close(): Promise<void>;
};

export async function loopback(
  handler: (req: Seen, n: number) => Answer | Promise<Answer>,
): Promise<Loopback> {
  const requests: Seen[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const seen: Seen = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    requests.push(seen);
    const answer = await handler(seen, requests.length);
    if (answer === 'hang') return;
    if (answer === 'drop') {
      req.socket.destroy();
      return;
    }
    const isJson = answer.body !== undefined && typeof answer.body !== 'string';
    res.writeHead(answer.status, {
      ...(isJson ? { 'content-type': 'application/json' } : {}),
      ...answer.headers,
    });
    res.end(
      answer.body === undefined
        ? undefined
        : typeof answer.body === 'string'
          ? answer.body
          : JSON.stringify(answer.body),
    );
  });
  return { ...(await listenOnLoopback(server)), requests };
}

type Closable = { close(): Promise<void> };

/**
 * For a file's tests: `opened(x)` returns x and closes it after the test,
 * the last opened first (clients before the servers they talk to).
 */
export function closingAfterEach(): <T extends Closable>(opened: T) => T {
  const open: Closable[] = [];
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
  });
  return (o) => {
    open.push(o);
    return o;
  };
}

/** A scripted server and a client of it, both closed after the test. */
export async function clientOf(
  opened: ReturnType<typeof closingAfterEach>,
  handler: Parameters<typeof loopback>[0],
  options: Omit<TokenplaneClientOptions, 'endpoint'>,
) {
  const server = opened(await loopback(handler));
  const client = opened(new TokenplaneClient({ endpoint: server.url, ...options }));
  return { server, client };
}

export type Reply = Exclude<Answer, string>;

export function problem(
  slug: string,
  status: number,
  extra: Record<string, unknown> = {},
): Reply & { headers: Record<string, string> } {
  return {
    status,
    headers: { 'content-type': 'application/problem+json', 'x-request-id': `req-${slug}` },
    body: {
      type: `https://tokenplane.dev/problems/${slug}`,
      title: `${slug} title`,
      status,
      ...extra,
    },
  };
}

export const ids = {
  entity: '00000000-0000-4000-8000-000000000001',
  token: '00000000-0000-4000-8000-000000000002',
  child: '00000000-0000-4000-8000-000000000003',
};
const now = '2026-01-01T00:00:00.000Z';

export const entityBody = (id = ids.entity, extra: Record<string, unknown> = {}) => ({
  id,
  name: 'acme',
  kind: 'reseller',
  parentId: null,
  tier: 'lite',
  tokenQuota: 1,
  tokenCount: 1,
  createdAt: now,
  updatedAt: now,
  ...extra,
});

/** The README "Token permissions and limits" fields of a token created without any of them. */
export const SECRET_DEFAULTS = {
  type: 'secret',
  scopes: ['metrics:read'],
  allowedOrigins: [],
  allowedIps: [],
  rateLimit: null,
  usageLimit: null,
  usage: null,
  requireSignedRequests: false,
};

export const tokenBody = (extra: Record<string, unknown> = {}) => ({
  id: ids.token,
  entityId: ids.entity,
  name: 'ci',
  status: 'active',
  expiresAt: null,
  createdAt: now,
  updatedAt: now,
  lastUsedAt: null,
  hint: 'tpt_…abcd',
  ...SECRET_DEFAULTS,
  ...extra,
});
