/**
 * The HTTP server's limits on slow clients (issue 21): by default no request
 * holds a connection past 30 s — its deadline plus the interval at which Node
 * checks it. test/platform/bad-input.test.ts shows the cut-off over real HTTP
 * with short values.
 */
import { describe, expect, it } from 'vitest';
import { randomHex } from '../../core/crypto/ids.ts';
import { httpOptions, requestId } from '../../platform/server/http-options.ts';

describe('slow clients', () => {
  it('are cut off within 30 s by default: headers and the whole request', () => {
    const { requestTimeout, http } = httpOptions();
    expect(requestTimeout + http.connectionsCheckingInterval).toBeLessThanOrEqual(30_000);
    expect(http.headersTimeout + http.connectionsCheckingInterval).toBeLessThanOrEqual(30_000);
    expect(http.headersTimeout).toBeLessThanOrEqual(requestTimeout);
  });

  it('a shorter request timeout shortens the header deadline and the check with it', () => {
    const { requestTimeout, http } = httpOptions(1_000);
    expect(requestTimeout).toBe(1_000);
    expect(http.headersTimeout).toBeLessThanOrEqual(1_000);
    expect(http.connectionsCheckingInterval).toBeLessThanOrEqual(1_000);
  });
});

describe('X-Request-Id', () => {
  const idOf = (value: string) => requestId({ headers: { 'x-request-id': value } } as never);

  it('keeps a plain identifier: a UUID, a trace id, a name', () => {
    for (const value of [
      '0195f8a2-4b7c-7d3e-9f10-123456789abc',
      '4bf92f3577b34da6a3ce929d0e0e4736',
      'checkout-42:retry.1',
    ]) {
      expect(idOf(value)).toBe(value);
    }
  });

  it('replaces one that is too long, has other characters, or looks like a secret or a key', () => {
    for (const value of [
      'x'.repeat(129),
      'a b',
      '%74%70%74',
      `tpt_${'A1b2C3'.repeat(6)}`,
      'q8VbGJZ3n0xYw2mTfR7sLkPdA1cE9uHhK4oN6iW5eXz', // a generated encryption key
      'ab'.repeat(32), // 32 bytes in hex
    ]) {
      const id = idOf(value);
      expect(id).not.toBe(value);
      expect(id).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  it('cuts ids of any size from one random pool: each of its length, lowercase hex, unique across refills', () => {
    // 8- and 16-byte ids (span and trace ids) mixed: 9,000 × 12 bytes is some 26 refills of 4 KiB.
    const ids = Array.from({ length: 9000 }, (_, i) => randomHex(i % 2 ? 8 : 16));
    expect(new Set(ids).size).toBe(ids.length);
    ids.forEach((id, i) => {
      expect(id).toMatch(i % 2 ? /^[0-9a-f]{16}$/ : /^[0-9a-f]{32}$/);
    });
  });

  it('makes new ids unique, across refills of its random pool, and kept as given when sent back', () => {
    const ids = Array.from({ length: 1000 }, () => idOf(''));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{32}$/);
      expect(idOf(id)).toBe(id);
    }
  });
});
