/**
 * No credential reaches a log line wherever a client puts it (issue 13.6): in a
 * query string, a path, a header, a body field — for every credential kind
 * (secret and publishable API tokens, access keys, the generated
 * administrator key, an administrator key and an encryption key of any format),
 * percent-encoded or not; one sent as X-Request-Id is neither echoed nor stored
 * (issue 21).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactSecretText } from '../../core/logging.ts';
import { type Platform, startPlatform } from './helpers.ts';

describe('credentials in logged URLs and headers', () => {
  const customAdminKey = 'Correct-Horse-Battery-Staple-9f3Kq2';
  const encryptionKey = 'an-encryption-key-that-is-long-enough-0001';
  let generated: Platform;
  let custom: Platform;
  beforeAll(async () => {
    generated = await startPlatform('sqlite');
    custom = await startPlatform('sqlite', { adminKey: customAdminKey, encryptionKey });
  });
  afterAll(async () => {
    await generated?.close();
    await custom?.close();
  });

  it('every credential kind is blanked in request logs, headers and messages', async () => {
    const p = generated;
    const reseller = (
      await p.api.post('/v1/entities', { name: 'Logs', kind: 'reseller', tier: 'advanced' })
    ).body;
    const secretToken = reseller.defaultToken.value as string;
    const publishable = (
      await p.api.post(`/v1/entities/${reseller.id}/tokens`, {
        name: 'web',
        type: 'publishable',
        allowedOrigins: ['https://shop.example'],
      })
    ).body.value as string;
    const accessKey = (
      await p.api.post(`/v1/entities/${reseller.id}/access-keys`, { name: 'k', role: 'admin' })
    ).body.key as string;
    const adminKey = p.server.adminKey;
    const webhookSecret = (
      await p.api.post(`/v1/entities/${reseller.id}/webhooks`, {
        url: 'http://127.0.0.1:9/tokenplane', // test servers deliver to loopback alone
        events: ['token.created'],
      })
    ).body.secret as string;
    const values = { secretToken, publishable, accessKey, adminKey, webhookSecret };
    expect(Object.values(values).map((v) => v.slice(0, 4))).toEqual([
      'tpt_',
      'tpp_',
      'tpk_',
      'tpad',
      'whse',
    ]);

    for (const value of Object.values(values)) {
      await p.api.get(`/v1/analytics/metrics?token=${value}`, { key: secretToken });
      await p.api.get(`/v1/analytics/metrics?token=${encodeURIComponent(value)}`, { key: null });
      await p.api.get(`/v1/entities?cursor=${value}`);
      await p.api.get(`/v1/no-such-route/${value}`);
      await p.api.post('/v1/introspect', { token: value }, { headers: { 'x-api-key': value } });
      p.server.app.log.warn({ headers: { 'x-api-key': value, cookie: `s=${value}` } }, value);
    }
    const text = p.logs.text;
    for (const [kind, value] of Object.entries(values)) {
      expect(text.includes(value), kind).toBe(false);
    }
    // the lines are there, with the kind still visible; query strings are never logged
    for (const prefix of ['tpt', 'tpp', 'tpk', 'tpadm', 'whsec']) {
      expect(text).toContain(`/v1/no-such-route/${prefix}_[redacted]`);
    }
    expect(text).not.toContain('?token=');
    expect(text).not.toContain('?cursor=');
  });

  it('an administrator or encryption key of any format is blanked too', async () => {
    const p = custom;
    await p.api.get(`/v1/entities?cursor=${customAdminKey}`);
    await p.api.get(`/v1/no-such-route?key=${encryptionKey}`);
    p.server.app.log.error({ headers: { authorization2: customAdminKey } }, `saw ${encryptionKey}`);
    expect(p.logs.text).toContain('[redacted]');
    expect(p.logs.text.includes(customAdminKey)).toBe(false);
    expect(p.logs.text.includes(encryptionKey)).toBe(false);
  });

  it('a secret percent-encoded, a generated key, a key sent as X-Request-Id: in no log line, answer or audit record', async () => {
    const p = generated;
    const entity = (await p.api.post('/v1/entities', { name: 'Hidden', kind: 'customer' })).body;
    const token = entity.defaultToken.value as string;
    const encryptionKey = readFileSync(join(p.dataDir, 'encryption-key'), 'utf8').trim();
    const encoded = `%74%70%74%5F${token.slice(4)}`;
    const allEncoded = [...token].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('');
    const otherKeys = [randomBytes(32).toString('base64'), randomBytes(32).toString('hex')];

    await p.api.get(`/v1/entities/${encoded}`);
    await p.api.get(`/v1/no-such-route/${allEncoded}/x`);
    await p.api.get(`/v1/entities/${encryptionKey}`);
    p.server.app.log.warn(
      `refused GET /v1/entities/${encoded} and /x/%2574%2570%2574%255F${token.slice(4)}`,
    );
    p.server.app.log.warn({ detail: `saw ${encryptionKey}` }, `and ${otherKeys.join(' and ')}`);
    for (const id of [token, encryptionKey]) {
      const r = await p.api.patch(
        `/v1/entities/${entity.id}`,
        { name: `Hidden ${id.slice(-4)}` },
        { headers: { 'x-request-id': id } },
      );
      expect(r.status).toBe(200);
      expect(r.headers.get('x-request-id')).not.toBe(id);
    }

    const audit = JSON.stringify((await p.api.get(`/v1/audit-events?entityId=${entity.id}`)).body);
    const text = p.logs.text;
    for (const secret of [token, token.slice(4), encryptionKey, ...otherKeys]) {
      expect(text.includes(secret), secret).toBe(false);
      expect(audit.includes(secret), secret).toBe(false);
    }
    expect(text).toContain('/v1/entities/tpt_[redacted]');
    expect(text).toContain('/v1/no-such-route/tpt_[redacted]/x');
    expect(text).toContain('/v1/entities/[redacted]');
  });

  it('redaction keeps the prefix and leaves other text alone', () => {
    const value = 'tpt_0123456789abcdefghijABCDEFGHIJ012345';
    expect(redactSecretText(`GET /x?token=${value}&a=b`)).toBe('GET /x?token=tpt_[redacted]&a=b');
    expect(redactSecretText('tpt_short and tpt is fine')).toBe('tpt_short and tpt is fine');
    expect(redactSecretText('say "hunter2hunter2" twice', ['hunter2hunter2'])).toBe(
      'say "[redacted]" twice',
    );
    expect(redactSecretText(`GET /x/${encodeURIComponent(`"${value}"`)}`)).toBe(
      'GET /x/"tpt_[redacted]"',
    );
    // the forms keys are generated in; ids, trace ids, commit ids and words stay
    const base64url = 'q8VbGJZ3n0xYw2mTfR7sLkPdA1cE9uHhK4oN6iW5eXz';
    const base64 = 'q8VbGJZ3n0xYw2m/fR7sLkPdA1cE9uHhK4oN6iW5e+z=';
    expect(redactSecretText(`key=${base64url}; ${base64} ${'0f'.repeat(32)}`)).toBe(
      'key=[redacted]; [redacted] [redacted]',
    );
    expect(redactSecretText(`/v1/entities/${base64url}/tokens`)).toBe(
      '/v1/entities/[redacted]/tokens',
    );
    const plain = [
      '/v1/entities/0195f8a2-4b7c-7d3e-9f10-123456789abc/tokens',
      '4bf92f3577b34da6a3ce929d0e0e4736 3f5b681d47aa8e1ac5510bc23e500fd2806eee13',
      'TOKENPLANE_WEBHOOK_ALLOWED_NETWORKS tokenplane_http_request_duration_seconds_bucket',
      'discount 50% off, 100%25 sure',
    ].join(' ');
    expect(redactSecretText(plain)).toBe(plain);
  });
});
