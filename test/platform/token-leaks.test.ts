/**
 * Leak response (SPEC §8): POST /v1/token-leaks in the shape of GitHub's
 * secret-scanning partner alerts. A reported token is refused on the very next
 * request, audited and announced as token.exposed; a value rotated out but
 * still in its grace loses the grace and the current value keeps working;
 * other values are labelled false positives. Administrator key only.
 */
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../../platform/domain/secret-format.ts';
import { ENGINES, isProblem, startPlatform, stopPostgres } from './helpers.ts';
import { startReceiver, subscribedCustomer, until } from './receiver.ts';

afterAll(stopPostgres);

const hash = (v: string) => createHash('sha256').update(v).digest('hex');

describe.each(ENGINES)('token leaks on %s', (engine) => {
  it('disable the matching tokens at once, audit them and announce token.exposed', async () => {
    const p = await startPlatform(engine, { webhookPollMs: 30 });
    const receiver = await startReceiver();
    try {
      const { entity, hook } = await subscribedCustomer(p, 'Leaky', receiver.url, [
        'token.exposed',
      ]);
      await p.api.patch(`/v1/entities/${entity.id}`, { tier: 'advanced' });
      const leaked = (await p.api.post(`/v1/entities/${entity.id}/tokens`, { name: 'leaked' }))
        .body;
      const rotating = (await p.api.post(`/v1/entities/${entity.id}/tokens`, { name: 'rotating' }))
        .body;
      const current = (
        await p.api.post(`/v1/tokens/${rotating.id}/rotate`, { gracePeriodSeconds: 3600 })
      ).body;
      expect((await p.api.metric(leaked.value, 'requests')).status).toBe(200);
      expect((await p.api.metric(rotating.value, 'requests')).status).toBe(200); // in grace

      const unknown = generateSecret('apiToken');
      const reported = [
        {
          token: leaked.value,
          type: 'tokenplane_api_token',
          url: 'https://gist.example/1',
          source: 'gist',
        },
        {
          token: rotating.value,
          type: 'tokenplane_api_token',
          url: 'https://example.com/a',
          source: 'content',
        },
        {
          token: unknown,
          type: 'tokenplane_api_token',
          url: 'https://example.com/b',
          source: 'content',
        },
        { token: 'not-a-token', type: 'tokenplane_api_token', url: null, source: 'commit' },
      ];
      const res = await p.api.post('/v1/token-leaks', reported);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(
        reported.map((r, i) => ({
          token_hash: hash(r.token),
          token_type: r.type,
          label: i < 2 ? 'true_positive' : 'false_positive',
        })),
      );
      expect(res.text).not.toContain(leaked.value);

      // refused on the very next request; the rotated-out value loses its grace only
      expect(isProblem(await p.api.metric(leaked.value, 'requests'), 'unauthorized', 401)).toBe(
        true,
      );
      expect(isProblem(await p.api.metric(rotating.value, 'requests'), 'unauthorized', 401)).toBe(
        true,
      );
      expect((await p.api.metric(current.value, 'requests')).status).toBe(200);
      expect((await p.api.get(`/v1/tokens/${leaked.id}`)).body.status).toBe('disabled');
      expect((await p.api.get(`/v1/tokens/${rotating.id}`)).body.status).toBe('active');

      const audit = (await p.api.get(`/v1/audit-events?entityId=${entity.id}`)).body.items.filter(
        (e: { action: string }) => e.action === 'token.expose',
      );
      expect(audit.map((e: { targetId: string }) => e.targetId)).toEqual([leaked.id, rotating.id]);
      expect(audit[0].detail).toContain('token disabled');
      expect(audit[1].detail).toContain('rotation grace ended');

      await until(() => receiver.received.length === 2, 'two token.exposed deliveries');
      const payloads = receiver.verified(hook.secret);
      expect(payloads.map((x) => [x.type, x.data.token.id, x.data.exposure])).toEqual([
        [
          'token.exposed',
          leaked.id,
          { url: 'https://gist.example/1', source: 'gist', value: 'current' },
        ],
        [
          'token.exposed',
          rotating.id,
          { url: 'https://example.com/a', source: 'content', value: 'previous' },
        ],
      ]);
      const bodies = receiver.received.map((r) => r.body).join('\n');
      for (const v of [leaked.value, rotating.value, current.value])
        expect(bodies).not.toContain(v);
    } finally {
      await receiver.close();
      await p.close();
    }
  });

  it('are reported with the administrator key only', async () => {
    const p = await startPlatform(engine);
    try {
      const e = (await p.api.post('/v1/entities', { name: 'Keyed', kind: 'customer' })).body;
      const key = (
        await p.api.post(`/v1/entities/${e.id}/access-keys`, { name: 'ops', role: 'admin' })
      ).body.key;
      const report = [{ token: e.defaultToken.value, type: 't', url: null, source: null }];
      expect(
        isProblem(await p.api.post('/v1/token-leaks', report, { key }), 'forbidden', 403),
      ).toBe(true);
      expect((await p.api.metric(e.defaultToken.value, 'requests')).status).toBe(200);
      expect(
        isProblem(await p.api.post('/v1/token-leaks', { token: 'x' }), 'validation', 400),
      ).toBe(true);
    } finally {
      await p.close();
    }
  });
});
