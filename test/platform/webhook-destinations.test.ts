/**
 * Where webhooks may deliver (SSRF guard): a server refuses webhook URLs whose
 * host is or resolves to a loopback, private, link-local or otherwise
 * non-public address — 400 `validation` on `url`, saying why and what to do —
 * unless its allowed networks list it (the other suites' loopback receivers
 * are allowed that way, test/platform/helpers.ts). The sender checks again on
 * every attempt, on the address it connects to: a webhook created while
 * allowed never reaches a destination the server now refuses.
 */
import { describe, expect, it } from 'vitest';
import { isProblem, startPlatform } from './helpers.ts';
import { startReceiver, subscribedCustomer, until } from './receiver.ts';

describe('webhook destinations', () => {
  it('non-public destinations are refused at creation, with the reason and the fix', async () => {
    const p = await startPlatform('sqlite', { webhookAllowedNetworks: [] });
    try {
      const entity = (
        await p.api.post('/v1/entities', { name: 'Guarded', kind: 'customer', defaultToken: false })
      ).body;
      const refused: [string, RegExp][] = [
        ['http://127.0.0.1:9/hook', /127\.0\.0\.1, a loopback address/],
        ['http://localhost:9/hook', /localhost resolves to (127\.0\.0\.1|::1), a loopback address/],
        ['http://[::1]:9/hook', /::1, a loopback address/],
        ['http://[::ffff:10.0.0.1]/hook', /10\.0\.0\.1, a private \(RFC 1918\) address/],
        ['https://192.168.1.20/hook', /a private \(RFC 1918\) address/],
        ['http://169.254.169.254/latest/meta-data', /169\.254\.169\.254, a link-local address/],
        ['http://[fd00::1]/hook', /a unique-local \(private IPv6\) address/],
        ['http://100.64.0.1/hook', /a carrier-grade NAT address/],
        ['http://0.0.0.0:9/hook', /the unspecified address/],
      ];
      for (const [url, reason] of refused) {
        const res = await p.api.post(`/v1/entities/${entity.id}/webhooks`, {
          url,
          events: ['token.created'],
        });
        expect(isProblem(res, 'validation', 400), url).toBe(true);
        expect(res.body.errors).toEqual([{ path: 'url', message: expect.stringMatching(reason) }]);
        expect(res.body.errors[0].message).toContain('TOKENPLANE_WEBHOOK_ALLOWED_NETWORKS');
      }
      // A public address is accepted, and so is a name that does not resolve (yet):
      // nothing is known against it, and every attempt checks again. (No delivery
      // is made: nothing happens to the entity.)
      const accepted = ['https://8.8.8.8/hook', 'https://hooks.invalid/hook'];
      for (const url of accepted) {
        const ok = await p.api.post(`/v1/entities/${entity.id}/webhooks`, {
          url,
          events: ['token.created'],
        });
        expect(ok.status, url).toBe(201);
      }
      const listed = (await p.api.get(`/v1/entities/${entity.id}/webhooks`)).body.items;
      expect(listed.map((h: { url: string }) => h.url).sort()).toEqual(accepted);
    } finally {
      await p.close();
    }
  });

  it('a listed network is allowed; the sender refuses it again once it is no longer listed', async () => {
    const receiver = await startReceiver();
    const options = { webhookAllowedNetworks: ['127.0.0.1/32'], webhookPollMs: 30 };
    const p = await startPlatform('sqlite', options);
    try {
      const port = new URL(receiver.url).port;
      const byAddress = await subscribedCustomer(p, 'By address', receiver.url, ['token.created']);
      const byName = await subscribedCustomer(p, 'By name', `http://localhost:${port}/hook`, [
        'token.created',
      ]);
      expect(byAddress.hook.id).toBeTruthy();
      expect(byName.hook.id).toBeTruthy();
      // Room for a second token (a Lite entity holds one).
      await p.api.patch(`/v1/entities/${byAddress.entity.id}`, { tier: 'advanced' });
      await p.api.post(`/v1/entities/${byAddress.entity.id}/tokens`, { name: 'allowed' });
      await until(() => receiver.received.length === 1, 'the delivery to a listed network');

      // The same database, started again without the loopback listed.
      options.webhookAllowedNetworks = [];
      await p.restart();
      for (const { entity } of [byAddress, byName]) {
        const res = await p.api.post(`/v1/entities/${entity.id}/tokens`, { name: 'refused' });
        expect(res.status).toBe(201);
      }
      const refusal = async (hookId: string) => {
        const items = (await p.api.get(`/v1/webhooks/${hookId}/deliveries`)).body.items;
        return items
          .map((d: { error: string | null }) => d.error)
          .find((e: string | null) => e?.startsWith('destination refused')) as string | undefined;
      };
      let direct: string | undefined;
      let named: string | undefined;
      await until(async () => {
        direct ??= await refusal(byAddress.hook.id);
        named ??= await refusal(byName.hook.id);
        return direct !== undefined && named !== undefined;
      }, 'the sender refusing both destinations');
      expect(direct).toMatch(/127\.0\.0\.1, a loopback address/);
      expect(named).toMatch(/localhost resolves to .*a loopback address/);
      expect(receiver.received).toHaveLength(1);
    } finally {
      await p.close();
      await receiver.close();
    }
  });
});
