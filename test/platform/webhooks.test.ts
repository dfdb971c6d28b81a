/**
 * Webhooks (README "Lifecycle events, leak response, revocation across servers") against real receivers on loopback: subtree events signed
 * per Standard Webhooks (verified with the `standardwebhooks` library), no
 * token value in any payload, access keys scoped as everywhere else, retries
 * with backoff on an injected clock, delivery across a restart, and two
 * servers on one PostgreSQL database sending each event once.
 */
import { describe, expect, it } from 'vitest';
import type { RunningServer } from '../../platform/main.ts';
import { waitFor } from '../harness/wait.ts';
import { Api, ENGINES, isProblem, type Platform, startPlatform, startReplica } from './helpers.ts';
import { type Receiver, startReceiver, subscribedCustomer } from './receiver.ts';

async function reseller(p: Platform) {
  const parent = (
    await p.api.post('/v1/entities', { name: 'Acme', kind: 'reseller', tier: 'advanced' })
  ).body;
  const child = (
    await p.api.post('/v1/entities', {
      name: 'Acme customer',
      kind: 'customer',
      parentId: parent.id,
      tier: 'advanced',
    })
  ).body;
  return { parent, child };
}

describe.each(ENGINES)('webhooks on %s', (engine) => {
  it('deliver the signed events of the subtree, never a token value', async () => {
    const p = await startPlatform(engine, { webhookPollMs: 50 });
    const receiver = await startReceiver();
    try {
      const { parent, child } = await reseller(p);
      const created = await p.api.post(`/v1/entities/${parent.id}/webhooks`, {
        url: receiver.url,
        events: ['token.created', 'token.updated', 'token.rotated', 'token.deleted'],
      });
      expect(created.status).toBe(201);
      expect(created.body.secret).toMatch(/^whsec_/);
      const listed = await p.api.get(`/v1/entities/${parent.id}/webhooks`);
      expect(listed.body.items).toEqual([
        {
          id: created.body.id,
          entityId: parent.id,
          url: receiver.url,
          events: created.body.events,
          createdAt: created.body.createdAt,
        },
      ]);
      expect(listed.text).not.toContain(created.body.secret);

      const token = (await p.api.post(`/v1/entities/${child.id}/tokens`, { name: 'ci' })).body;
      await p.api.patch(`/v1/tokens/${token.id}`, { name: 'ci-renamed' });
      const rotated = (await p.api.post(`/v1/tokens/${token.id}/rotate`, {})).body;
      await p.api.delete(`/v1/tokens/${token.id}`);

      await waitFor('four deliveries', () => receiver.received.length >= 4);
      const payloads = receiver.verified(created.body.secret);
      expect(payloads.map((x) => x.type)).toEqual([
        'token.created',
        'token.updated',
        'token.rotated',
        'token.deleted',
      ]);
      for (const x of payloads) {
        expect(x.data.entityId).toBe(child.id);
        expect(x.data.token.id).toBe(token.id);
      }
      expect(payloads[1]?.data.token.name).toBe('ci-renamed');
      const bodies = receiver.received.map((r) => r.body).join('\n');
      for (const secret of [token.value, rotated.value, p.server.adminKey]) {
        expect(bodies).not.toContain(secret);
      }
      expect(() => receiver.verified(`whsec_${Buffer.alloc(32).toString('base64')}`)).toThrow();

      const readLog = () => p.api.get(`/v1/webhooks/${created.body.id}/deliveries`);
      // the receiver may answer before the sender has recorded the outcome
      await waitFor('the delivery log', async () =>
        (await readLog()).body.items.every((d: { status: string }) => d.status === 'delivered'),
      );
      const log = await readLog();
      expect(log.status).toBe(200);
      expect(log.body.items.map((d: { eventType: string }) => d.eventType)).toEqual(
        payloads.map((x) => x.type),
      );
      for (const d of log.body.items) {
        expect(d).toMatchObject({ status: 'delivered', attempts: 1, responseStatus: 204 });
      }
      expect(new Set(receiver.received.map((r) => r.id))).toEqual(
        new Set(log.body.items.map((d: { eventId: string }) => d.eventId)),
      );
    } finally {
      await receiver.close();
      await p.close();
    }
  });

  it('are scoped to the access key’s subtree and need the admin role to change', async () => {
    const p = await startPlatform(engine, { webhookPollMs: 50 });
    const receiver = await startReceiver();
    try {
      const { parent, child } = await reseller(p);
      const other = (
        await p.api.post('/v1/entities', { name: 'Other', kind: 'customer', defaultToken: false })
      ).body;
      const keyOf = async (entityId: string, role: string) =>
        (await p.api.post(`/v1/entities/${entityId}/access-keys`, { name: role, role })).body.key;
      const childAdmin = await keyOf(child.id, 'admin');
      const childViewer = await keyOf(child.id, 'viewer');
      const otherAdmin = await keyOf(other.id, 'admin');

      const subscribe = (entityId: string, key: string) =>
        p.api.post(
          `/v1/entities/${entityId}/webhooks`,
          { url: receiver.url, events: ['token.created'] },
          { key },
        );
      // a child's key may subscribe its own subtree, not its parent's
      const own = await subscribe(child.id, childAdmin);
      expect(own.status).toBe(201);
      expect(isProblem(await subscribe(parent.id, childAdmin), 'not-found', 404)).toBe(true);
      expect(isProblem(await subscribe(child.id, childViewer), 'forbidden', 403)).toBe(true);
      const log = `/v1/webhooks/${own.body.id}/deliveries`;
      expect((await p.api.get(log, { key: childViewer })).status).toBe(200);
      expect(isProblem(await p.api.get(log, { key: otherAdmin }), 'not-found', 404)).toBe(true);
      const remove = `/v1/webhooks/${own.body.id}`;
      expect(isProblem(await p.api.delete(remove, { key: otherAdmin }), 'not-found', 404)).toBe(
        true,
      );
      // bad input says what is wrong
      const bad = await p.api.post(`/v1/entities/${child.id}/webhooks`, {
        url: 'ftp://example.test/x',
        events: ['token.nope'],
      });
      expect(isProblem(bad, 'validation', 400)).toBe(true);
      expect(bad.text).toContain('url');
      expect(bad.text).toContain('events');

      // events of another tree never reach this webhook
      await p.api.post(`/v1/entities/${other.id}/tokens`, { name: 'elsewhere' });
      await p.api.post(`/v1/entities/${child.id}/tokens`, { name: 'here' });
      await waitFor('a delivery', () => receiver.received.length >= 1);
      await new Promise((r) => setTimeout(r, 300));
      expect(receiver.received.map((r) => r.payload.data.token.name)).toEqual(['here']);

      expect((await p.api.delete(`/v1/webhooks/${own.body.id}`, { key: childAdmin })).status).toBe(
        204,
      );
      expect(
        isProblem(await p.api.get(`/v1/webhooks/${own.body.id}/deliveries`), 'not-found', 404),
      ).toBe(true);
      const audit = await p.api.get(`/v1/audit-events?entityId=${child.id}`);
      expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(
        expect.arrayContaining(['webhook.create', 'webhook.delete']),
      );
    } finally {
      await receiver.close();
      await p.close();
    }
  });

  it('retry with backoff after a receiver failed 3 times', async () => {
    const p = await startPlatform(engine, { webhookPollMs: 30 });
    const receiver = await startReceiver();
    try {
      const {
        entity: e,
        hook,
        firstDelivery: delivery,
      } = await subscribedCustomer(p, 'Flaky', receiver.url, ['token.created']);
      receiver.failNext(3);
      await p.api.post(`/v1/entities/${e.id}/tokens`, { name: 'retry-me' });
      await waitFor('the first attempt', async () => (await delivery())?.attempts === 1);
      const first = await delivery();
      expect(first).toMatchObject({ status: 'pending', responseStatus: 500, error: 'HTTP 500' });
      // nothing is tried again before its time
      await new Promise((r) => setTimeout(r, 200));
      expect((await delivery()).attempts).toBe(1);
      for (const [attempts, wait] of [
        [2, 5_000],
        [3, 5 * 60_000],
        [4, 30 * 60_000],
      ] as const) {
        p.clock.advance(wait);
        await waitFor(`attempt ${attempts}`, async () => (await delivery())?.attempts === attempts);
      }
      expect(await delivery()).toMatchObject({
        status: 'delivered',
        attempts: 4,
        responseStatus: 204,
        error: null,
        nextAttemptAt: null,
      });
      expect(receiver.received).toHaveLength(1);
      expect(receiver.received[0]?.id).toBe(first.eventId);
      expect(receiver.verified(hook.secret)).toHaveLength(1);
    } finally {
      await receiver.close();
      await p.close();
    }
  });

  it('deliver what was committed before a restart', async () => {
    const p = await startPlatform(engine, { webhookPollMs: 30 });
    let receiver: Receiver | undefined = await startReceiver();
    try {
      const port = Number(new URL(receiver.url).port);
      const { entity: e, firstDelivery: delivery } = await subscribedCustomer(
        p,
        'Durable',
        receiver.url,
        ['token.created'],
      );
      await receiver.close(); // the receiver is down when the event is written
      receiver = undefined;
      await p.api.post(`/v1/entities/${e.id}/tokens`, { name: 'survivor' });
      await waitFor('the failed attempt', async () => (await delivery())?.attempts === 1);
      await p.restart();
      receiver = await startReceiver(port);
      p.clock.advance(5_000);
      await waitFor('delivery after the restart', () => (receiver?.received.length ?? 0) === 1);
      expect(receiver.received[0]?.payload.data.token.name).toBe('survivor');
      await waitFor('the recorded outcome', async () => (await delivery()).status === 'delivered');
      expect(await delivery()).toMatchObject({ status: 'delivered', attempts: 2 });
    } finally {
      await receiver?.close();
      await p.close();
    }
  });
});

describe('webhooks with two servers on one PostgreSQL database', () => {
  it('send each event exactly once', async () => {
    const a = await startPlatform('postgres', { webhookPollMs: 10 });
    const receiver = await startReceiver();
    let b: RunningServer | undefined;
    try {
      b = await startReplica(a, { webhookPollMs: 10 });
      const apiB = new Api(b.url, b.adminKey);
      const e = (await a.api.post('/v1/entities', { name: 'Busy', kind: 'customer' })).body;
      await a.api.post(`/v1/entities/${e.id}/webhooks`, {
        url: receiver.url,
        events: ['token.updated'],
      });
      const n = 60;
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          (i % 2 ? a.api : apiB).patch(`/v1/tokens/${e.defaultToken.id}`, { name: `n${i}` }),
        ),
      );
      await waitFor(`${n} deliveries`, () => receiver.received.length >= n);
      await new Promise((r) => setTimeout(r, 300)); // room for a duplicate to show up
      expect(receiver.received).toHaveLength(n);
      expect(new Set(receiver.received.map((r) => r.id)).size).toBe(n);
    } finally {
      await b?.close();
      await receiver.close();
      await a.close();
    }
  });
});
