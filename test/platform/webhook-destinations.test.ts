/**
 * Where webhooks may deliver (README "Lifecycle events, leak response, revocation across servers", Egress). By default (egress `public`,
 * the SSRF guard) a server refuses webhook URLs whose host is or resolves to a
 * loopback, private, link-local or otherwise non-public address — 400
 * `validation` on `url`, saying why and what to do — unless its allowed
 * networks list it; loopback in disguise (a trailing-dot or sub-`localhost`
 * name, decimal/octal/hex IPv4, IPv4-mapped/compatible IPv6…) is loopback.
 * With egress `allowlist` (every other suite's servers: loopback alone,
 * test/platform/helpers.ts) only the listed networks are reached, public
 * addresses refused too. The sender checks again on every attempt, on the
 * address it connects to: a webhook created while allowed never reaches a
 * destination the server now refuses. No URL here is looked up outside the
 * machine: addresses and localhost names need no look-up (no-egress.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { startServer } from '../../platform/main.ts';
import { waitFor } from '../harness/wait.ts';
import { isProblem, type Platform, type Reply, startPlatform } from './helpers.ts';
import { startReceiver, subscribedCustomer } from './receiver.ts';

/** POSTs each URL as a webhook of a fresh entity; the answer to each. */
async function createEach(p: Platform, urls: readonly string[]): Promise<Map<string, Reply>> {
  const entity = (
    await p.api.post('/v1/entities', { name: 'Guarded', kind: 'customer', defaultToken: false })
  ).body;
  const answers = new Map<string, Reply>();
  for (const url of urls) {
    const events = ['token.created'];
    answers.set(url, await p.api.post(`/v1/entities/${entity.id}/webhooks`, { url, events }));
  }
  return answers;
}

/** Each answer is 400 `validation` with one error, on `url`, matching its reason. */
function expectRefused(answers: Map<string, Reply>, refused: readonly [string, RegExp][]) {
  for (const [url, reason] of refused) {
    const res = answers.get(url) as Reply;
    expect(isProblem(res, 'validation', 400), url).toBe(true);
    expect(res.body.errors, url).toEqual([{ path: 'url', message: expect.stringMatching(reason) }]);
  }
}

