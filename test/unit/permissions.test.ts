/**
 * Pure parts of README "Token permissions and limits": the RFC 9421 hmac-sha256 test vector (Appendix
 * B.2.5), signing and parsing, scope grammar and ceiling, origin patterns,
 * address ranges, UTC usage periods, the rate-limit window.
 */

import { parseDictionary } from 'structured-headers';
import { describe, expect, it } from 'vitest';
import {
  hmacSha256,
  parseSignature,
  readDictionaries,
  readSerialised,
  signatureBase,
  signatureMatches,
  signRequest,
} from '../../core/crypto/http-signatures.ts';
import { addressMatcher } from '../../core/domain/addresses.ts';
import {
  checkDowngradeScopes,
  checkScopeCeiling,
  originAllowed,
  originProblem,
  permissionProblems,
  scopeProblem,
  scopesAllow,
  TierTable,
  usageWindow,
} from '../../core/domain/index.ts';
import { RateLimiter, rateLimitHeaders } from '../../platform/server/permissions/rate-limiter.ts';

describe('RFC 9421', () => {
  it('passes the hmac-sha256 test vector of Appendix B.2.5', () => {
    // B.1.5 test-shared-secret; B.2 test request
    const key = Buffer.from(
      'uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ==',
      'base64',
    );
    const request = {
      method: 'POST',
      url: 'https://example.com/foo?param=Value&Pet=dog',
      headers: {
        Host: 'example.com',
        Date: 'Tue, 20 Apr 2021 02:07:55 GMT',
        'Content-Type': 'application/json',
      },
    };
    const input =
      'sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"';
    const member = parseDictionary(input).get('sig-b25') as never;
    const base = signatureBase(request, member);
    expect(base).toBe(
      [
        '"date": Tue, 20 Apr 2021 02:07:55 GMT',
        '"@authority": example.com',
        '"content-type": application/json',
        '"@signature-params": ("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"',
      ].join('\n'),
    );
    expect(hmacSha256(key, base).toString('base64')).toBe(
      'pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=',
    );
  });

  it('signs what it parses back, covering method, path and query; a changed query fails', () => {
    const request = {
      method: 'GET',
      url: 'http://127.0.0.1:8080/v1/analytics/metrics/requests?from=x',
    };
    const headers = signRequest(request, {
      keyId: 'id-1',
      key: 'tpt_value',
      created: 1_700_000_000,
    });
    expect(headers['signature-input']).toMatch(
      /^sig1=\("@method" "@path" "@query" "@authority"\);created=1700000000;keyid="id-1";alg="hmac-sha256";nonce="[\w-]+"$/,
    );
    const parsed = parseSignature(headers['signature-input'], headers.signature);
    expect(parsed).toMatchObject({ keyId: 'id-1', created: 1_700_000_000 });
    expect(signatureMatches(request, parsed, ['tpt_value'])).toBe(true);
    expect(signatureMatches({ ...request, url: `${request.url}y` }, parsed, ['tpt_value'])).toBe(
      false,
    );
    expect(signatureMatches(request, parsed, ['tpt_other'])).toBe(false);
    // Any of the keys (a value a rotation replaced, during its grace), none of none.
    expect(signatureMatches(request, parsed, ['tpt_other', 'tpt_value'])).toBe(true);
    expect(signatureMatches(request, parsed, [])).toBe(false);
    const again = signRequest(request, { keyId: 'id-1', key: 'tpt_value', created: 1_700_000_000 });
    expect(again.signature).not.toBe(headers.signature); // a fresh nonce each time
  });

  it('refuses signatures that lack what README: Token permissions and limits needs, saying what', () => {
    const sig = 'sig1=:AAAA:';
    expect(() => parseSignature('sig1=("@method" "@path");created=1;keyid="k"', sig)).toThrow(
      /@query/,
    );
    expect(() => parseSignature('sig1=("@method" "@path" "@query");keyid="k"', sig)).toThrow(
      /created/,
    );
    expect(() => parseSignature('sig1=("@method" "@path" "@query");created=1', sig)).toThrow(
      /keyid/,
    );
    expect(() =>
      parseSignature(
        'sig1=("@method" "@path" "@query");created=1;keyid="k";alg="rsa-pss-sha512"',
        sig,
      ),
    ).toThrow(/alg/);
    expect(() =>
      parseSignature('sig1=("@method" "@path" "@query");created=1;keyid="k"', 'sig2=:AAAA:'),
    ).toThrow(/labelled/);
    expect(() => parseSignature('((', sig)).toThrow(/dictionaries/);
  });

  it('reads a serialised signature without a parser exactly as structured-headers reads it', () => {
    const request = {
      method: 'GET',
      url: 'http://127.0.0.1:8080/v1/analytics?from=x',
      headers: { host: '127.0.0.1:8080' },
    };
    const signed = [
      signRequest(request, { keyId: 'id-1', key: 'k', created: 1_700_000_000 }),
      signRequest(request, { keyId: 'a b;c=d', key: 'k', nonce: 'n', label: 'sig-2.a*' }),
      signRequest(request, {
        keyId: 'id',
        key: 'k',
        components: ['@method', '@path', '@query', 'host'],
      }),
      signRequest(request, { keyId: 'id', key: 'k', created: 0, components: [] }),
      signRequest(request, { keyId: 'id', key: 'k', created: -5 }),
    ];
    const base = 'sig1=("@method" "@path" "@query");created=1700000000;keyid="k"';
    const sig = 'sig1=:3q2+7w==:';
    // Forms a parser reads and a serialiser writes otherwise: each goes to structured-headers.
    const others: [string, string][] = [
      [`${base} `, sig],
      ['sig1=( "@method" "@path" "@query");created=1;keyid="k"', sig],
      ['sig1=("@method"  "@path" "@query");created=1;keyid="k"', sig],
      ['sig1=("@method" "@path" "@query"); created=1;keyid="k"', sig],
      [`${base};alg=hmac-sha256`, sig],
      [`${base};flag`, sig],
      [`${base};flag=?1`, sig],
      [`${base};d=1.5`, sig],
      [`${base};b=:AAAA:`, sig],
      ['sig1=("@method";req "@path" "@query");created=1;keyid="k"', sig],
      ['sig1=("@method" "@path" "@query");created=0123;keyid="k"', sig],
      ['sig1=("@method" "@path" "@query");created=-0;keyid="k"', sig],
      ['sig1=("@method" "@path" "@query");created=1;keyid="k";created=2', sig],
      ['sig1=("@method" "@path" "@query");created=1;keyid="a\\"b"', sig],
      ['sig1=("@method" "@path" "@query");created=1;keyid="a\\\\b"', sig],
      [`${base}, sig2=("@method");created=1`, sig],
      [base, 'sig1=:3q2+7w:'],
      [base, 'sig1=:3q2+7w==:, sig2=:AAAA:'],
      [base, 'sig1=:3q2+7w==:;p=1'],
      [base, ' sig1=:3q2+7w==:'],
    ];
    for (const headers of signed) {
      const fast = readSerialised(headers['signature-input'], headers.signature);
      expect(fast).not.toBeNull();
      expect(fast).toEqual(readDictionaries(headers['signature-input'], headers.signature));
    }
    expect(readSerialised(base, sig)).toEqual(readDictionaries(base, sig));
    for (const [input, signature] of others) {
      expect(readSerialised(input, signature), input + signature).toBeNull();
      expect(() => readDictionaries(input, signature)).not.toThrow();
    }
  });
});

