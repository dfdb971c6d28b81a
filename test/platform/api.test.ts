/**
 * The platform API over real loopback HTTP, once on SQLite and once on
 * PostgreSQL: every README "Platform API" route, the domain rules under concurrency, token
 * security, access-key scoping, idempotency, ETags, and no secret in the logs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWellFormedSecret, SECRET_PATTERN } from '../../core/domain/secret-format.ts';
import { ENGINES, isProblem, type Platform, startPlatform } from './helpers.ts';

describe.each(ENGINES)('platform API on %s', (engine) => {
  let p: Platform;
  /** Every secret the platform hands out in this suite; none may appear in a log line. */
  const secrets = new Set<string>();
  const keep = <T extends { value?: string; key?: string; defaultToken?: { value: string } }>(
    body: T,
  ): T => {
    if (body?.value) secrets.add(body.value);
    if (body?.key) secrets.add(body.key);
    if (body?.defaultToken?.value) secrets.add(body.defaultToken.value);
    return body;
  };

  beforeAll(async () => {
    p = await startPlatform(engine);
    secrets.add(p.server.adminKey);
  });
  afterAll(async () => {
    await p?.close();
  });

  async function entity(body: Record<string, unknown>, key?: string) {
    const r = await p.api.post('/v1/entities', body, key ? { key } : {});
    expect(r.status, r.text).toBe(201);
    return keep(r.body);
  }
  async function token(entityId: string, body: Record<string, unknown> = { name: 't' }) {
    const r = await p.api.post(`/v1/entities/${entityId}/tokens`, body);
    expect(r.status, r.text).toBe(201);
    return keep(r.body);
  }

  describe('meta', () => {
    it('health, readiness, tiers, metrics and OpenAPI 3.1 of every route', async () => {
      expect((await p.api.get('/healthz', { key: null })).status).toBe(200);
      expect((await p.api.get('/readyz', { key: null })).status).toBe(200);
      const tiers = await p.api.get('/v1/tiers', { key: null });
      expect(tiers.body).toEqual({
        items: [
          { name: 'lite', rank: 0, tokenQuota: 1 },
          { name: 'advanced', rank: 1, tokenQuota: 5 },
        ],
      });
      const doc = await p.api.get('/openapi.json', { key: null });
      expect(doc.body.openapi).toBe('3.1.0');
      const paths = Object.keys(doc.body.paths);
      for (const route of [
        '/healthz',
        '/readyz',
        '/metrics',
        '/openapi.json',
        '/v1/tiers',
        '/v1/entities',
        '/v1/entities/{id}',
        '/v1/entities/{id}/tokens',
        '/v1/tokens/{id}',
        '/v1/tokens/{id}/reveal',
        '/v1/tokens/{id}/rotate',
        '/v1/introspect',
        '/v1/entities/{id}/access-keys',
        '/v1/access-keys/{id}',
        '/v1/audit-events',
        '/v1/analytics/metrics',
        '/v1/analytics/metrics/{name}',
      ]) {
        expect(paths).toContain(route);
      }
      expect(doc.body.paths['/v1/entities'].post.requestBody).toBeDefined();
      expect(doc.body.paths['/v1/entities'].post.requestBody.required).toBe(true);
      expect(doc.body.paths['/v1/tokens/{id}/rotate'].post.requestBody.required).toBe(false);
      expect(doc.body.paths['/v1/tokens/{id}/reveal'].post.requestBody.required).toBe(false);
    });

    it('management routes need a credential', async () => {
      const r = await p.api.get('/v1/entities', { key: null });
      expect(isProblem(r, 'unauthorized', 401)).toBe(true);
      const wrong = await p.api.get('/v1/entities', { key: 'tpadm_not-the-key-at-all' });
      expect(isProblem(wrong, 'unauthorized', 401)).toBe(true);
    });
  });

  describe('entities and default tokens', () => {
    it('creating an entity issues a default token counted against the quota', async () => {
      const e = await entity({ name: 'Acme', kind: 'reseller', tier: 'advanced' });
      expect(e).toMatchObject({ name: 'Acme', kind: 'reseller', tier: 'advanced', parentId: null });
      expect(e.tokenQuota).toBe(5);
      expect(e.tokenCount).toBe(1);
      expect(e.defaultToken.name).toBe('default');
      expect(e.defaultToken.status).toBe('active');
      expect(isWellFormedSecret(e.defaultToken.value, 'apiToken')).toBe(true);
      expect(e.defaultToken.hint.endsWith(e.defaultToken.value.slice(-4))).toBe(true);
      // expiry defaults to 365 days after creation
      const days =
        (Date.parse(e.defaultToken.expiresAt) - Date.parse(e.defaultToken.createdAt)) / 86_400_000;
      expect(days).toBe(365);
      const list = await p.api.get(`/v1/entities/${e.id}/tokens`);
      expect(list.body.items).toHaveLength(1);
      expect(list.body.items[0].value).toBeUndefined();
      expect(list.body.nextCursor).toBeNull();

      const bare = await entity({ name: 'Bare', kind: 'customer', defaultToken: false });
      expect(bare.tier).toBe('lite');
      expect(bare.tokenCount).toBe(0);
      expect(bare.defaultToken).toBeUndefined();
    });

    it('a lite entity holds one token: its default token fills the quota', async () => {
      const e = await entity({ name: 'Lite', kind: 'customer' });
      const r = await p.api.post(`/v1/entities/${e.id}/tokens`, { name: 'second' });
      expect(isProblem(r, 'quota-exceeded', 409)).toBe(true);
      expect(r.body).toMatchObject({ tier: 'lite', quota: 1, inUse: 1 });
      expect(r.body.detail).toMatch(/1 of 1/);
      // removing the last token is allowed, after which one fits again
      expect((await p.api.delete(`/v1/tokens/${e.defaultToken.id}`)).status).toBe(204);
      await token(e.id, { name: 'again' });
    });

    it('lists with pagination and reads with an ETag', async () => {
      const parent = await entity({ name: 'Pager', kind: 'reseller', defaultToken: false });
      for (let i = 0; i < 5; i++) {
        await entity({ name: `c${i}`, kind: 'customer', parentId: parent.id, defaultToken: false });
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const q: string = `?parentId=${parent.id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const page = await p.api.get(`/v1/entities${q}`);
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.items.map((x: { name: string }) => x.name));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
      const one = await p.api.get(`/v1/entities/${parent.id}`);
      expect(one.status).toBe(200);
      expect(one.headers.get('etag')).toMatch(/^".+"$/);
    });

    it('search: name contains the text, any case, wildcards literal, with paging', async () => {
      const parent = await entity({ name: 'Finder', kind: 'reseller', defaultToken: false });
      for (const name of ['Acme Shop', 'acme labs', 'Globex', '100% ACME', 'a_c']) {
        await entity({ name, kind: 'customer', parentId: parent.id, defaultToken: false });
      }
      const names = async (q: string) => {
        const r = await p.api.get(`/v1/entities?parentId=${parent.id}&${q}`);
        expect(r.status, r.text).toBe(200);
        return r.body.items.map((x: { name: string }) => x.name).sort();
      };
      expect(await names('search=ACME')).toEqual(['100% ACME', 'Acme Shop', 'acme labs']);
      expect(await names('search=%25')).toEqual(['100% ACME']);
      expect(await names('search=_')).toEqual(['a_c']);
      const first = await p.api.get(`/v1/entities?parentId=${parent.id}&search=acme&limit=2`);
      expect(first.body.items).toHaveLength(2);
      const rest = await p.api.get(
        `/v1/entities?parentId=${parent.id}&search=acme&limit=2&cursor=${first.body.nextCursor}`,
      );
      expect(rest.body.items).toHaveLength(1);
      expect(rest.body.nextCursor).toBeNull();
      const all = await p.api.get('/v1/entities?search=globex&limit=500');
      expect(all.body.items.map((x: { name: string }) => x.name)).toContain('Globex');
    });

    it('If-Match: a stale ETag gets 412, the current one succeeds', async () => {
      const e = await entity({ name: 'Tagged', kind: 'customer', defaultToken: false });
      const read = await p.api.get(`/v1/entities/${e.id}`);
      const etag = read.headers.get('etag') as string;
      const ok = await p.api.patch(
        `/v1/entities/${e.id}`,
        { name: 'Tagged 2' },
        {
          headers: { 'if-match': etag },
        },
      );
      expect(ok.status).toBe(200);
      expect(ok.body.name).toBe('Tagged 2');
      expect(ok.headers.get('etag')).not.toBe(etag);
      const stale = await p.api.patch(
        `/v1/entities/${e.id}`,
        { name: 'Tagged 3' },
        {
          headers: { 'if-match': etag },
        },
      );
      expect(isProblem(stale, 'precondition-failed', 412)).toBe(true);
      expect((await p.api.get(`/v1/entities/${e.id}`)).body.name).toBe('Tagged 2');

      const t = await token(e.id);
      const tr = await p.api.get(`/v1/tokens/${t.id}`);
      const tag = tr.headers.get('etag') as string;
      expect(tag).toBeTruthy();
      await p.api.patch(
        `/v1/tokens/${t.id}`,
        { name: 'renamed' },
        { headers: { 'if-match': tag } },
      );
      const stale2 = await p.api.patch(
        `/v1/tokens/${t.id}`,
        { name: 'x' },
        {
          headers: { 'if-match': tag },
        },
      );
      expect(isProblem(stale2, 'precondition-failed', 412)).toBe(true);
    });

    it('the ETag changes with tokenCount; If-Match compares strongly (a weak tag never matches)', async () => {
      const e = await entity({ name: 'Counted', kind: 'customer', tier: 'advanced' });
      const before = (await p.api.get(`/v1/entities/${e.id}`)).headers.get('etag') as string;
      await token(e.id);
      const after = await p.api.get(`/v1/entities/${e.id}`);
      expect(after.body.tokenCount).toBe(2);
      const etag = after.headers.get('etag') as string;
      expect(etag).not.toBe(before);
      expect(etag).toMatch(/^"[^"]+"$/);
      const stale = await p.api.patch(
        `/v1/entities/${e.id}`,
        { name: 'a' },
        { headers: { 'if-match': before } },
      );
      expect(isProblem(stale, 'precondition-failed', 412)).toBe(true);
      const weak = await p.api.patch(
        `/v1/entities/${e.id}`,
        { name: 'b' },
        { headers: { 'if-match': `W/${etag}` } },
      );
      expect(isProblem(weak, 'precondition-failed', 412)).toBe(true);
      const listed = await p.api.patch(
        `/v1/entities/${e.id}`,
        { name: 'c' },
        { headers: { 'if-match': `"nope", ${etag}` } },
      );
      expect(listed.status, listed.text).toBe(200);
      const any = await p.api.patch(
        `/v1/entities/${e.id}`,
        { name: 'd' },
        { headers: { 'if-match': '*' } },
      );
      expect(any.status).toBe(200);
      const tr = await p.api.get(`/v1/tokens/${e.defaultToken.id}`);
      const tag = tr.headers.get('etag') as string;
      const weakToken = await p.api.patch(
        `/v1/tokens/${e.defaultToken.id}`,
        { name: 'w' },
        { headers: { 'if-match': `W/${tag}` } },
      );
      expect(isProblem(weakToken, 'precondition-failed', 412)).toBe(true);
      expect(
        (
          await p.api.patch(
            `/v1/tokens/${e.defaultToken.id}`,
            { name: 's' },
            { headers: { 'if-match': tag } },
          )
        ).status,
      ).toBe(200);
    });

    it('deleting an entity with children is refused; deleting a leaf stops its tokens', async () => {
      const parent = await entity({ name: 'Parent', kind: 'reseller', tier: 'advanced' });
      const child = await entity({ name: 'Child', kind: 'customer', parentId: parent.id });
      const refused = await p.api.delete(`/v1/entities/${parent.id}`);
      expect(isProblem(refused, 'has-children', 409)).toBe(true);
      const value = child.defaultToken.value;
      expect((await p.api.get('/v1/analytics/metrics', { key: value })).status).toBe(200);
      expect((await p.api.delete(`/v1/entities/${child.id}`)).status).toBe(204);
      const after = await p.api.get('/v1/analytics/metrics', { key: value });
      expect(isProblem(after, 'unauthorized', 401)).toBe(true);
      expect((await p.api.get(`/v1/entities/${child.id}`)).status).toBe(404);
      expect((await p.api.get(`/v1/tokens/${child.defaultToken.id}`)).status).toBe(404);
      expect((await p.api.delete(`/v1/entities/${parent.id}`)).status).toBe(204);
    });

    it('a customer cannot have children', async () => {
      const c = await entity({ name: 'Leaf', kind: 'customer', defaultToken: false });
      const r = await p.api.post('/v1/entities', { name: 'x', kind: 'customer', parentId: c.id });
      expect(isProblem(r, 'validation', 400)).toBe(true);
      expect(r.body.errors[0].path).toBe('parentId');
    });
  });

  describe('tier ceiling', () => {
    it('is enforced on create, on a child upgrade and on a parent downgrade', async () => {
      const lite = await entity({ name: 'LiteParent', kind: 'reseller', defaultToken: false });
      const over = await p.api.post('/v1/entities', {
        name: 'TooHigh',
        kind: 'customer',
        parentId: lite.id,
        tier: 'advanced',
      });
      expect(isProblem(over, 'tier-ceiling', 409)).toBe(true);
      expect(over.body.detail).toMatch(/LiteParent/);

      const child = await entity({ name: 'LiteChild', kind: 'customer', parentId: lite.id });
      const upgrade = await p.api.patch(`/v1/entities/${child.id}`, { tier: 'advanced' });
      expect(isProblem(upgrade, 'tier-ceiling', 409)).toBe(true);

      const adv = await entity({ name: 'AdvParent', kind: 'reseller', tier: 'advanced' });
      const advChild = await entity({
        name: 'AdvChild',
        kind: 'reseller',
        parentId: adv.id,
        tier: 'advanced',
        defaultToken: false,
      });
      const downgrade = await p.api.patch(`/v1/entities/${adv.id}`, { tier: 'lite' });
      expect(isProblem(downgrade, 'tier-ceiling', 409)).toBe(true);
      // after the child comes down, the parent may follow
      expect((await p.api.patch(`/v1/entities/${advChild.id}`, { tier: 'lite' })).status).toBe(200);
      const ok = await p.api.patch(`/v1/entities/${adv.id}`, { tier: 'lite' });
      expect(ok.status, ok.text).toBe(200);
      expect(ok.body).toMatchObject({ tier: 'lite', tokenQuota: 1 });
    });

    it('a downgrade that would leave the entity over quota is refused', async () => {
      const e = await entity({ name: 'Busy', kind: 'customer', tier: 'advanced' });
      await token(e.id);
      await token(e.id);
      const r = await p.api.patch(`/v1/entities/${e.id}`, { tier: 'lite' });
      expect(isProblem(r, 'quota-exceeded', 409)).toBe(true);
      expect(r.body).toMatchObject({ tier: 'lite', quota: 1, inUse: 3 });
      expect((await p.api.get(`/v1/entities/${e.id}`)).body.tier).toBe('advanced');
    });

    it('an unknown tier is a validation problem', async () => {
      const r = await p.api.post('/v1/entities', { name: 'x', kind: 'customer', tier: 'gold' });
      expect(isProblem(r, 'validation', 400)).toBe(true);
      expect(r.body.errors[0]).toMatchObject({ path: 'tier' });
    });
  });

  describe('quota under concurrency', () => {
    it('50 concurrent creates against one entity never exceed its quota', async () => {
      const e = await entity({
        name: 'Race',
        kind: 'customer',
        tier: 'advanced',
        defaultToken: false,
      });
      const replies = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          p.api.post(`/v1/entities/${e.id}/tokens`, { name: `t${i}` }),
        ),
      );
      const created = replies.filter((r) => r.status === 201);
      const refused = replies.filter((r) => isProblem(r, 'quota-exceeded', 409));
      for (const r of created) keep(r.body);
      expect(created).toHaveLength(5);
      expect(refused).toHaveLength(45);
      expect(new Set(created.map((r) => r.body.id)).size).toBe(5);
      expect((await p.api.get(`/v1/entities/${e.id}`)).body.tokenCount).toBe(5);
      expect((await p.api.get(`/v1/entities/${e.id}/tokens`)).body.items).toHaveLength(5);
    });

    it('a parent downgrade racing child upgrades never leaves a child above its parent', async () => {
      for (let round = 0; round < 5; round++) {
        const parent = await entity({
          name: `P${round}`,
          kind: 'reseller',
          tier: 'advanced',
          defaultToken: false,
        });
        const kids = await Promise.all(
          Array.from({ length: 4 }, (_, i) =>
            entity({
              name: `K${round}.${i}`,
              kind: 'customer',
              parentId: parent.id,
              defaultToken: false,
            }),
          ),
        );
        const replies = await Promise.all([
          p.api.patch(`/v1/entities/${parent.id}`, { tier: 'lite' }),
          ...kids.map((k) => p.api.patch(`/v1/entities/${k.id}`, { tier: 'advanced' })),
        ]);
        for (const r of replies) expect([200, 409], r.text).toContain(r.status);
        const after = await p.api.get(`/v1/entities?parentId=${parent.id}`);
        const parentTier = (await p.api.get(`/v1/entities/${parent.id}`)).body.tier;
        if (parentTier === 'lite') {
          for (const k of after.body.items) expect(k.tier).toBe('lite');
        }
      }
    });

    it('concurrent creates of default-token entities under one lite parent each get exactly one token', async () => {
      const parent = await entity({ name: 'Many', kind: 'reseller', defaultToken: false });
      const replies = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          p.api.post('/v1/entities', { name: `m${i}`, kind: 'customer', parentId: parent.id }),
        ),
      );
      for (const r of replies) {
        expect(r.status).toBe(201);
        keep(r.body);
        expect(r.body.tokenCount).toBe(1);
      }
    });
  });

  describe('tokens', () => {
    it('reveal returns the issued value; edit name, expiry and status', async () => {
      const e = await entity({
        name: 'Rev',
        kind: 'customer',
        tier: 'advanced',
        defaultToken: false,
      });
      const t = await token(e.id, { name: 'first', expiresAt: null });
      expect(t.expiresAt).toBeNull();
      const reveal = await p.api.post(`/v1/tokens/${t.id}/reveal`);
      expect(reveal.status).toBe(200);
      expect(reveal.headers.get('cache-control')).toBe('no-store');
      expect(reveal.body).toEqual({ value: t.value });
      // an explicit empty JSON body works as well
      expect((await p.api.post(`/v1/tokens/${t.id}/reveal`, {})).body.value).toBe(t.value);

      const exp = new Date(Date.now() + 7 * 86_400_000).toISOString();
      const edited = await p.api.patch(`/v1/tokens/${t.id}`, {
        name: 'second',
        expiresAt: exp,
        status: 'disabled',
      });
      expect(edited.status).toBe(200);
      expect(edited.body).toMatchObject({ name: 'second', status: 'disabled', expiresAt: exp });
      const read = await p.api.get(`/v1/tokens/${t.id}`);
      expect(read.body).toMatchObject({ name: 'second', status: 'disabled' });
      expect(read.body.value).toBeUndefined();
    });

    it('disabled, expired and deleted tokens get 401 on analytics; re-enabled works again', async () => {
      const e = await entity({
        name: 'States',
        kind: 'customer',
        tier: 'advanced',
        defaultToken: false,
      });
      const t = await token(e.id);
      expect((await p.api.metric(t.value, 'requests')).status).toBe(200);

      await p.api.patch(`/v1/tokens/${t.id}`, { status: 'disabled' });
      expect(isProblem(await p.api.metric(t.value, 'requests'), 'unauthorized', 401)).toBe(true);
      await p.api.patch(`/v1/tokens/${t.id}`, { status: 'active' });
      expect((await p.api.metric(t.value, 'requests')).status).toBe(200);

      // An expiry already past is refused: the token could never be used, yet would use quota.
      for (const expiresAt of ['2020-01-01T00:00:00Z', '0000-01-01T00:00:00Z']) {
        const past = await p.api.post(`/v1/entities/${e.id}/tokens`, { name: 'past', expiresAt });
        expect(isProblem(past, 'validation', 400), past.text).toBe(true);
        expect(past.body.errors[0].path).toBe('expiresAt');
        expect(past.body.errors[0].message).toContain('must be in the future');
        const patched = await p.api.patch(`/v1/tokens/${t.id}`, { expiresAt });
        expect(isProblem(patched, 'validation', 400), patched.text).toBe(true);
      }

      const soon = await token(e.id, {
        name: 'soon',
        expiresAt: new Date(p.clock.now() + 60_000).toISOString(),
      });
      expect((await p.api.metric(soon.value, 'requests')).status).toBe(200);
      p.clock.advance(61_000);
      expect(isProblem(await p.api.metric(soon.value, 'requests'), 'unauthorized', 401)).toBe(true);

      await p.api.delete(`/v1/tokens/${t.id}`);
      expect(isProblem(await p.api.metric(t.value, 'requests'), 'unauthorized', 401)).toBe(true);

      const junk = await p.api.get('/v1/analytics/metrics', { key: 'tpt_notatokenatall' });
      expect(isProblem(junk, 'unauthorized', 401)).toBe(true);
      expect((await p.api.get('/v1/analytics/metrics', { key: null })).status).toBe(401);
    });

    it('rotation: same id, new value; the old one verifies within the grace, never after', async () => {
      const e = await entity({
        name: 'Rot',
        kind: 'customer',
        tier: 'advanced',
        defaultToken: false,
      });
      const t = await token(e.id);
      const r = await p.api.post(`/v1/tokens/${t.id}/rotate`, { gracePeriodSeconds: 120 });
      expect(r.status).toBe(200);
      keep(r.body);
      expect(r.body.id).toBe(t.id);
      expect(r.body.value).not.toBe(t.value);
      expect(r.body.hint).not.toBe(t.hint);
      expect((await p.api.metric(t.value, 'requests')).status).toBe(200);
      expect((await p.api.metric(r.body.value, 'requests')).status).toBe(200);
      expect((await p.api.post(`/v1/tokens/${t.id}/reveal`)).body.value).toBe(r.body.value);
      p.clock.advance(121_000);
      expect(isProblem(await p.api.metric(t.value, 'requests'), 'unauthorized', 401)).toBe(true);
      expect((await p.api.metric(r.body.value, 'requests')).status).toBe(200);

      // grace 0 (and no body at all): the old value dies at once
      const r2 = await p.api.post(`/v1/tokens/${t.id}/rotate`);
      expect(r2.status).toBe(200);
      keep(r2.body);
      expect(isProblem(await p.api.metric(r.body.value, 'requests'), 'unauthorized', 401)).toBe(
        true,
      );
      expect((await p.api.metric(r2.body.value, 'requests')).status).toBe(200);
    });

    it('introspection answers RFC 7662-style', async () => {
      const e = await entity({ name: 'Intro', kind: 'customer', tier: 'advanced' });
      const yes = await p.api.post('/v1/introspect', { token: e.defaultToken.value });
      expect(yes.body).toEqual({
        active: true,
        tokenId: e.defaultToken.id,
        entityId: e.id,
        tier: 'advanced',
        exp: Math.floor(Date.parse(e.defaultToken.expiresAt) / 1000),
        type: 'secret',
        scope: 'metrics:read',
        allowedOrigins: [],
        allowedIps: [],
      });
      const no = await p.api.post('/v1/introspect', { token: 'tpt_nope' });
      expect(no.body).toEqual({ active: false });
      const anon = await p.api.post(
        '/v1/introspect',
        { token: e.defaultToken.value },
        { key: null },
      );
      expect(anon.status).toBe(401);
    });

    it('lastUsedAt is maintained without a write per request and survives a flush', async () => {
      const e = await entity({ name: 'Used', kind: 'customer', tier: 'advanced' });
      expect((await p.api.get(`/v1/tokens/${e.defaultToken.id}`)).body.lastUsedAt).toBeNull();
      await p.api.metric(e.defaultToken.value, 'requests');
      const read = await p.api.get(`/v1/tokens/${e.defaultToken.id}`);
      expect(read.body.lastUsedAt).not.toBeNull();
    });
  });

  describe('analytics', () => {
    it('lite reads the basic set; extensive metrics answer 403 tier-insufficient', async () => {
      const lite = await entity({ name: 'LiteA', kind: 'customer' });
      const cat = await p.api.get('/v1/analytics/metrics', { key: lite.defaultToken.value });
      expect(cat.status).toBe(200);
      expect(cat.body.tier).toBe('lite');
      const names = cat.body.metrics.map((m: { name: string }) => m.name);
      expect(names).toContain('requests');
      expect(names).not.toContain('latency_p95');
      const denied = await p.api.metric(lite.defaultToken.value, 'latency_p95');
      expect(isProblem(denied, 'tier-insufficient', 403)).toBe(true);
      expect(denied.body).toMatchObject({ tier: 'lite', requiredTier: 'advanced' });
      expect((await p.api.metric(lite.defaultToken.value, 'requests')).status).toBe(200);
      expect(isProblem(await p.api.metric(lite.defaultToken.value, 'nope'), 'not-found', 404)).toBe(
        true,
      );

      const adv = await entity({ name: 'AdvA', kind: 'customer', tier: 'advanced' });
      const all = await p.api.get('/v1/analytics/metrics', { key: adv.defaultToken.value });
      expect(all.body.metrics.map((m: { name: string }) => m.name)).toContain('latency_p95');
      expect((await p.api.metric(adv.defaultToken.value, 'latency_p95')).status).toBe(200);
    });

    it('points are deterministic for (metric, entity, time)', async () => {
      const e = await entity({ name: 'Det', kind: 'customer', tier: 'advanced' });
      const q = '?from=2025-03-01T00:00:00Z&to=2025-03-01T06:00:00Z';
      const a = await p.api.metric(e.defaultToken.value, 'viewers', q);
      const b = await p.api.metric(e.defaultToken.value, 'viewers', q);
      expect(a.status).toBe(200);
      expect(a.body.points.length).toBeGreaterThan(10);
      expect(a.body).toEqual(b.body);
      expect(a.body.points[0].t).toBe('2025-03-01T00:00:00.000Z');
    });

    it('an entity upgrade takes effect for its tokens at once', async () => {
      const e = await entity({ name: 'Up', kind: 'customer' });
      const v = e.defaultToken.value;
      expect((await p.api.metric(v, 'latency_p95')).status).toBe(403);
      await p.api.patch(`/v1/entities/${e.id}`, { tier: 'advanced' });
      expect((await p.api.metric(v, 'latency_p95')).status).toBe(200);
    });
  });

  describe('idempotency', () => {
    it('a replay returns the same id and value and consumes no quota; another body gets 422', async () => {
      const e = await entity({
        name: 'Idem',
        kind: 'customer',
        tier: 'advanced',
        defaultToken: false,
      });
      const headers = { 'idempotency-key': `create-${engine}-1` };
      const first = await p.api.post(`/v1/entities/${e.id}/tokens`, { name: 'once' }, { headers });
      const again = await p.api.post(`/v1/entities/${e.id}/tokens`, { name: 'once' }, { headers });
      keep(first.body);
      expect(first.status).toBe(201);
      expect(again.status).toBe(201);
      expect(again.body.id).toBe(first.body.id);
      expect(again.body.value).toBe(first.body.value);
      expect((await p.api.get(`/v1/entities/${e.id}`)).body.tokenCount).toBe(1);
      const conflict = await p.api.post(
        `/v1/entities/${e.id}/tokens`,
        { name: 'other' },
        { headers },
      );
      expect(isProblem(conflict, 'idempotency-conflict', 422)).toBe(true);
      expect((await p.api.get(`/v1/entities/${e.id}`)).body.tokenCount).toBe(1);
    });

    it('concurrent requests with one key issue once', async () => {
      const e = await entity({
        name: 'IdemRace',
        kind: 'customer',
        tier: 'advanced',
        defaultToken: false,
      });
      const headers = { 'idempotency-key': `race-${engine}` };
      const replies = await Promise.all(
        Array.from({ length: 10 }, () =>
          p.api.post(`/v1/entities/${e.id}/tokens`, { name: 'one' }, { headers }),
        ),
      );
      for (const r of replies) expect(r.status, r.text).toBe(201);
      keep(replies[0]?.body);
      expect(new Set(replies.map((r) => r.body.id)).size).toBe(1);
      expect((await p.api.get(`/v1/entities/${e.id}`)).body.tokenCount).toBe(1);
    });

    it('entity creates, rotations and access keys are idempotent too', async () => {
      const headers = { 'idempotency-key': `entity-${engine}` };
      const body = { name: 'IdemEntity', kind: 'reseller', tier: 'advanced' };
      const a = await p.api.post('/v1/entities', body, { headers });
      const b = await p.api.post('/v1/entities', body, { headers });
      keep(a.body);
      expect(b.body.id).toBe(a.body.id);
      expect(b.body.defaultToken.value).toBe(a.body.defaultToken.value);

      const tid = a.body.defaultToken.id;
      const rh = { 'idempotency-key': `rotate-${engine}` };
      const r1 = await p.api.post(
        `/v1/tokens/${tid}/rotate`,
        { gracePeriodSeconds: 5 },
        { headers: rh },
      );
      const r2 = await p.api.post(
        `/v1/tokens/${tid}/rotate`,
        { gracePeriodSeconds: 5 },
        { headers: rh },
      );
      keep(r1.body);
      expect(r2.body.value).toBe(r1.body.value);
      expect((await p.api.post(`/v1/tokens/${tid}/reveal`)).body.value).toBe(r1.body.value);

      const kh = { 'idempotency-key': `key-${engine}` };
      const k1 = await p.api.post(
        `/v1/entities/${a.body.id}/access-keys`,
        { name: 'ci', role: 'viewer' },
        { headers: kh },
      );
      const k2 = await p.api.post(
        `/v1/entities/${a.body.id}/access-keys`,
        { name: 'ci', role: 'viewer' },
        { headers: kh },
      );
      keep(k1.body);
      expect(k2.body).toEqual(k1.body);
      expect((await p.api.get(`/v1/entities/${a.body.id}/access-keys`)).body.items).toHaveLength(1);
    });

    it('a request that failed is not stored and can be retried with the same key', async () => {
      const e = await entity({ name: 'Retry', kind: 'customer' }); // lite, full
      const headers = { 'idempotency-key': `retry-${engine}` };
      const refused = await p.api.post(`/v1/entities/${e.id}/tokens`, { name: 'x' }, { headers });
      expect(refused.status).toBe(409);
      await p.api.delete(`/v1/tokens/${e.defaultToken.id}`);
      const ok = await p.api.post(`/v1/entities/${e.id}/tokens`, { name: 'x' }, { headers });
      expect(ok.status).toBe(201);
      keep(ok.body);
    });
  });

  describe('access keys', () => {
    it('act on their subtree only; anything outside answers 404', async () => {
      const r1 = await entity({ name: 'R1', kind: 'reseller', tier: 'advanced' });
      const c1 = await entity({ name: 'C1', kind: 'customer', parentId: r1.id });
      const r2 = await entity({ name: 'R2', kind: 'reseller', tier: 'advanced' });
      const k = await p.api.post(`/v1/entities/${r1.id}/access-keys`, {
        name: 'r1-admin',
        role: 'admin',
      });
      expect(k.status).toBe(201);
      keep(k.body);
      expect(isWellFormedSecret(k.body.key, 'accessKey')).toBe(true);
      const key = k.body.key as string;
      const as = { key };

      expect((await p.api.get(`/v1/entities/${r1.id}`, as)).status).toBe(200);
      expect((await p.api.get(`/v1/entities/${c1.id}`, as)).status).toBe(200);
      expect(isProblem(await p.api.get(`/v1/entities/${r2.id}`, as), 'not-found', 404)).toBe(true);
      expect((await p.api.get(`/v1/tokens/${r2.defaultToken.id}`, as)).status).toBe(404);
      expect(
        (await p.api.post(`/v1/tokens/${r2.defaultToken.id}/reveal`, undefined, as)).status,
      ).toBe(404);
      expect((await p.api.patch(`/v1/entities/${r2.id}`, { name: 'x' }, as)).status).toBe(404);
      expect((await p.api.delete(`/v1/entities/${r2.id}`, as)).status).toBe(404);
      expect((await p.api.get(`/v1/entities/${r2.id}/tokens`, as)).status).toBe(404);
      expect((await p.api.post(`/v1/entities/${r2.id}/tokens`, { name: 'x' }, as)).status).toBe(
        404,
      );
      expect((await p.api.get(`/v1/entities?parentId=${r2.id}`, as)).status).toBe(404);
      expect((await p.api.get(`/v1/audit-events?entityId=${r2.id}`, as)).status).toBe(404);
      const intro = await p.api.post('/v1/introspect', { token: r2.defaultToken.value }, as);
      expect(intro.body).toEqual({ active: false });

      const list = await p.api.get('/v1/entities', as);
      expect(list.body.items.map((x: { id: string }) => x.id).sort()).toEqual(
        [r1.id, c1.id].sort(),
      );

      // creates inside the subtree work; a top-level entity is administrator-only
      const child = await p.api.post(
        '/v1/entities',
        { name: 'C2', kind: 'customer', parentId: r1.id },
        as,
      );
      expect(child.status).toBe(201);
      keep(child.body);
      const top = await p.api.post('/v1/entities', { name: 'Top', kind: 'reseller' }, as);
      expect(isProblem(top, 'forbidden', 403)).toBe(true);
      const outside = await p.api.post(
        '/v1/entities',
        { name: 'X', kind: 'customer', parentId: r2.id },
        as,
      );
      expect(outside.status).toBe(404);

      const events = await p.api.get('/v1/audit-events?limit=500', as);
      expect(events.status).toBe(200);
      for (const ev of events.body.items)
        expect([r1.id, c1.id, child.body.id]).toContain(ev.entityId);

      // a key of another subtree cannot be deleted; once deleted the key stops working
      const k2 = await p.api.post(`/v1/entities/${r2.id}/access-keys`, {
        name: 'r2',
        role: 'admin',
      });
      keep(k2.body);
      expect((await p.api.delete(`/v1/access-keys/${k2.body.id}`, as)).status).toBe(404);
      expect((await p.api.delete(`/v1/access-keys/${k.body.id}`)).status).toBe(204);
      expect((await p.api.get(`/v1/entities/${r1.id}`, as)).status).toBe(401);
    });

    it('viewers read but cannot write, reveal or rotate', async () => {
      const r = await entity({ name: 'V', kind: 'reseller', tier: 'advanced' });
      const k = await p.api.post(`/v1/entities/${r.id}/access-keys`, {
        name: 'ro',
        role: 'viewer',
      });
      keep(k.body);
      const as = { key: k.body.key as string };
      const tid = r.defaultToken.id;
      expect((await p.api.get(`/v1/entities/${r.id}`, as)).status).toBe(200);
      expect((await p.api.get(`/v1/entities/${r.id}/tokens`, as)).status).toBe(200);
      expect((await p.api.get(`/v1/tokens/${tid}`, as)).status).toBe(200);
      expect((await p.api.get(`/v1/entities/${r.id}/access-keys`, as)).status).toBe(200);
      expect((await p.api.get('/v1/audit-events', as)).status).toBe(200);
      const forbidden = [
        await p.api.post(`/v1/tokens/${tid}/reveal`, undefined, as),
        await p.api.post(`/v1/tokens/${tid}/rotate`, {}, as),
        await p.api.post(`/v1/entities/${r.id}/tokens`, { name: 'x' }, as),
        await p.api.patch(`/v1/tokens/${tid}`, { name: 'x' }, as),
        await p.api.delete(`/v1/tokens/${tid}`, as),
        await p.api.patch(`/v1/entities/${r.id}`, { name: 'x' }, as),
        await p.api.post('/v1/entities', { name: 'x', kind: 'customer', parentId: r.id }, as),
        await p.api.post(`/v1/entities/${r.id}/access-keys`, { name: 'x', role: 'admin' }, as),
        await p.api.delete(`/v1/access-keys/${k.body.id}`, as),
      ];
      for (const f of forbidden) expect(isProblem(f, 'forbidden', 403), f.text).toBe(true);
      // the refusals leave an audit trail
      const trail = await p.api.get(`/v1/audit-events?entityId=${r.id}&limit=500`);
      const reveal = trail.body.items.find(
        (ev: { action: string; outcome: string }) =>
          ev.action === 'token.reveal' && ev.outcome === 'failure',
      );
      expect(reveal).toMatchObject({
        actor: { type: 'access-key', id: k.body.id },
        detail: 'forbidden',
      });
    });
  });

  describe('audit', () => {
    it('records mutations and reveals with actor, target, outcome and request id', async () => {
      const e = await entity({ name: 'Audited', kind: 'customer', tier: 'advanced' });
      await p.api.post(`/v1/tokens/${e.defaultToken.id}/reveal`, undefined, {
        headers: { 'x-request-id': `req-${engine}-reveal` },
      });
      const trail = await p.api.get(`/v1/audit-events?entityId=${e.id}`);
      const actions = trail.body.items.map((ev: { action: string }) => ev.action);
      expect(actions).toEqual(['entity.create', 'token.reveal']);
      expect(trail.body.items[1]).toMatchObject({
        actor: { type: 'admin', id: null },
        targetType: 'token',
        targetId: e.defaultToken.id,
        outcome: 'success',
        requestId: `req-${engine}-reveal`,
      });
    });
  });

  describe('audit of every mutation', () => {
    it('updates and deletes are recorded with their entity', async () => {
      const e = await entity({ name: 'Trail', kind: 'reseller', tier: 'advanced' });
      const t = await token(e.id);
      await p.api.patch(`/v1/tokens/${t.id}`, { status: 'disabled' });
      await p.api.post(`/v1/tokens/${t.id}/rotate`, {});
      await p.api.delete(`/v1/tokens/${t.id}`);
      const k = await p.api.post(`/v1/entities/${e.id}/access-keys`, { name: 'k', role: 'viewer' });
      keep(k.body);
      await p.api.delete(`/v1/access-keys/${k.body.id}`);
      await p.api.patch(`/v1/entities/${e.id}`, { name: 'Trail 2' });
      await token(e.id);
      const refused = await p.api.patch(`/v1/entities/${e.id}`, { tier: 'lite' }); // 2 tokens > 1
      expect(refused.status).toBe(409);
      const trail = (await p.api.get(`/v1/audit-events?entityId=${e.id}`)).body.items;
      expect(
        trail.map((x: { action: string; outcome: string }) => `${x.action}:${x.outcome}`),
      ).toEqual([
        'entity.create:success',
        'token.create:success',
        'token.update:success',
        'token.rotate:success',
        'token.delete:success',
        'access-key.create:success',
        'access-key.delete:success',
        'entity.update:success',
        'token.create:success',
        'entity.update:failure',
      ]);
      expect(trail.at(-1).detail).toBe('quota-exceeded');
      expect(trail[2].detail).toBe('status=disabled');
    });
  });

  describe('malformed input', () => {
    it('every route answers 400 with field-level details', async () => {
      const e = await entity({ name: 'Shapes', kind: 'reseller', tier: 'advanced' });
      const tid = e.defaultToken.id;
      const tok = e.defaultToken.value;
      const cases: [
        string,
        string,
        { body?: unknown; rawBody?: string; key?: string; headers?: Record<string, string> },
        string,
      ][] = [
        ['POST', '/v1/entities', { body: {} }, 'name'],
        ['POST', '/v1/entities', { body: { name: 'x', kind: 'customer', color: 'red' } }, 'color'],
        ['POST', '/v1/entities', { body: { name: '', kind: 'customer' } }, 'name'],
        ['POST', '/v1/entities', { body: { name: 'x', kind: 'shop' } }, 'kind'],
        [
          'POST',
          '/v1/entities',
          { body: { name: 'x', kind: 'customer', parentId: 'nope' } },
          'parentId',
        ],
        [
          'POST',
          '/v1/entities',
          { body: { name: 'x', kind: 'customer', defaultToken: 'yes' } },
          'defaultToken',
        ],
        ['POST', '/v1/entities', { rawBody: '{"name":' }, ''],
        [
          'POST',
          '/v1/entities',
          {
            body: { name: 'x', kind: 'customer' },
            headers: { 'idempotency-key': 'k'.repeat(300) },
          },
          'headers.idempotency-key',
        ],
        ['GET', '/v1/entities?limit=0', {}, 'query.limit'],
        ['GET', '/v1/entities?limit=abc', {}, 'query.limit'],
        ['GET', '/v1/entities?parentId=x', {}, 'query.parentId'],
        ['GET', '/v1/entities?cursor=%21%21', {}, 'query.cursor'],
        ['GET', '/v1/entities?bogus=1', {}, 'query.bogus'],
        ['PATCH', `/v1/entities/${e.id}`, { body: { tier: 5 } }, 'tier'],
        ['PATCH', `/v1/entities/${e.id}`, { body: { kind: 'customer' } }, 'kind'],
        ['GET', `/v1/entities/${e.id}/tokens?limit=-1`, {}, 'query.limit'],
        [
          'POST',
          `/v1/entities/${e.id}/tokens`,
          { body: { name: 'x', expiresAt: 'tomorrow' } },
          'expiresAt',
        ],
        [
          'POST',
          `/v1/entities/${e.id}/tokens`,
          { body: { name: 'x', status: 'paused' } },
          'status',
        ],
        [
          'POST',
          `/v1/entities/${e.id}/tokens`,
          { body: { name: 'x', value: 'tpt_mine' } },
          'value',
        ],
        ['PATCH', `/v1/tokens/${tid}`, { body: { status: 'gone' } }, 'status'],
        ['PATCH', `/v1/tokens/${tid}`, { body: { entityId: e.id } }, 'entityId'],
        ['POST', `/v1/tokens/${tid}/reveal`, { body: { please: true } }, 'please'],
        [
          'POST',
          `/v1/tokens/${tid}/rotate`,
          { body: { gracePeriodSeconds: -1 } },
          'gracePeriodSeconds',
        ],
        [
          'POST',
          `/v1/tokens/${tid}/rotate`,
          { body: { gracePeriodSeconds: 1.5 } },
          'gracePeriodSeconds',
        ],
        ['POST', '/v1/introspect', { body: {} }, 'token'],
        [
          'POST',
          `/v1/entities/${e.id}/access-keys`,
          { body: { name: 'k', role: 'owner' } },
          'role',
        ],
        ['GET', '/v1/audit-events?entityId=x', {}, 'query.entityId'],
        ['GET', '/v1/audit-events?limit=100000', {}, 'query.limit'],
        ['GET', '/v1/analytics/metrics/Bad%20Name', { key: tok }, 'params.name'],
        ['GET', '/v1/analytics/metrics/requests?from=yesterday', { key: tok }, 'query.from'],
        [
          'GET',
          '/v1/analytics/metrics/requests?from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z',
          { key: tok },
          'query.from',
        ],
        ['GET', '/v1/analytics/metrics/requests?step=1', { key: tok }, 'query.step'],
      ];
      for (const [method, path, options, field] of cases) {
        const r = await p.api.call(method, path, options);
        const label = `${method} ${path} → ${r.status} ${r.text}`;
        expect(isProblem(r, 'validation', 400), label).toBe(true);
        expect(Array.isArray(r.body.errors) && r.body.errors.length > 0, label).toBe(true);
        for (const err of r.body.errors) {
          expect(typeof err.path, label).toBe('string');
          expect(typeof err.message, label).toBe('string');
        }
        expect(
          r.body.errors.map((x: { path: string }) => x.path),
          label,
        ).toContain(field);
      }
      expect((await p.api.get(`/v1/entities/${e.id}`)).body.tokenCount).toBe(1);
    });

    it('names: hidden characters are refused with the code point, other Unicode is kept (NFC)', async () => {
      const e = await entity({ name: 'Names', kind: 'reseller', tier: 'advanced' });
      const hidden: [string, string][] = [
        ['nul\u0000byte', 'U+0000'],
        ['two\nlines', 'U+000A'],
        ['evil\u202Etxt.exe', 'U+202E'],
        ['zero\u200Bwidth', 'U+200B'],
        ['\uFEFFbom', 'U+FEFF'],
        ['isolate\u2066x\u2069', 'U+2066'],
        ['esc\u001B[31m', 'U+001B'],
      ];
      const routes: [string, (name: string) => Record<string, unknown>][] = [
        ['/v1/entities', (name) => ({ name, kind: 'customer', parentId: e.id })],
        [`/v1/entities/${e.id}/tokens`, (name) => ({ name })],
        [`/v1/entities/${e.id}/access-keys`, (name) => ({ name, role: 'viewer' })],
      ];
      for (const [name, code] of hidden) {
        for (const [path, body] of routes) {
          const r = await p.api.post(path, body(name));
          expect(isProblem(r, 'validation', 400), `${path} ${JSON.stringify(name)}`).toBe(true);
          expect(r.body.errors[0].path).toBe('name');
          expect(r.body.errors[0].message).toContain(code);
        }
        const patch = await p.api.patch(`/v1/tokens/${e.defaultToken.id}`, { name });
        expect(isProblem(patch, 'validation', 400)).toBe(true);
      }
      for (const blank of ['', '   ', '\u3000']) {
        const r = await p.api.post(`/v1/entities/${e.id}/tokens`, { name: blank });
        expect(r.body.errors[0]).toEqual({ path: 'name', message: 'must not be empty or blank' });
      }
      // other scripts, emoji with joiners and combining marks are kept, normalised to NFC
      for (const [sent, stored] of [
        ['Cafe\u0301 ', 'Caf\u00e9'],
        [
          '\u{1F468}\u200D\u{1F469}\u200D\u{1F467} family',
          '\u{1F468}\u200D\u{1F469}\u200D\u{1F467} family',
        ],
        [
          '\u0634\u0631\u06a9\u062a\u200c\u0647\u0627',
          '\u0634\u0631\u06a9\u062a\u200c\u0647\u0627',
        ],
        ['\u6771\u4eac \u682a\u5f0f\u4f1a\u793e', '\u6771\u4eac \u682a\u5f0f\u4f1a\u793e'],
      ] as const) {
        const r = await p.api.post('/v1/entities', {
          name: sent,
          kind: 'customer',
          parentId: e.id,
          defaultToken: false,
        });
        expect(r.status, r.text).toBe(201);
        expect(r.body.name).toBe(stored);
        expect((await p.api.get(`/v1/entities/${r.body.id}`)).body.name).toBe(stored);
      }
    });

    it('ids are opaque: a path id of any shape that names nothing answers 404', async () => {
      const e = await entity({ name: 'Opaque', kind: 'reseller', tier: 'advanced' });
      const ids = [
        'ent_doesnotexist',
        'not-a-uuid',
        '123',
        'x',
        '00000000-0000-7000-8000-000000000000',
      ];
      for (const id of ids) {
        const cases: [string, string, unknown?][] = [
          ['GET', `/v1/entities/${id}`],
          ['PATCH', `/v1/entities/${id}`, { name: 'x' }],
          ['DELETE', `/v1/entities/${id}`],
          ['GET', `/v1/entities/${id}/tokens`],
          ['POST', `/v1/entities/${id}/tokens`, { name: 'x' }],
          ['GET', `/v1/entities/${id}/access-keys`],
          ['POST', `/v1/entities/${id}/access-keys`, { name: 'x', role: 'viewer' }],
          ['GET', `/v1/tokens/${id}`],
          ['PATCH', `/v1/tokens/${id}`, { name: 'x' }],
          ['DELETE', `/v1/tokens/${id}`],
          ['POST', `/v1/tokens/${id}/reveal`],
          ['POST', `/v1/tokens/${id}/rotate`],
          ['DELETE', `/v1/access-keys/${id}`],
        ];
        for (const [method, path, body] of cases) {
          const r = await p.api.call(method, path, body === undefined ? {} : { body });
          expect(isProblem(r, 'not-found', 404), `${method} ${path} → ${r.status} ${r.text}`).toBe(
            true,
          );
          expect(r.body.detail).toContain(id);
        }
      }
      // a malformed body still answers 400, and so does a malformed id in a query or body
      const body = await p.api.patch(`/v1/entities/${e.id}`, { tier: 5 });
      expect(isProblem(body, 'validation', 400)).toBe(true);
      expect(isProblem(await p.api.get('/v1/entities?parentId=x'), 'validation', 400)).toBe(true);
      const parent = await p.api.post('/v1/entities', {
        name: 'x',
        kind: 'customer',
        parentId: 'x',
      });
      expect(isProblem(parent, 'validation', 400)).toBe(true);
    });

    it('what the HTTP layer refuses is a problem too: 431, 414, a malformed URL', async () => {
      const huge = await p.api.get('/v1/entities', {
        headers: { 'x-padding': 'a'.repeat(100_000) },
      });
      expect(isProblem(huge, 'header-fields-too-large', 431), huge.text).toBe(true);
      expect(huge.body.detail).toMatch(/headers/);
      const tok = (await entity({ name: 'Long', kind: 'customer', tier: 'advanced' })).defaultToken;
      const long = await p.api.metric(tok.value, 'a'.repeat(5000));
      expect(isProblem(long, 'uri-too-long', 414), long.text).toBe(true);
      expect(long.body.requestId).toBe(long.headers.get('x-request-id'));
      expect(
        isProblem(await p.api.get(`/v1/tokens/${'x'.repeat(5000)}`), 'uri-too-long', 414),
      ).toBe(true);
      expect(isProblem(await p.api.get('/v1/entities/%zz'), 'bad-request', 400)).toBe(true);
    });

    it('oversize bodies get 413 and other media types 415, as problems', async () => {
      const big = await p.api.post('/v1/entities', {
        name: 'x'.repeat(70 * 1024),
        kind: 'customer',
      });
      expect(isProblem(big, 'payload-too-large', 413)).toBe(true);
      const text = await p.api.call('POST', '/v1/entities', {
        rawBody: 'name=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(isProblem(text, 'unsupported-media-type', 415)).toBe(true);
      expect(isProblem(await p.api.get('/v1/nothing-here'), 'not-found', 404)).toBe(true);
    });
  });

  describe('metrics', () => {
    it('exposes request, token and refusal counters', async () => {
      const m = await p.api.get('/metrics', { key: null });
      expect(m.status).toBe(200);
      for (const name of [
        'tokenplane_http_requests_total',
        'tokenplane_http_request_duration_seconds_bucket',
        'tokenplane_tokens_issued_total',
        'tokenplane_tokens_rotated_total',
        'tokenplane_tokens_revoked_total',
        'tokenplane_quota_refusals_total',
        'tokenplane_ceiling_refusals_total',
      ]) {
        expect(m.text).toContain(name);
      }
      expect(m.text).toMatch(
        /tokenplane_http_requests_total\{method="POST",route="\/v1\/entities",status="201"\} \d+/,
      );
    });
  });

  // Runs last in this suite: everything above has logged by now.
  describe('logs', () => {
    it('no issued value or key appears anywhere in the captured logs', async () => {
      expect(p.logs.lines.length).toBeGreaterThan(50);
      expect(secrets.size).toBeGreaterThan(40);
      const text = p.logs.text;
      for (const secret of secrets) expect(text.includes(secret)).toBe(false);
      expect(text.match(SECRET_PATTERN) ?? []).toEqual([]);
      // and the audit trail holds none either
      const trail = await p.api.get('/v1/audit-events?limit=500');
      for (const secret of secrets) expect(trail.text.includes(secret)).toBe(false);
    });
  });
});
