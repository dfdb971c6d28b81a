/**
 * Time-driven events (README "Lifecycle events, leak response, revocation across servers") on an injected clock: token.expiring 7 days and
 * 1 day before expiry, token.expired, token.usage_low at 80 % of a usage
 * limit — each sent once, also with two servers scanning one PostgreSQL
 * database at the same time.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../harness/wait.ts';
import { ENGINES, type Platform, startPlatform, startReplica } from './helpers.ts';
import { startReceiver, subscribedCustomer } from './receiver.ts';

const DAY = 86_400_000;
const scan = (p: Platform) => p.server.app.tokenplane.context.notices.runOnce();

describe.each(ENGINES)('lifecycle notices on %s', (engine) => {
  it('announce expiry 7 days and 1 day ahead, then the expiry, once each', async () => {
    const p = await startPlatform(engine, { webhookPollMs: 30 });
    const receiver = await startReceiver();
    try {
      const { entity } = await subscribedCustomer(p, 'Expiring', receiver.url, [
        'token.expiring',
        'token.expired',
      ]);
      const expiresAt = new Date(p.clock.now() + 10 * DAY).toISOString();
      const token = (
        await p.api.post(`/v1/entities/${entity.id}/tokens`, { name: 'soon', expiresAt })
      ).body;
      const seen = () => receiver.received.map((r) => [r.payload.type, r.payload.data.notice]);

      expect(await scan(p)).toBe(0);
      p.clock.advance(3.5 * DAY); // 6.5 days left
      expect(await scan(p)).toBe(1);
      expect(await scan(p)).toBe(0);
      await waitFor('the 7-day notice', () => receiver.received.length === 1);
      p.clock.advance(5.6 * DAY); // 0.9 days left
      expect(await scan(p)).toBe(1);
      await waitFor('the 1-day notice', () => receiver.received.length === 2);
      p.clock.advance(DAY); // expired
      expect(await scan(p)).toBe(1);
      expect(await scan(p)).toBe(0);
      await waitFor('the expiry', () => receiver.received.length === 3);
      expect(seen()).toEqual([
        ['token.expiring', '7d'],
        ['token.expiring', '1d'],
        ['token.expired', undefined],
      ]);
      for (const r of receiver.received) {
        expect(r.payload.data.token).toMatchObject({ id: token.id, expiresAt });
        expect(r.body).not.toContain(token.value);
      }

      // a renewed expiry earns new notices
      const renewed = new Date(p.clock.now() + 0.5 * DAY).toISOString();
      await p.api.patch(`/v1/tokens/${token.id}`, { expiresAt: renewed });
      expect(await scan(p)).toBe(1);
      await waitFor('the notice of the new expiry', () => receiver.received.length === 4);
      expect(receiver.received[3]?.payload.data).toMatchObject({
        notice: '1d',
        token: { expiresAt: renewed },
      });
    } finally {
      await receiver.close();
      await p.close();
    }
  });

  it('announce low usage at 80 % of the period, once', async () => {
    const p = await startPlatform(engine, { webhookPollMs: 30, lastUsedFlushMs: 50 });
    const receiver = await startReceiver();
    try {
      const { entity } = await subscribedCustomer(p, 'Metered', receiver.url, ['token.usage_low']);
      const token = (
        await p.api.post(`/v1/entities/${entity.id}/tokens`, {
          name: 'metered',
          usageLimit: { limit: 10, period: 'day' },
        })
      ).body;
      for (let i = 0; i < 7; i++) {
        expect((await p.api.metric(token.value, 'requests')).status).toBe(200);
      }
      await new Promise((r) => setTimeout(r, 300)); // usage reports are batched
      expect(await scan(p)).toBe(0);
      expect((await p.api.metric(token.value, 'requests')).status).toBe(200); // 8 of 10
      await waitFor('the usage notice', async () => (await scan(p)) === 1);
      await waitFor('the usage_low delivery', () => receiver.received.length === 1);
      expect(receiver.received[0]?.payload).toMatchObject({
        type: 'token.usage_low',
        data: { token: { id: token.id, usage: { limit: 10, period: 'day' } } },
      });
      expect(receiver.received[0]?.payload.data.token.usage.used).toBeGreaterThanOrEqual(8);
      expect((await p.api.metric(token.value, 'requests')).status).toBe(200);
      await new Promise((r) => setTimeout(r, 300));
      expect(await scan(p)).toBe(0);
    } finally {
      await receiver.close();
      await p.close();
    }
  });
});

describe('lifecycle notices with two servers on one PostgreSQL database', () => {
  it('are sent once when both scan at the same time', async () => {
    const a = await startPlatform('postgres', { webhookPollMs: 30 });
    const b = await startReplica(a, { webhookPollMs: 30 });
    const receiver = await startReceiver();
    try {
      const { entity } = await subscribedCustomer(a, 'Twice', receiver.url, ['token.expired']);
      await a.api.patch(`/v1/entities/${entity.id}`, { tier: 'advanced' });
      for (let i = 0; i < 5; i++) {
        await a.api.post(`/v1/entities/${entity.id}/tokens`, {
          name: `t${i}`,
          expiresAt: new Date(a.clock.now() + DAY).toISOString(),
        });
      }
      a.clock.advance(DAY + 1000);
      let sent = 0;
      for (let round = 0; round < 5; round++) {
        const counts = await Promise.all([scan(a), b.app.tokenplane.context.notices.runOnce()]);
        sent += counts[0] + counts[1];
      }
      expect(sent).toBe(5);
      await waitFor('five expiry notices', () => receiver.received.length === 5);
      await new Promise((r) => setTimeout(r, 300));
      expect(receiver.received).toHaveLength(5);
    } finally {
      await receiver.close();
      await b.close();
      await a.close();
    }
  });
});
