/**
 * The security primitives on their own: sealing binds to its row, nonces never
 * repeat, digests are keyed, ids sort by time, keys are private files.
 */

import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../../core/crypto/cipher.ts';
import { uuidv7 } from '../../core/crypto/ids.ts';
import { constantTimeEqual, loadAdminKey, loadEncryptionKey } from '../../core/crypto/keys.ts';
import { apparentEntropyBits, generateSecret } from '../../core/domain/secret-format.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('SecretBox', () => {
  const box = new SecretBox('an-encryption-key-for-the-tests-0001');

  it('opens what it sealed, only with the same associated data', () => {
    const sealed = box.seal('tpt_secret', 'token-1');
    expect(sealed).not.toContain('tpt_secret');
    expect(box.open(sealed, 'token-1')).toBe('tpt_secret');
    expect(() => box.open(sealed, 'token-2')).toThrow();
  });

  it('uses a fresh nonce every time', () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 1000; i++) nonces.add(box.seal('x', 'a').split('.')[1] as string);
    expect(nonces.size).toBe(1000);
  });

  it('detects tampering and refuses another key', () => {
    const sealed = box.seal('value', 'id');
    const parts = sealed.split('.');
    const body = Buffer.from(parts[2] as string, 'base64url');
    body[0] = (body[0] as number) ^ 1;
    parts[2] = body.toString('base64url');
    expect(() => box.open(parts.join('.'), 'id')).toThrow();
    const other = new SecretBox('another-encryption-key-for-tests-0002');
    expect(() => other.open(sealed, 'id')).toThrow();
  });

  it('digests are keyed: same value, other key, other digest', () => {
    const other = new SecretBox('another-encryption-key-for-tests-0002');
    expect(box.digest('tpt_x')).toBe(box.digest('tpt_x'));
    expect(box.digest('tpt_x')).not.toBe(other.digest('tpt_x'));
    expect(box.digest('tpt_x')).not.toBe(box.digest('tpt_y'));
  });
});

describe('keys', () => {
  it('generates private key files once and reads them back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokenplane-keys-'));
    dirs.push(dir);
    const a = loadAdminKey(dir, undefined);
    expect(a.source).toBe('generated');
    expect(statSync(join(dir, 'admin-key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'admin-key'), 'utf8').trim()).toBe(a.value);
    expect(loadAdminKey(dir, undefined)).toMatchObject({ source: 'file', value: a.value });
    expect(loadAdminKey(dir, 'a-given-admin-key-Q7vX9#pL2m')).toMatchObject({ source: 'option' });
    expect(() => loadAdminKey(dir, 'short')).toThrow(/at least/);
    // a generated encryption key is written only when storage says the database is empty
    const e = loadEncryptionKey(dir, undefined);
    expect(e.value.length).toBeGreaterThanOrEqual(43);
    expect(existsSync(join(dir, 'encryption-key'))).toBe(false);
    if (e.source !== 'generated') throw new Error('expected a generated key');
    e.save();
    expect(statSync(join(dir, 'encryption-key')).mode & 0o777).toBe(0o600);
    expect(loadEncryptionKey(dir, undefined)).toMatchObject({ source: 'file', value: e.value });
  });

  it('refuses a guessable administrator key and says why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokenplane-keys-'));
    dirs.push(dir);
    for (const weak of [
      'aaaaaaaaaaaaaaaa',
      'abcdefghijklmnopqrstuvwxyz',
      'Password1234567890',
      'x'.repeat(64),
    ]) {
      expect(() => loadAdminKey(dir, weak)).toThrow(
        /looks guessable \(about \d+ bits; at least 128 are required.*openssl rand -base64 32/,
      );
    }
    // what people generate passes: our format, openssl's base64 and hex, a long passphrase
    for (const strong of [
      generateSecret('adminKey'),
      randomBytes(32).toString('base64'),
      randomBytes(16).toString('hex'),
      'Correct-Horse-Battery-Staple-9f3Kq2',
    ]) {
      expect(loadAdminKey(dir, strong).source).toBe('option');
    }
    expect(apparentEntropyBits('aaaaaaaaaaaaaaaa')).toBeLessThan(5);
    expect(apparentEntropyBits('0123456789')).toBeLessThan(8);
    // 16 random alphanumerics carry 95 bits: not enough
    expect(() => loadAdminKey(dir, 'q8Zr2LmX0vTb7KpW')).toThrow(/guessable/);
  });

  it('compares in constant time regardless of length', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
  });
});

describe('uuidv7', () => {
  it('sorts by creation time and has version 7', () => {
    const a = uuidv7(1_700_000_000_000);
    const b = uuidv7(1_700_000_000_001);
    expect(a < b).toBe(true);
    expect(a[14]).toBe('7');
    expect(['8', '9', 'a', 'b']).toContain(a[19]);
  });

  it('is strictly increasing within a millisecond and when the clock steps back', () => {
    const ids = [
      ...Array.from({ length: 5000 }, () => uuidv7(1_800_000_000_000)),
      uuidv7(1_700_000_000_000),
    ];
    for (let i = 1; i < ids.length; i++)
      expect((ids[i - 1] as string) < (ids[i] as string)).toBe(true);
  });
});

describe('analytics time formatting', () => {
  it('isoTime matches Date#toISOString for whole seconds', async () => {
    const { isoTime } = await import('../../platform/server/analytics.ts');
    let seed = 42;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 20_000; i++) {
      const ms = Math.floor(((next() * 2 - 0.5) * 4e12) / 1000) * 1000;
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
    for (const fixed of [
      '2024-02-29T23:59:59.000Z',
      '2000-03-01T00:00:00.000Z',
      '1970-01-01T00:00:00.000Z',
    ]) {
      expect(isoTime(Date.parse(fixed))).toBe(fixed);
    }
  });
});

describe('analytics series body', () => {
  it('seriesJson is byte for byte JSON.stringify of seriesPoints', async () => {
    const { seriesJson, seriesPoints } = await import('../../platform/server/analytics.ts');
    const entity = '01a209f4-df99-75aa-86ac-a10aa23ff2d5';
    for (const [from, to] of [
      ['2025-01-01T00:00:00Z', '2025-01-01T01:00:00Z'],
      ['2024-02-28T22:17:00Z', '2024-03-01T03:00:00Z'],
      ['2023-12-31T00:00:00Z', '2024-12-31T00:00:00Z'],
    ] as const) {
      for (const name of ['requests', 'cache_hit_ratio', 'latency_p95']) {
        const a = Date.parse(from);
        const b = Date.parse(to);
        expect(seriesJson(name, entity, a, b)).toBe(
          JSON.stringify({ name, points: seriesPoints(name, entity, a, b) }),
        );
        const points = seriesPoints(name, entity, a, b);
        for (const pt of points.slice(0, 50)) expect(pt.t).toBe(new Date(pt.t).toISOString());
      }
    }
  });
});
