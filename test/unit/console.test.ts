/** Pure parts of the console: form → PATCH, tier choices, session lifetimes, escaping. */
import { describe, expect, it } from 'vitest';
import type { Token } from '../../core/client/index.ts';
import { TierTable } from '../../core/domain/tiers.ts';
import { FormError, newTokenRequest, tokenChanges } from '../../platform/console/forms.ts';
import { html } from '../../platform/console/html.ts';
import { SessionStore } from '../../platform/console/sessions.ts';
import { tierChoices } from '../../platform/console/tiers.ts';

const ids = {
  id: '00000000-0000-7000-8000-000000000001',
  entityId: '00000000-0000-7000-8000-000000000002',
};
const times = {
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  lastUsedAt: null,
};
const limits = { rateLimit: null, usageLimit: null, usage: null, requireSignedRequests: false };
const access: Pick<Token, 'type' | 'allowedOrigins' | 'allowedIps'> = {
  type: 'secret',
  allowedOrigins: [],
  allowedIps: [],
};
const token: Token = {
  ...ids,
  ...times,
  ...limits,
  ...access,
  scopes: ['metrics:read'],
  name: 'ci',
  status: 'active',
  expiresAt: '2027-01-02T03:04:05.678Z',
  hint: 'tpt_…abcd',
};

/** The Edit form exactly as the console renders it for `token`. */
const asRendered = {
  name: 'ci',
  status: 'active',
  expiresAt: '2027-01-02T03:04',
  scope: 'metrics:read',
  metrics: '',
  allowedOrigins: '',
  allowedIps: '',
  rateRequests: '',
  ratePerSeconds: '',
  usageLimit: '',
  usagePeriod: 'month',
};

describe('console Edit form', () => {
  it('sends nothing for a form left as it was (the expiry keeps its seconds)', () => {
    expect(tokenChanges(token, asRendered)).toEqual({});
  });

  it('sends only what changed, in the API shape', () => {
    expect(
      tokenChanges(token, {
        ...asRendered,
        expiresAt: '',
        scope: undefined,
        metrics: 'requests latency_p50',
        allowedIps: '10.0.0.0/8\n::1',
        rateRequests: '10',
        ratePerSeconds: '60',
        usageLimit: '1000',
        usagePeriod: 'day',
        requireSignedRequests: 'on',
      }),
    ).toEqual({
      expiresAt: null,
      scopes: ['metric:requests:read', 'metric:latency_p50:read'],
      allowedIps: ['10.0.0.0/8', '::1'],
      rateLimit: { requests: 10, perSeconds: 60 },
      usageLimit: { limit: 1000, period: 'day' },
      requireSignedRequests: true,
    });
  });

  it('checked scope sets arrive as a list; their order means nothing', () => {
    const both = { ...token, scopes: ['metrics:core:read', 'metrics:premium:read'] };
    const form = { ...asRendered, scope: ['metrics:premium:read', 'metrics:core:read'] };
    expect(tokenChanges(both, form)).toEqual({});
  });

  it('refuses half a rate limit and non-numbers before asking the platform', () => {
    expect(() => tokenChanges(token, { ...asRendered, rateRequests: '5' })).toThrow(FormError);
    expect(() => tokenChanges(token, { ...asRendered, usageLimit: 'lots' })).toThrow(
      /whole number/,
    );
  });
});

describe('console New form', () => {
  it('sends the name alone unless a type or origins were given', () => {
    expect(newTokenRequest({ name: ' ci ', type: 'secret', allowedOrigins: '' })).toEqual({
      name: 'ci',
    });
    expect(
      newTokenRequest({
        name: 'web',
        type: 'publishable',
        allowedOrigins: 'https://a.example.com\nhttps://*.example.org',
      }),
    ).toEqual({
      name: 'web',
      type: 'publishable',
      allowedOrigins: ['https://a.example.com', 'https://*.example.org'],
    });
  });
});

describe('console tier choices', () => {
  const tiers = new TierTable();
  it('disables tiers above the parent, and downgrades that would break the quota, with reasons', () => {
    const under = tierChoices(tiers, { parent: { name: 'Small', tier: 'lite' } });
    expect(under.map((c) => [c.name, c.reason !== null])).toEqual([
      ['lite', false],
      ['advanced', true],
    ]);
    expect(under[1]?.reason).toMatch(/above the tier "lite" of parent "Small"/);
    const full = tierChoices(tiers, { parent: null, entity: { name: 'Acme', tokenCount: 3 } });
    expect(full[0]?.reason).toMatch(/holds 3 tokens but tier "lite" allows 1/);
    expect(full[1]?.reason).toBeNull();
  });
});

describe('console sessions', () => {
  const admin = { type: 'admin', id: null, role: 'admin', scope: null } as const;

  it('end after the idle time and after the absolute time, however busy', () => {
    let now = 0;
    const store = new SessionStore(() => now, { idleMs: 100, absoluteMs: 250 });
    const { id } = store.create('key', admin, 'the administrator key');
    now = 99;
    expect(store.touch(id)).not.toBeNull();
    now = 198;
    expect(store.touch(id)).not.toBeNull();
    now = 249;
    expect(store.touch(id)).not.toBeNull();
    now = 250;
    expect(store.touch(id)).toBeNull();
    const idle = store.create('key', admin, 'x').id;
    now += 100;
    expect(store.touch(idle)).toBeNull();
  });

  it('keep at most maxSessions, dropping the least recently used; endAllOf ends a key', () => {
    const store = new SessionStore(() => 0, { maxSessions: 2 });
    const a = store.create('a', admin, 'a').id;
    const b = store.create('b', admin, 'b').id;
    store.touch(a);
    const c = store.create('c', admin, 'c').id;
    expect([store.touch(a), store.touch(b), store.touch(c)].map((s) => s !== null)).toEqual([
      true,
      false,
      true,
    ]);
    store.endAllOf('a');
    expect(store.touch(a)).toBeNull();
    expect(store.size).toBe(1);
  });
});

describe('console html', () => {
  it('escapes every interpolated value, nests templates, skips null and false', () => {
    const name = '<img src=x onerror="alert(1)">&\'';
    expect(html`<p title="${name}">${name}${null}${false}${html`<b>${1}</b>`}</p>`.text).toBe(
      '<p title="&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;">&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;<b>1</b></p>',
    );
  });
});
