/**
 * README "Token permissions and limits" fields on both databases: defaults on create and in every Token
 * answer, validation of each field, the rules between fields, the scope
 * ceiling on create, PATCH and downgrade, audit events of permission changes,
 * and a database made before permissions migrated with every token keeping its defaults.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateSecret,
  isWellFormedSecret,
  SECRET_PATTERN,
} from '../../core/domain/secret-format.ts';
import { SECRET_DEFAULTS } from '../client/loopback.ts';
import { Api, ENGINES, isProblem, type Platform, startPlatform } from './helpers.ts';
import { OLD_ENTITY, upgradedFrom } from './upgrade.ts';

describe.each(ENGINES)('token permissions on %s', (engine) => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform(engine);
  });
  afterAll(async () => {
    await p?.close();
  });

  const entity = async (tier: string, name = `E-${tier}-${Math.random()}`) =>
    (await p.api.post('/v1/entities', { name, kind: 'customer', tier, defaultToken: false })).body;

  it('a token without permission fields gets the defaults, in every answer', async () => {
    const e = await entity('advanced');
    const created = await p.api.post(`/v1/entities/${e.id}/tokens`, { name: 'plain' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject(SECRET_DEFAULTS);
    expect(created.body.value).toMatch(/^tpt_/);
    expect((await p.api.get(`/v1/tokens/${created.body.id}`)).body).toMatchObject(SECRET_DEFAULTS);
    expect((await p.api.get(`/v1/entities/${e.id}/tokens`)).body.items[0]).toMatchObject(
      SECRET_DEFAULTS,
    );
    const withDefault = (
      await p.api.post('/v1/entities', { name: 'With default', kind: 'customer' })
    ).body;
    expect(withDefault.defaultToken).toMatchObject(SECRET_DEFAULTS);
  });

  it('a publishable token has a tpp_ value in the checksum format, the core scope by default, and keeps its type on rotation', async () => {
    const e = await entity('advanced');
    const r = await p.api.post(`/v1/entities/${e.id}/tokens`, {
      name: 'dashboard',
      type: 'publishable',
      allowedOrigins: ['https://dash.example.com'],
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      type: 'publishable',
      scopes: ['metrics:core:read'],
      allowedOrigins: ['https://dash.example.com'],
      hint: expect.stringMatching(/^tpp_…/),
    });
    expect(isWellFormedSecret(r.body.value, 'publishableToken')).toBe(true);
    expect(`x ${r.body.value} y`.match(SECRET_PATTERN)).toEqual([r.body.value]);
    expect(`x ${generateSecret('apiToken')} y`.match(SECRET_PATTERN)).toHaveLength(1);
    const rotated = await p.api.post(`/v1/tokens/${r.body.id}/rotate`, {});
    expect(rotated.body.value).toMatch(/^tpp_/);
    expect(rotated.body.type).toBe('publishable');
  });

  it('every field is validated with a message that says what to do', async () => {
    const e = await entity('advanced');
    const bad = async (body: object, path: string) => {
      const r = await p.api.post(`/v1/entities/${e.id}/tokens`, { name: 'bad', ...body });
      expect(isProblem(r, 'validation', 400), JSON.stringify(body)).toBe(true);
      expect(r.body.errors.map((x: { path: string }) => x.path)).toContain(path);
      return r.body.detail as string;
    };
    expect(await bad({ scopes: ['metrics:write'] }, 'scopes.0')).toMatch(/unknown scope/);
    expect(await bad({ scopes: ['metric:nope:read'] }, 'scopes.0')).toMatch(
      /no metric named "nope"/,
    );
    expect(await bad({ type: 'private' }, 'type')).toBeTruthy();
    expect(await bad({ allowedOrigins: ['http://a.example.com'] }, 'allowedOrigins.0')).toMatch(
      /https:\/\/host/,
    );
    expect(
      await bad({ allowedOrigins: ['https://a.example.com/'] }, 'allowedOrigins.0'),
    ).toBeTruthy();
    expect(await bad({ allowedOrigins: ['https://*.com'] }, 'allowedOrigins.0')).toMatch(
      /two labels/,
    );
    const many = Array.from({ length: 21 }, (_, i) => `https://o${i}.example.com`);
    await bad({ allowedOrigins: many }, 'allowedOrigins');
    expect(await bad({ allowedIps: ['300.1.1.1'] }, 'allowedIps.0')).toMatch(/IPv4 or IPv6/);
    await bad({ allowedIps: ['10.0.0.0/33'] }, 'allowedIps.0');
    await bad({ allowedIps: Array.from({ length: 51 }, (_, i) => `10.0.0.${i}`) }, 'allowedIps');
    await bad({ rateLimit: { requests: 0, perSeconds: 1 } }, 'rateLimit.requests');
    await bad({ rateLimit: { requests: 5 } }, 'rateLimit.perSeconds');
    await bad({ usageLimit: { limit: 5, period: 'week' } }, 'usageLimit.period');
    expect(await bad({ type: 'publishable' }, 'allowedOrigins')).toMatch(
      /at least one allowed origin/,
    );
    expect(
      await bad(
        {
          type: 'publishable',
          allowedOrigins: ['https://a.example.com'],
          requireSignedRequests: true,
        },
        'requireSignedRequests',
      ),
    ).toMatch(/cannot require signed requests/);
    // good values of each kind pass
    const ok = await p.api.post(`/v1/entities/${e.id}/tokens`, {
      name: 'full',
      scopes: ['metrics:core:read', 'metric:latency_p99:read'],
      allowedOrigins: ['https://app.example.com:8443', 'https://*.example.org'],
      allowedIps: ['203.0.113.7', '10.0.0.0/8', '::1', '2001:db8::/32'],
      rateLimit: { requests: 10, perSeconds: 60 },
      usageLimit: { limit: 1000, period: 'month' },
      requireSignedRequests: true,
    });
    expect(ok.status).toBe(201);
    expect(ok.body.usage).toMatchObject({ used: 0, limit: 1000, period: 'month' });
  });

  it('PATCH changes every field but type, and judges the rules on the result', async () => {
    const e = await entity('advanced');
    const t = (
      await p.api.post(`/v1/entities/${e.id}/tokens`, {
        name: 'pub',
        type: 'publishable',
        allowedOrigins: ['https://a.example.com'],
      })
    ).body;
    const typeChange = await p.api.patch(`/v1/tokens/${t.id}`, { type: 'secret' });
    expect(isProblem(typeChange, 'validation', 400)).toBe(true);
    expect(typeChange.body.errors).toEqual([{ path: 'type', message: 'unknown field' }]);
    const noOrigins = await p.api.patch(`/v1/tokens/${t.id}`, { allowedOrigins: [] });
    expect(isProblem(noOrigins, 'validation', 400)).toBe(true);
    expect(noOrigins.body.detail).toMatch(/publishable/);
    const signing = await p.api.patch(`/v1/tokens/${t.id}`, { requireSignedRequests: true });
    expect(isProblem(signing, 'validation', 400)).toBe(true);
    const changed = await p.api.patch(`/v1/tokens/${t.id}`, {
      scopes: ['metric:requests:read'],
      allowedIps: ['127.0.0.1'],
      rateLimit: { requests: 5, perSeconds: 1 },
      usageLimit: { limit: 9, period: 'day' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      type: 'publishable',
      scopes: ['metric:requests:read'],
      allowedIps: ['127.0.0.1'],
      rateLimit: { requests: 5, perSeconds: 1 },
      usageLimit: { limit: 9, period: 'day' },
      usage: { used: 0, limit: 9, period: 'day' },
    });
    const cleared = await p.api.patch(`/v1/tokens/${t.id}`, { rateLimit: null, usageLimit: null });
    expect(cleared.body).toMatchObject({ rateLimit: null, usageLimit: null, usage: null });
  });

  it('scope-above-tier on create and PATCH names the scope and the tier; basic metrics pass', async () => {
    const lite = await entity('lite');
    const premium = await p.api.post(`/v1/entities/${lite.id}/tokens`, {
      name: 'x',
      scopes: ['metrics:premium:read'],
    });
    expect(isProblem(premium, 'scope-above-tier', 409)).toBe(true);
    expect(premium.body).toMatchObject({
      tier: 'lite',
      scopes: ['metrics:premium:read'],
      requiredTier: 'advanced',
    });
    expect(premium.body.detail).toMatch(/"metrics:premium:read".*"advanced".*"lite"/);
    const one = await p.api.post(`/v1/entities/${lite.id}/tokens`, {
      name: 'x',
      scopes: ['metric:latency_p95:read'],
    });
    expect(isProblem(one, 'scope-above-tier', 409)).toBe(true);
    expect(one.body.scopes).toEqual(['metric:latency_p95:read']);
    const basic = await p.api.post(`/v1/entities/${lite.id}/tokens`, {
      name: 'basic',
      scopes: ['metric:requests:read', 'metrics:core:read'],
    });
    expect(basic.status).toBe(201);
    const patch = await p.api.patch(`/v1/tokens/${basic.body.id}`, {
      scopes: ['metrics:premium:read'],
    });
    expect(isProblem(patch, 'scope-above-tier', 409)).toBe(true);
    expect((await p.api.get(`/v1/tokens/${basic.body.id}`)).body.scopes).toEqual([
      'metric:requests:read',
      'metrics:core:read',
    ]);
  });

  it('a downgrade below a token’s scopes is refused, naming the tokens; narrowing them first lets it pass', async () => {
    const e = await entity('advanced', 'Downgrader');
    const t = (
      await p.api.post(`/v1/entities/${e.id}/tokens`, {
        name: 'premium-reader',
        scopes: ['metrics:premium:read'],
      })
    ).body;
    const down = await p.api.patch(`/v1/entities/${e.id}`, { tier: 'lite' });
    expect(isProblem(down, 'scope-above-tier', 409)).toBe(true);
    expect(down.body.tokens).toEqual([
      { id: t.id, name: 'premium-reader', scopes: ['metrics:premium:read'] },
    ]);
    expect(down.body.detail).toContain(t.id);
    expect(down.body.detail).toMatch(/Narrow their scopes first/);
    expect((await p.api.patch(`/v1/tokens/${t.id}`, { scopes: ['metrics:read'] })).status).toBe(
      200,
    );
    expect((await p.api.patch(`/v1/entities/${e.id}`, { tier: 'lite' })).status).toBe(200);
  });

  it('every permission change is audited with what changed, never a value', async () => {
    const e = await entity('advanced');
    const t = (await p.api.post(`/v1/entities/${e.id}/tokens`, { name: 'audited' })).body;
    await p.api.patch(`/v1/tokens/${t.id}`, {
      scopes: ['metrics:core:read'],
      allowedIps: ['10.0.0.0/8'],
    });
    await p.api.patch(`/v1/tokens/${t.id}`, { scopes: ['metrics:premium:read'] }, {});
    const events = (await p.api.get(`/v1/audit-events?entityId=${e.id}`)).body.items;
    const create = events.find((x: { action: string }) => x.action === 'token.create');
    expect(create.detail).toContain('scopes=["metrics:read"]');
    const update = events.find(
      (x: { action: string; outcome: string }) =>
        x.action === 'token.update' && x.outcome === 'success',
    );
    expect(update.detail).toBe(
      'permissions: scopes=["metrics:core:read"] allowedIps=["10.0.0.0/8"]',
    );
    expect(JSON.stringify(events)).not.toContain(t.value);
  });
});

describe.each(ENGINES)('a database made before permissions, on %s', (engine) => {
  it('migrates: existing tokens keep working with the defaults', async () => {
    // The schema and rows as the code before permissions wrote them (migrations 1 and 2).
    const value = generateSecret('apiToken');
    const tokenId = '01900000-0000-7000-8000-000000000002';
    await upgradedFrom(
      engine,
      2,
      ({ tx, box, now }) =>
        tx.run(
          `INSERT INTO tokens (id, entity_id, name, status, expires_at, hint, digest, sealed_value,
             version, created_at, updated_at) VALUES ($1, $2, 'old', 'active', NULL, 'tpt_…', $3, $4, 1, $5, $5)`,
          [tokenId, OLD_ENTITY, box.digest(value), box.seal(value, tokenId), now],
        ),
      async (server) => {
        const api = new Api(server.url, server.adminKey);
        expect((await api.get(`/v1/tokens/${tokenId}`)).body).toMatchObject(SECRET_DEFAULTS);
        expect((await api.metric(value, 'latency_p99')).status).toBe(200);
        const intro = await api.post('/v1/introspect', { token: value });
        expect(intro.body).toMatchObject({ active: true, type: 'secret', scope: 'metrics:read' });
      },
    );
  });
});
