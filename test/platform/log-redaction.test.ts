/**
 * No credential reaches a log line wherever a client puts it (issue 13.6): in a
 * query string, a path, a header, a body field — for every credential kind
 * (secret and publishable API tokens, access keys, the generated
 * administrator key, an administrator key and an encryption key of any format).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactSecretText } from '../../platform/logging.ts';
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

  it('redaction keeps the prefix and leaves other text alone', () => {
    const value = 'tpt_0123456789abcdefghijABCDEFGHIJ012345';
    expect(redactSecretText(`GET /x?token=${value}&a=b`)).toBe('GET /x?token=tpt_[redacted]&a=b');
    expect(redactSecretText('tpt_short and tpt is fine')).toBe('tpt_short and tpt is fine');
    expect(redactSecretText('say "hunter2hunter2" twice', ['hunter2hunter2'])).toBe(
      'say "[redacted]" twice',
    );
  });
});
