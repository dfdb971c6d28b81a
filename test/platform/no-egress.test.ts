/**
 * README "Lifecycle events, leak response, revocation across servers", Egress: a test server (webhook egress `allowlist`, loopback alone,
 * as every test server runs — test/platform/helpers.ts) handed the kind of
 * webhook URLs a fuzzer invents looks no name up and connects to nothing
 * outside loopback: not when the webhooks are created, not when their events
 * are delivered, not for webhooks stored under another setting. The server
 * runs in this process, observed through the requests it hands libuv
 * (test/harness/egress.ts); the controls at the end show the observer seeing
 * this process's own look-ups and connections.
 */
import { lookup } from 'node:dns/promises';
import { describe, expect, it } from 'vitest';
import { observeEgress } from '../harness/egress.ts';
import { waitFor } from '../harness/wait.ts';
import { advancedEntity, startPlatform } from './helpers.ts';
import { startReceiver } from './receiver.ts';

/** Hosts that are loopback, however written: accepted, delivered on loopback. */
const LOOPBACK_HOSTS = [
  '127.0.0.1',
  '127.0.0.2',
  '[::1]',
  'localhost',
  'LocalHost',
  'localhost.',
  'api.localhost',
  '2130706433',
  '0x7f000001',
  '0177.0.0.1',
  '127.1',
  '[::ffff:127.0.0.1]',
];

/** Everything else: refused at create, none looked up. */
const REFUSED_HOSTS = [
  'example.com',
  'hooks.example',
  'example.invalid',
  'xn--nxasmq6b.example',
  'bücher.example',
  'a.b.c.d.e.f.example',
  'metadata.google.internal',
  '127.0.0.1.nip.io',
  'localtest.me',
  'localhost.localdomain',
  'ip6-localhost',
  'vm',
  'x',
  'exa_mple.com',
  '8.8.8.8',
  '1.1.1.1',
  '134744072',
  '0x08.0x08.0x08.0x08',
  '[2001:4860:4860::8888]',
  '10.0.0.1',
  '192.168.0.1',
  '169.254.169.254',
  '100.64.0.1',
  '0.0.0.0',
  '255.255.255.255',
  '224.0.0.1',
  '[::]',
  '[fd00::1]',
  '[fe80::1]',
  '[::127.0.0.1]',
  '[64:ff9b::127.0.0.1]',
  '[2002:7f00:1::]',
  '[::ffff:0:7f00:1]',
];

const EVENTS = ['token.created', 'token.updated', 'token.rotated', 'token.deleted'];

/** Each host written the ways a fuzzer varies a URL around it. */
function urlsOf(host: string, receiverPort: string): string[] {
  return ['http', 'https'].flatMap((scheme) =>
    ['', ':8443', `:${receiverPort}`].map((port) => `${scheme}://u:p@${host}${port}/hook?q=1`),
  );
}

describe('a test server with loopback-only webhook egress', () => {
  it('takes invented webhook URLs and delivers their events without a look-up or a connection outside loopback', async () => {
    const egress = observeEgress();
    const receiver = await startReceiver();
    const p = await startPlatform('sqlite', { webhookPollMs: 20 });
    try {
      const port = new URL(receiver.url).port;
      const entity = await advancedEntity(p, 'Fuzzed', 'reseller');
      const create = (url: string) =>
        p.api.post(`/v1/entities/${entity.id}/webhooks`, { url, events: EVENTS });

      const hookIds: string[] = [];
      for (const host of LOOPBACK_HOSTS) {
        for (const url of urlsOf(host, port)) {
          const res = await create(url);
          expect(res.status, url).toBe(201);
          hookIds.push(res.body.id);
        }
      }
      for (const host of REFUSED_HOSTS) {
        for (const url of urlsOf(host, port)) {
          const res = await create(url);
          expect(res.status, url).toBe(400);
          expect(res.body.errors, url).toEqual([
            {
              path: 'url',
              message: expect.stringContaining('TOKENPLANE_WEBHOOK_ALLOWED_NETWORKS'),
            },
          ]);
        }
      }

      // Webhooks stored while the server delivered elsewhere (written as such
      // here): the sender refuses them, again without a look-up.
      const planted: Record<string, string> = {
        'http://hooks.example/planted': 'hooks.example is a host name',
        'https://8.8.8.8/planted': '8.8.8.8, a public address',
      };
      const plantedIds: Record<string, string> = {};
      for (const url of Object.keys(planted)) {
        const hook = (await create(receiver.url)).body;
        await p.server.app.tokenplane.context.store.db.run(
          'UPDATE webhooks SET url = $1 WHERE id = $2',
          [url, hook.id],
        );
        plantedIds[url] = hook.id;
      }

      // Every event kind, delivered to every webhook.
      const token = (await p.api.post(`/v1/entities/${entity.id}/tokens`, { name: 'ci' })).body;
      await p.api.patch(`/v1/tokens/${token.id}`, { name: 'ci-renamed' });
      await p.api.post(`/v1/tokens/${token.id}/rotate`, {});
      await p.api.delete(`/v1/tokens/${token.id}`);
      const deliveries = async (hookId: string) =>
        (await p.api.get(`/v1/webhooks/${hookId}/deliveries`)).body.items as {
          attempts: number;
          error: string | null;
        }[];
      const allIds = [...hookIds, ...Object.values(plantedIds)];
      await waitFor('one attempt of every delivery', async () => {
        for (const id of allIds) {
          const items = await deliveries(id);
          if (items.length < EVENTS.length || items.some((d) => d.attempts === 0)) return false;
        }
        return true;
      });
      expect(receiver.received.length).toBeGreaterThan(0);
      for (const [url, why] of Object.entries(planted)) {
        for (const d of await deliveries(plantedIds[url] as string)) {
          expect(d.error, url).toContain(`destination refused: ${why}`);
        }
      }

      expect(egress.lookups()).toEqual([]);
      expect(egress.outside()).toEqual([]);
      // Controls: the observer saw this process's connections to the server and the
      // receiver, and sees a look-up when one is made.
      expect(egress.connections()).toContain(`127.0.0.1:${port}`);
      expect(egress.connections()).toContain(`127.0.0.1:${p.server.port}`);
      await lookup('localhost');
      expect(egress.lookups()).toEqual(['localhost']);
    } finally {
      egress.stop();
      await p.close();
      await receiver.close();
    }
  });
});
