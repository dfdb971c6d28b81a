/**
 * Leak response (README "Lifecycle events, leak response, revocation across servers"): POST /v1/token-leaks in the shape of GitHub's
 * secret-scanning partner alerts. A reported token is refused on the very next
 * request, audited and announced as token.exposed; a value rotated out but
 * still in its grace loses the grace and the current value keeps working;
 * other values are labelled false positives. The administrator key, or a
 * signature as GitHub's partner program signs (ECDSA P-256 over the raw body, a
 * key from a keys URL — here a loopback server publishing a key made in the test).
 */
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { generateSecret } from '../../core/domain/secret-format.ts';
import { waitFor } from '../harness/wait.ts';
import { ENGINES, isProblem, startPlatform } from './helpers.ts';
import { startReceiver, subscribedCustomer } from './receiver.ts';

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

      await waitFor('two token.exposed deliveries', () => receiver.received.length === 2);
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

/** A reporter's signing keys, published as GitHub publishes them, on loopback. */
async function keysServer() {
  const keys = new Map<string, KeyObject>();
  let fetches = 0;
  const publish = (id: string) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    keys.set(id, publicKey);
    return privateKey;
  };
  const server = createServer((_req, res) => {
    fetches++;
    const public_keys = [...keys].map(([key_identifier, key]) => ({
      key_identifier,
      key: key.export({ type: 'spki', format: 'pem' }),
      is_current: true,
    }));
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ public_keys }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/meta/public_keys/secret_scanning`;
  return {
    url,
    publish,
    /** Publishes someone else's public key (PEM) under `id`. */
    publishPem: (id: string, pem: string) => keys.set(id, createPublicKey(pem)),
    fetches: () => fetches,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const signed = (body: string, keyId: string, key: KeyObject) => ({
  key: null,
  rawBody: body,
  headers: {
    'github-public-key-identifier': keyId,
    'github-public-key-signature': sign('sha256', Buffer.from(body), key).toString('base64'),
  },
});

describe('signed leak reports (GitHub secret-scanning partner format)', () => {
  it('a report signed by a published key disables the token, audited as the secret scanner', async () => {
    const keys = await keysServer();
    const p = await startPlatform('sqlite', { leakReportKeysUrl: keys.url });
    try {
      const first = keys.publish('key-1');
      const e = (await p.api.post('/v1/entities', { name: 'Signed', kind: 'customer' })).body;
      const value = e.defaultToken.value as string;
      const body = JSON.stringify([
        {
          token: value,
          type: 'tokenplane_api_token',
          url: 'https://gist.example/2',
          source: 'gist',
        },
      ]);
      const res = await p.api.call('POST', '/v1/token-leaks', signed(body, 'key-1', first));
      expect(res.status).toBe(200);
      expect(res.body).toEqual([
        { token_hash: hash(value), token_type: 'tokenplane_api_token', label: 'true_positive' },
      ]);
      expect(isProblem(await p.api.metric(value, 'requests'), 'unauthorized', 401)).toBe(true);
      const audit = (await p.api.get(`/v1/audit-events?entityId=${e.id}`)).body.items.find(
        (x: { action: string }) => x.action === 'token.expose',
      );
      expect(audit.actor).toEqual({ type: 'secret-scanner', id: 'key-1' });

      // GitHub rotates its keys: an identifier not yet seen fetches them again —
      // at most once a minute, so forged identifiers cannot hammer the keys URL.
      const second = keys.publish('key-2');
      const other = (await p.api.post('/v1/entities', { name: 'Signed 2', kind: 'customer' })).body;
      const body2 = JSON.stringify([
        { token: other.defaultToken.value, type: 't', url: null, source: null },
      ]);
      const early = await p.api.call('POST', '/v1/token-leaks', signed(body2, 'key-2', second));
      expect(isProblem(early, 'signature-invalid', 401)).toBe(true);
      expect(keys.fetches()).toBe(1);
      p.clock.advance(61_000);
      const res2 = await p.api.call('POST', '/v1/token-leaks', signed(body2, 'key-2', second));
      expect(res2.body[0].label).toBe('true_positive');
      expect(keys.fetches()).toBe(2);
    } finally {
      await p.close();
      await keys.close();
    }
  });

  it('GitHub’s own published example verifies (key, body and signature from its documentation)', async () => {
    // docs.github.com, "Secret scanning partner program", validation sample.
    const keyId = '90a421169f0a406205f1563a953312f0be898d3c7b6c06b681aa86a874555f4a';
    const pem = [
      '-----BEGIN PUBLIC KEY-----',
      'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE9MJJHnMfn2+H4xL4YaPDA4RpJqUq',
      'kCmRCBnYERxZanmcpzQSXs1X/AljlKkbJ8qpVIW4clayyef9gWhFbNHWAA==',
      '-----END PUBLIC KEY-----',
    ].join('\n');
    const body = '[{"token":"some_token","type":"some_type","url":"some_url"}]';
    const signature =
      'MEUCIQDKZokqnCjrRtw0tni+2Ltvl/uiMJ1EGumEsp1BsNr32AIgQY1YXD2nlj+XNfGK4rBfkMJ1JDOQcYXxa2sY8FNkrKc=';
    const keys = await keysServer();
    keys.publishPem(keyId, pem);
    const p = await startPlatform('sqlite', { leakReportKeysUrl: keys.url });
    try {
      const res = await p.api.call('POST', '/v1/token-leaks', {
        key: null,
        rawBody: body,
        headers: {
          'github-public-key-identifier': keyId,
          'github-public-key-signature': signature,
        },
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual([
        { token_hash: hash('some_token'), token_type: 'some_type', label: 'false_positive' },
      ]);
    } finally {
      await p.close();
      await keys.close();
    }
  });

  it('a bad, misplaced or missing signature is refused and disables nothing', async () => {
    const keys = await keysServer();
    const p = await startPlatform('sqlite', { leakReportKeysUrl: keys.url });
    try {
      const key = keys.publish('key-1');
      const stranger = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
      const e = (await p.api.post('/v1/entities', { name: 'Safe', kind: 'customer' })).body;
      const value = e.defaultToken.value as string;
      const body = JSON.stringify([{ token: value, type: 't', url: null, source: null }]);
      const tampered = body.replace('"t"', '"u"');
      const attempts = [
        signed(body, 'key-1', stranger), // not the published key
        signed(body, 'key-9', key), // an identifier nobody published
        { ...signed(body, 'key-1', key), rawBody: tampered }, // body changed after signing
        {
          ...signed(body, 'key-1', key),
          headers: { 'github-public-key-signature': 'bm90IGEgc2lnbmF0dXJl' },
        },
      ];
      for (const attempt of attempts) {
        const res = await p.api.call('POST', '/v1/token-leaks', attempt);
        expect(isProblem(res, 'signature-invalid', 401)).toBe(true);
        expect(res.body.detail).toMatch(/Github-Public-Key-(Signature|Identifier)/);
      }
      const bare = await p.api.call('POST', '/v1/token-leaks', { key: null, rawBody: body });
      expect(isProblem(bare, 'unauthorized', 401)).toBe(true);
      expect(bare.body.detail).toContain('TOKENPLANE_LEAK_REPORT_KEYS_URL');
      expect((await p.api.metric(value, 'requests')).status).toBe(200);
    } finally {
      await p.close();
      await keys.close();
    }
  });

  it('without a keys URL, or with one that does not answer, a signed report is refused with what to do', async () => {
    const keys = await keysServer();
    const key = keys.publish('key-1');
    const body = JSON.stringify([{ token: 'tpt_x', type: 't', url: null, source: null }]);
    const plain = await startPlatform('sqlite');
    try {
      const res = await plain.api.call('POST', '/v1/token-leaks', signed(body, 'key-1', key));
      expect(isProblem(res, 'unauthorized', 401)).toBe(true);
      expect(res.body.detail).toContain('start it with TOKENPLANE_LEAK_REPORT_KEYS_URL');
    } finally {
      await plain.close();
    }
    await keys.close();
    const down = await startPlatform('sqlite', { leakReportKeysUrl: keys.url });
    try {
      const res = await down.api.call('POST', '/v1/token-leaks', signed(body, 'key-1', key));
      expect(isProblem(res, 'unavailable', 503)).toBe(true);
      expect(res.body.detail).toContain(keys.url);
    } finally {
      await down.close();
    }
  });
});