describe('scopes', () => {
  const tiers = new TierTable();
  it('grammar: the four forms, and known metrics only', () => {
    for (const s of [
      'metrics:read',
      'metrics:core:read',
      'metrics:premium:read',
      'metric:latency_p99:read',
    ]) {
      expect(scopeProblem(s)).toBeNull();
    }
    expect(scopeProblem('metric:nope:read')).toMatch(/no metric/);
    expect(scopeProblem('metrics:write')).toMatch(/unknown scope/);
  });
  it('what a scope lets a token read', () => {
    expect(scopesAllow(['metrics:read'], 'latency_p99')).toBe(true);
    expect(scopesAllow(['metrics:core:read'], 'requests')).toBe(true);
    expect(scopesAllow(['metrics:core:read'], 'latency_p99')).toBe(false);
    expect(scopesAllow(['metrics:premium:read'], 'latency_p99')).toBe(true);
    expect(scopesAllow(['metrics:premium:read'], 'requests')).toBe(false);
    expect(scopesAllow(['metric:errors:read'], 'errors')).toBe(true);
    expect(scopesAllow([], 'errors')).toBe(false);
  });
  it('ceiling: premium scopes need the tier with the extensive set', () => {
    expect(checkScopeCeiling(tiers, 'advanced', ['metrics:premium:read'])).toBeNull();
    expect(checkScopeCeiling(tiers, 'lite', ['metrics:read', 'metric:requests:read'])).toBeNull();
    expect(
      checkScopeCeiling(tiers, 'lite', ['metrics:premium:read', 'metric:bitrate_avg:read']),
    ).toMatchObject({
      slug: 'scope-above-tier',
      tier: 'lite',
      requiredTier: 'advanced',
      scopes: ['metrics:premium:read', 'metric:bitrate_avg:read'],
    });
    const down = checkDowngradeScopes(tiers, 'lite', [
      { id: 't1', name: 'a', scopes: ['metrics:core:read'] },
      { id: 't2', name: 'b', scopes: ['metric:latency_p50:read'] },
    ]);
    expect(down?.tokens).toEqual([{ id: 't2', name: 'b', scopes: ['metric:latency_p50:read'] }]);
  });
  it('rules between fields', () => {
    expect(
      permissionProblems({ type: 'secret', allowedOrigins: [], requireSignedRequests: true }),
    ).toEqual([]);
    expect(
      permissionProblems({
        type: 'publishable',
        allowedOrigins: [],
        requireSignedRequests: true,
      }).map((p) => p.path),
    ).toEqual(['allowedOrigins', 'requireSignedRequests']);
  });
});

