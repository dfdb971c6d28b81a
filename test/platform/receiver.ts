/**
 * A real webhook receiver on loopback for the lifecycle suites: records every
 * POST (headers and raw body), answers 204, or 500 while told to fail.
 */
import http from 'node:http';
import { Webhook } from 'standardwebhooks';
import { listenOnLoopback } from '../harness/ports.ts';
import type { Platform } from './helpers.ts';

export type Received = {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON payloads
  payload: any;
};

export type Receiver = {
  url: string;
  received: Received[];
  /** Answer 500 to the next `n` requests. */
  failNext(n: number): void;
  /** The payloads whose signature verifies with `secret` (throws on the first that does not). */
  verified(secret: string): Received['payload'][];
  close(): Promise<void>;
};

export async function startReceiver(port = 0): Promise<Receiver> {
  const received: Received[] = [];
  let failures = 0;
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    if (failures > 0) {
      failures--;
      res.writeHead(500).end('receiver failing on purpose');
      return;
    }
    received.push({
      id: String(req.headers['webhook-id']),
      timestamp: String(req.headers['webhook-timestamp']),
      signature: String(req.headers['webhook-signature']),
      body,
      payload: JSON.parse(body),
    });
    res.writeHead(204).end();
  });
  const { url, close } = await listenOnLoopback(server, port);
  return {
    url: `${url}/hook`,
    received,
    failNext(n) {
      failures = n;
    },
    verified(secret) {
      const wh = new Webhook(secret);
      return received.map((r) =>
        (
          wh as { verify(body: string, headers: Record<string, string>): Received['payload'] }
        ).verify(r.body, {
          'webhook-id': r.id,
          'webhook-timestamp': r.timestamp,
          'webhook-signature': r.signature,
        }),
      );
    },
    close,
  };
}

/**
 * A fresh customer (no default token) whose webhook sends `events` to `url`;
 * `firstDelivery()` reads the first entry of that webhook's delivery log.
 */
export async function subscribedCustomer(p: Platform, name: string, url: string, events: string[]) {
  const entity = (await p.api.post('/v1/entities', { name, kind: 'customer', defaultToken: false }))
    .body;
  const hook = (await p.api.post(`/v1/entities/${entity.id}/webhooks`, { url, events })).body;
  // p.api, not a copy: the platform may have been restarted since
  const firstDelivery = async () =>
    (await p.api.get(`/v1/webhooks/${hook.id}/deliveries`)).body.items[0];
  return { entity, hook, firstDelivery };
}