describe('webhook destinations', () => {
  it('non-public destinations are refused at creation, with the reason and the fix', async () => {
    const p = await startPlatform('sqlite', {
      webhookEgress: 'public',
      webhookAllowedNetworks: [],
    });
    try {
      const refused: [string, RegExp][] = [
        ['http://127.0.0.1:9/hook', /127\.0\.0\.1, a loopback address/],
        ['http://localhost:9/hook', /localhost resolves to 127\.0\.0\.1, a loopback address/],
        ['http://[::1]:9/hook', /::1, a loopback address/],
        ['http://[::ffff:10.0.0.1]/hook', /10\.0\.0\.1, a private \(RFC 1918\) address/],
        ['https://192.168.1.20/hook', /a private \(RFC 1918\) address/],
        ['http://169.254.169.254/latest/meta-data', /169\.254\.169\.254, a link-local address/],
        ['http://[fd00::1]/hook', /a unique-local \(private IPv6\) address/],
        ['http://100.64.0.1/hook', /a carrier-grade NAT address/],
        ['http://0.0.0.0:9/hook', /the unspecified address/],
      ];
      // A public address is accepted (no delivery is made: nothing happens to the
      // entity). A name that does not resolve (yet) is accepted too — nothing is
      // known against it, and every attempt checks again — but looking one up
      // would reach outside the machine, so no test does.
      const accepted = ['https://8.8.8.8/hook', 'https://[2001:4860:4860::8888]/hook'];
      const answers = await createEach(p, [...refused.map(([url]) => url), ...accepted]);
      expectRefused(answers, refused);
      for (const [url] of refused) {
        expect(answers.get(url)?.body.errors[0].message, url).toContain(
          '; webhooks are delivered to public addresses only. Use a public host, or — to deliver inside your own network — start the server with TOKENPLANE_WEBHOOK_ALLOWED_NETWORKS',
        );
      }
      for (const url of accepted) expect(answers.get(url)?.status, url).toBe(201);
    } finally {
      await p.close();
    }
  });

  it('a listed network is allowed; the sender refuses it again once it is no longer listed', async () => {
    const receiver = await startReceiver();
    const options = {
      webhookEgress: 'public' as const,
      webhookAllowedNetworks: ['127.0.0.1/32'],
      webhookPollMs: 30,
    };
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
      await waitFor('the delivery to a listed network', () => receiver.received.length === 1);

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
      await waitFor('the sender refusing both destinations', async () => {
        direct ??= await refusal(byAddress.hook.id);
        named ??= await refusal(byName.hook.id);
        return direct !== undefined && named !== undefined;
      });
      expect(direct).toMatch(/127\.0\.0\.1, a loopback address/);
      expect(named).toMatch(/localhost resolves to .*a loopback address/);
      expect(receiver.received).toHaveLength(1);
    } finally {
      await p.close();
      await receiver.close();
    }
  });

  it('loopback in disguise is loopback: refused like 127.0.0.1 and ::1', async () => {
    const p = await startPlatform('sqlite', {
      webhookEgress: 'public',
      webhookAllowedNetworks: [],
    });
    try {
      const disguised: [string, RegExp][] = [
        ['http://[::127.0.0.1]/', /::7f00:1, a deprecated IPv4-compatible \(RFC 4291\) address/],
        ['http://localhost./', /localhost\. resolves to 127\.0\.0\.1, a loopback address/],
        ['http://LOCALHOST.:8080/', /localhost\. resolves to 127\.0\.0\.1, a loopback/],
        ['http://api.localhost/', /api\.localhost resolves to 127\.0\.0\.1, a loopback/],
        ['http://api.localhost./', /api\.localhost\. resolves to 127\.0\.0\.1, a loopback/],
        ['http://2130706433/', /127\.0\.0\.1, a loopback address/],
        ['http://0x7f000001/', /127\.0\.0\.1, a loopback address/],
        ['http://0177.0.0.1/', /127\.0\.0\.1, a loopback address/],
        ['http://127.1/', /127\.0\.0\.1, a loopback address/],
        ['http://127.0.0.1./', /127\.0\.0\.1, a loopback address/],
        ['http://[::ffff:127.0.0.1]/', /127\.0\.0\.1, a loopback address/],
        ['http://[0:0:0:0:0:ffff:7f00:1]/', /127\.0\.0\.1, a loopback address/],
        ['http://[::ffff:0:127.0.0.1]/', /an IPv4-translated \(RFC 6145\) address/],
        ['http://[64:ff9b::127.0.0.1]/', /a NAT64 \(RFC 6052\) address/],
        ['http://[2002:7f00:1::]/', /a 6to4 address/],
        ['http://[::]/', /the unspecified address/],
        ['http://0/', /0\.0\.0\.0, the unspecified address/],
      ];
      expectRefused(
        await createEach(
          p,
          disguised.map(([url]) => url),
        ),
        disguised,
      );
    } finally {
      await p.close();
    }
  });

  it('allowlist egress reaches the listed networks only; names other than localhost are refused unresolved', async () => {
    // The test servers' setting: allowlist, loopback alone.
    const p = await startPlatform('sqlite');
    try {
      const accepted = [
        'http://127.0.0.1:9/',
        'http://[::1]:9/',
        'http://localhost:9/',
        'http://localhost.:9/',
        'http://[::ffff:127.0.0.1]:9/',
      ];
      const refused: [string, RegExp][] = [
        [
          'https://8.8.8.8/hook',
          /^8\.8\.8\.8, a public address; with TOKENPLANE_WEBHOOK_EGRESS=allowlist/,
        ],
        ['https://[2001:4860:4860::8888]/', /2001:4860:4860::8888, a public address; with/],
        ['http://10.0.0.1/', /10\.0\.0\.1, a private \(RFC 1918\) address; with/],
        ['http://[::127.0.0.1]/', /::7f00:1, a deprecated IPv4-compatible/],
        [
          'http://example.invalid/',
          /^example\.invalid is a host name, and the allowed networks are loopback alone: names other than localhost are refused without being looked up; with TOKENPLANE_WEBHOOK_EGRESS=allowlist/,
        ],
        ['http://hooks.example./', /^hooks\.example\. is a host name/],
      ];
      const answers = await createEach(p, [...accepted, ...refused.map(([url]) => url)]);
      for (const url of accepted) expect(answers.get(url)?.status, url).toBe(201);
      expectRefused(answers, refused);
      for (const [url] of refused) {
        expect(answers.get(url)?.body.errors[0].message, url).toMatch(
          /delivered only to the networks listed in TOKENPLANE_WEBHOOK_ALLOWED_NETWORKS\. Use a destination in them, or add its network to that setting$/,
        );
      }
    } finally {
      await p.close();
    }
  });

  it('TOKENPLANE_WEBHOOK_EGRESS is read from the environment, and a wrong setting stops the start', async () => {
    const env = {
      TOKENPLANE_WEBHOOK_EGRESS: 'allowlist',
      TOKENPLANE_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8',
    };
    const p = await startPlatform('sqlite', {
      env,
      webhookEgress: undefined,
      webhookAllowedNetworks: undefined,
    });
    try {
      const answers = await createEach(p, ['http://127.0.0.1:9/', 'https://8.8.8.8/']);
      expect(answers.get('http://127.0.0.1:9/')?.status).toBe(201);
      expectRefused(answers, [
        [
          'https://8.8.8.8/',
          /8\.8\.8\.8, a public address; with TOKENPLANE_WEBHOOK_EGRESS=allowlist/,
        ],
      ]);
    } finally {
      await p.close();
    }
    const start = (variables: Record<string, string>) =>
      startServer({ port: 0, dataDir: p.dataDir, env: variables, logger: false });
    await expect(start({ TOKENPLANE_WEBHOOK_EGRESS: 'private' })).rejects.toThrow(
      /TOKENPLANE_WEBHOOK_EGRESS: private is not a mode; use public .* or allowlist/,
    );
    await expect(start({ TOKENPLANE_WEBHOOK_EGRESS: 'allowlist' })).rejects.toThrow(
      /TOKENPLANE_WEBHOOK_EGRESS=allowlist needs TOKENPLANE_WEBHOOK_ALLOWED_NETWORKS/,
    );
  });
});