describe('origins', () => {
  it('patterns', () => {
    for (const ok of [
      'https://a.example.com',
      'https://a.example.com:8443',
      'https://*.example.com',
      'https://localhost',
    ]) {
      expect(originProblem(ok), ok).toBeNull();
    }
    for (const bad of [
      'http://a.example.com',
      'https://a.example.com/',
      'https://A.example.com',
      'https://*.example.com:443',
      'https://*.com',
      'https://a.example.com:99999',
      '*',
    ]) {
      expect(originProblem(bad), bad).not.toBeNull();
    }
  });
  it('matching: exact (default port too), wildcard below the domain only', () => {
    const allowed = ['https://app.example.com', 'https://*.example.org'];
    expect(originAllowed(allowed, 'https://app.example.com')).toBe(true);
    expect(originAllowed(allowed, 'https://app.example.com:443')).toBe(true);
    expect(originAllowed(allowed, 'https://app.example.com:8443')).toBe(false);
    expect(originAllowed(allowed, 'https://x.example.org')).toBe(true);
    expect(originAllowed(allowed, 'https://x.y.example.org')).toBe(true);
    expect(originAllowed(allowed, 'https://example.org')).toBe(false);
    expect(originAllowed(allowed, 'https://evilexample.org')).toBe(false);
    expect(originAllowed(allowed, 'http://x.example.org')).toBe(false);
    expect(originAllowed(allowed, 'https://x.example.org:444')).toBe(false);
    expect(originAllowed(allowed, undefined)).toBe(false);
    expect(originAllowed([], undefined)).toBe(true);
  });
});

describe('addresses', () => {
  it('IPv4, IPv6, CIDR, IPv4-mapped IPv6', () => {
    const allowed = addressMatcher(['203.0.113.7', '10.0.0.0/8', '::1', '2001:db8::/32']);
    expect(allowed('203.0.113.7')).toBe(true);
    expect(allowed('::ffff:10.9.8.7')).toBe(true);
    expect(allowed('::1')).toBe(true);
    expect(allowed('2001:db8:1::5')).toBe(true);
    expect(allowed('11.0.0.1')).toBe(false);
    expect(allowed('2001:db9::1')).toBe(false);
    expect(allowed('not an address')).toBe(false);
    expect(addressMatcher([])('198.51.100.1')).toBe(true);
  });
});

describe('usage periods and rate windows', () => {
  it('UTC day, month and total', () => {
    const t = Date.parse('2026-12-31T23:59:59.999Z');
    expect(usageWindow('day', t)).toEqual({
      key: 'day:2026-12-31',
      resetsAt: '2027-01-01T00:00:00.000Z',
    });
    expect(usageWindow('month', t)).toEqual({
      key: 'month:2026-12',
      resetsAt: '2027-01-01T00:00:00.000Z',
    });
    expect(usageWindow('total', t)).toEqual({ key: 'total', resetsAt: null });
    expect(usageWindow('day', t + 1).key).toBe('day:2027-01-01');
  });
  it('a fixed window per token; a given-back request is not counted', () => {
    let now = 1_000_000;
    const limiter = new RateLimiter(() => now);
    const limit = { requests: 2, perSeconds: 10 };
    expect(limiter.take('a', limit)).toEqual({ allowed: true, remaining: 1, resetSeconds: 10 });
    expect(limiter.take('a', limit).allowed).toBe(true);
    now += 4000;
    expect(limiter.take('a', limit)).toEqual({ allowed: false, remaining: 0, resetSeconds: 6 });
    limiter.giveBack('a');
    expect(limiter.peek('a', limit)).toEqual({ allowed: true, remaining: 1, resetSeconds: 6 });
    expect(limiter.take('b', limit).allowed).toBe(true);
    now += 6000;
    expect(limiter.take('a', limit).remaining).toBe(1);
    expect(rateLimitHeaders(limit, { allowed: true, remaining: 1, resetSeconds: 10 })).toEqual({
      'ratelimit-policy': '"token";q=2;w=10',
      ratelimit: '"token";r=1;t=10',
    });
  });
});
