/**
 * The client against the real platform over loopback (SQLite in a temp data dir):
 * every method round-trips, each problem slug arrives as its error class, and a
 * create whose answer is lost on the way back is issued once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Entity,
  ForbiddenError,
  HasChildrenError,
  IdempotencyConflictError,
  NotFoundError,
  PreconditionFailedError,
  QuotaExceededError,
  ScopeAboveTierError,
  TierCeilingError,
  TierInsufficientError,
  TokenplaneClient,
  TokenplaneConnectionError,
  TokenplaneError,
  UnauthorizedError,
  UsageExceededError,
  ValidationError,
} from '../../core/client/index.ts';
import { Transport } from '../../core/client/transport.ts';
import { startServer } from '../../platform/main.ts';
import { type LossyProxy, lossyProxy } from './proxy.ts';

let server: Awaited<ReturnType<typeof startServer>>;
let dataDir: string;
let admin: TokenplaneClient;
const clients: TokenplaneClient[] = [];

function client(apiKey: string, endpoint = server.url): TokenplaneClient {
  const c = new TokenplaneClient({ endpoint, apiKey, retryBaseMs: 1 });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tokenplane-client-'));
  server = await startServer({ port: 0, host: '127.0.0.1', dataDir, env: {}, logger: false });
  admin = client(server.adminKey);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

let n = 0;
const unique = (prefix: string) => `${prefix}-${++n}`;

async function reseller(tier = 'advanced', parentId?: string): Promise<Entity> {
  return admin.createEntity({
    name: unique('reseller'),
    kind: 'reseller',
    tier,
    defaultToken: false,
    ...(parentId ? { parentId } : {}),
  });
}

describe('round trips', () => {
  it('tiers', async () => {
    const tiers = await admin.listTiers();
    expect(tiers).toEqual(
      expect.arrayContaining([
        { name: 'lite', rank: 0, tokenQuota: 1 },
        { name: 'advanced', rank: 1, tokenQuota: 5 },
      ]),
    );
  });

  it('entities: create, read with ETag, list, page, update with If-Match, delete', async () => {
    const parent = await admin.createEntity({
      name: unique('acme'),
      kind: 'reseller',
      tier: 'advanced',
    });
    expect(parent.defaultToken?.name).toBe('default');
    expect(parent.defaultToken?.value).toBeTruthy();
    expect(parent.tokenCount).toBe(1);

    const got = await admin.getEntity(parent.id);
    expect(got).toMatchObject({
      id: parent.id,
      name: parent.name,
      tier: 'advanced',
      kind: 'reseller',
    });
    expect(got).not.toHaveProperty('defaultToken');

    const children = [];
    for (let i = 0; i < 3; i++) {
      children.push(
        await admin.createEntity({ name: unique('child'), kind: 'customer', parentId: parent.id }),
      );
    }
    const page = await admin.listEntities({ parentId: parent.id, limit: 2 });
    expect(page.items).toHaveLength(2);
    expect(page.nextCursor).toEqual(expect.any(String));
    const next = await admin.listEntities({
      parentId: parent.id,
      limit: 2,
      cursor: page.nextCursor ?? '',
    });
    expect(next.items).toHaveLength(1);
    const all = await admin.listAllEntities({ parentId: parent.id });
    expect(all.map((e) => e.id).sort()).toEqual(children.map((c) => c.id).sort());
    expect((await admin.listAllEntities()).map((e) => e.id)).toContain(parent.id);

    const { entity, etag } = await admin.getEntityWithETag(parent.id);
    expect(entity.id).toBe(parent.id);
    const renamed = await admin.updateEntity(parent.id, { name: 'renamed' }, { ifMatch: etag });
    expect(renamed.name).toBe('renamed');
    await expect(
      admin.updateEntity(parent.id, { name: 'again' }, { ifMatch: etag }),
    ).rejects.toBeInstanceOf(PreconditionFailedError);
    expect((await admin.updateEntity(parent.id, { name: 'again' })).name).toBe('again');

    for (const c of children) await admin.deleteEntity(c.id);
    await admin.deleteEntity(parent.id);
    await expect(admin.getEntity(parent.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('tokens: create, read with ETag, list, page, update, reveal, rotate, introspect, delete', async () => {
    const e = await reseller();
    const a = await admin.createToken(e.id, { name: 'a' });
    const b = await admin.createToken(e.id, { name: 'b', expiresAt: null, status: 'disabled' });
    expect(a.value).toBeTruthy();
    expect(b).toMatchObject({ expiresAt: null, status: 'disabled' });

    const got = await admin.getToken(a.id);
    expect(got).toMatchObject({ id: a.id, entityId: e.id, name: 'a', hint: a.hint });
    expect(got).not.toHaveProperty('value');

    const page = await admin.listTokens(e.id, { limit: 1 });
    expect(page.items).toHaveLength(1);
    expect(page.nextCursor).toEqual(expect.any(String));
    expect((await admin.listAllTokens(e.id)).map((t) => t.id).sort()).toEqual([a.id, b.id].sort());

    const { token, etag } = await admin.getTokenWithETag(a.id);
    expect(token.id).toBe(a.id);
    const edited = await admin.updateToken(a.id, { name: 'a2' }, { ifMatch: etag });
    expect(edited.name).toBe('a2');
    await expect(admin.updateToken(a.id, { name: 'a3' }, { ifMatch: etag })).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );

    expect(await admin.revealToken(a.id)).toBe(a.value);
    expect(await admin.introspect(a.value)).toMatchObject({
      active: true,
      tokenId: a.id,
      entityId: e.id,
      tier: 'advanced',
    });

    const rotated = await admin.rotateToken(a.id);
    expect(rotated.id).toBe(a.id);
    expect(rotated.value).not.toBe(a.value);
    expect(await admin.revealToken(a.id)).toBe(rotated.value);
    expect((await admin.introspect(rotated.value)).active).toBe(true);
    expect(await admin.introspect(a.value)).toEqual({ active: false });
    const graceful = await admin.rotateToken(a.id, { gracePeriodSeconds: 3600 });
    expect((await admin.introspect(rotated.value)).active).toBe(true);
    expect((await admin.introspect(graceful.value)).active).toBe(true);
    expect(await admin.introspect('not-a-token')).toEqual({ active: false });

    await admin.deleteToken(a.id);
    await expect(admin.getToken(a.id)).rejects.toBeInstanceOf(NotFoundError);
    expect((await admin.introspect(graceful.value)).active).toBe(false);
  });

  it('access keys: create, use within the subtree, list, delete', async () => {
    const top = await reseller();
    const inside = await reseller('advanced', top.id);
    const outside = await reseller();
    const key = await admin.createAccessKey(top.id, { name: 'ops', role: 'admin' });
    expect(key).toMatchObject({ entityId: top.id, name: 'ops', role: 'admin' });
    expect(key.key).toBeTruthy();
    expect(await admin.listAccessKeys(top.id)).toEqual([
      expect.objectContaining({ id: key.id, name: 'ops', role: 'admin' }),
    ]);
    expect((await admin.listAccessKeys(top.id))[0]).not.toHaveProperty('key');

    const scoped = client(key.key);
    expect((await scoped.getEntity(inside.id)).id).toBe(inside.id);
    await expect(scoped.getEntity(outside.id)).rejects.toBeInstanceOf(NotFoundError);
    const t = await scoped.createToken(inside.id, { name: 'scoped' });
    expect(await scoped.revealToken(t.id)).toBe(t.value);

    const viewerKey = await admin.createAccessKey(top.id, { name: 'eyes', role: 'viewer' });
    const viewer = client(viewerKey.key);
    expect((await viewer.getToken(t.id)).id).toBe(t.id);
    await expect(viewer.revealToken(t.id)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(viewer.rotateToken(t.id)).rejects.toBeInstanceOf(ForbiddenError);

    await admin.deleteAccessKey(key.id);
    await expect(scoped.getEntity(inside.id)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('audit events', async () => {
    const e = await reseller();
    await admin.createToken(e.id, { name: 'audited' });
    const page = await admin.listAuditEvents({ entityId: e.id, limit: 50 });
    expect(page.items.map((ev) => ev.action)).toEqual(
      expect.arrayContaining(['entity.create', 'token.create']),
    );
    const one = await admin.listAuditEvents({ limit: 1 });
    expect(one.items).toHaveLength(1);
  });

  it('analytics with an API token: catalogue, a series, and the tier gate', async () => {
    const lite = await admin.createEntity({ name: unique('lite'), kind: 'customer', tier: 'lite' });
    const advanced = await admin.createEntity({
      name: unique('adv'),
      kind: 'customer',
      tier: 'advanced',
    });
    const liteClient = client(lite.defaultToken?.value ?? '');
    const advClient = client(advanced.defaultToken?.value ?? '');

    const liteCatalog = await liteClient.listMetrics();
    const advCatalog = await advClient.listMetrics();
    expect(liteCatalog.tier).toBe('lite');
    expect(advCatalog.metrics.length).toBeGreaterThan(liteCatalog.metrics.length);
    const basic = liteCatalog.metrics[0]?.name ?? '';
    const extensive = advCatalog.metrics.find((m) => m.tier === 'advanced')?.name ?? '';

    const series = await liteClient.getMetric(basic, {
      from: new Date(Date.now() - 3_600_000).toISOString(),
      to: new Date().toISOString(),
    });
    expect(series.name).toBe(basic);
    expect(series.points.length).toBeGreaterThan(0);
    expect((await advClient.getMetric(extensive)).name).toBe(extensive);
    await expect(liteClient.getMetric(extensive)).rejects.toBeInstanceOf(TierInsufficientError);
  });
});

describe('problems arrive as their error classes', () => {
  it('validation carries field errors', async () => {
    const err = await admin.createEntity({ name: '', kind: 'customer' }).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.status).toBe(400);
    expect(err.errors.length).toBeGreaterThan(0);
    expect(err.errors[0].path).toMatch(/name/);
  });

  it('unauthorized', async () => {
    const err = await client('tpk_wrong')
      .listEntities()
      .catch((e) => e);
    expect(err).toBeInstanceOf(UnauthorizedError);
    expect(err.requestId).toBeTruthy();
  });

  it('quota-exceeded carries tier, quota and inUse', async () => {
    const e = await admin.createEntity({ name: unique('full'), kind: 'customer', tier: 'lite' });
    const err = await admin.createToken(e.id, { name: 'second' }).catch((x) => x);
    expect(err).toBeInstanceOf(QuotaExceededError);
    expect(err).toMatchObject({
      status: 409,
      slug: 'quota-exceeded',
      tier: 'lite',
      quota: 1,
      inUse: 1,
    });
  });

  it('scope-above-tier carries the scopes and the tier they need; usage-exceeded when it resets', async () => {
    const e = await admin.createEntity({
      name: unique('lite'),
      kind: 'customer',
      tier: 'lite',
      defaultToken: false,
    });
    const err = await admin
      .createToken(e.id, { name: 'premium', scopes: ['metrics:premium:read'] })
      .catch((x) => x);
    expect(err).toBeInstanceOf(ScopeAboveTierError);
    expect(err).toMatchObject({
      status: 409,
      scopes: ['metrics:premium:read'],
      requiredTier: 'advanced',
    });
    const t = await admin.createToken(e.id, {
      name: 'metered',
      usageLimit: { limit: 1, period: 'total' },
    });
    const reader = new TokenplaneClient({ endpoint: server.url, apiKey: t.value, retries: 0 });
    clients.push(reader);
    await reader.getMetric('requests');
    const over = await reader.getMetric('requests').catch((x) => x);
    expect(over).toBeInstanceOf(UsageExceededError);
    expect(over).toMatchObject({ status: 429, resetsAt: null });
  });

  it('tier-ceiling and has-children', async () => {
    const parent = await reseller('lite');
    await expect(
      admin.createEntity({
        name: unique('c'),
        kind: 'customer',
        parentId: parent.id,
        tier: 'advanced',
      }),
    ).rejects.toBeInstanceOf(TierCeilingError);
    await admin.createEntity({
      name: unique('c'),
      kind: 'customer',
      parentId: parent.id,
      defaultToken: false,
    });
    await expect(admin.deleteEntity(parent.id)).rejects.toBeInstanceOf(HasChildrenError);
  });

  it('idempotency: a replay returns the first answer; another body conflicts', async () => {
    const e = await reseller();
    const first = await admin.createToken(e.id, { name: 'once' }, { idempotencyKey: 'k-replay' });
    const again = await admin.createToken(e.id, { name: 'once' }, { idempotencyKey: 'k-replay' });
    expect(again).toEqual(first);
    expect((await admin.getEntity(e.id)).tokenCount).toBe(1);
    await expect(
      admin.createToken(e.id, { name: 'other' }, { idempotencyKey: 'k-replay' }),
    ).rejects.toBeInstanceOf(IdempotencyConflictError);
  });

  it('not-found for a well-formed id that does not exist', async () => {
    const err = await admin.getToken('00000000-0000-4000-8000-00000000ffff').catch((e) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toBeInstanceOf(TokenplaneError);
  });
});

describe('a lost answer', () => {
  let proxy: LossyProxy;
  beforeAll(async () => {
    proxy = await lossyProxy(server.url);
  });
  afterAll(() => proxy.close());

  it('a create retried with its automatic Idempotency-Key is issued once', async () => {
    const e = await reseller();
    const via = client(server.adminKey, proxy.url);
    proxy.loseNext(1, (m, url) => m === 'POST' && url.endsWith('/tokens'));
    const token = await via.createToken(e.id, { name: 'exactly-once' });

    const posts = proxy.seen.filter((s) => s.method === 'POST' && s.url.includes(e.id));
    expect(posts).toHaveLength(2);
    expect(posts[0]?.idempotencyKey).toBeTruthy();
    expect(posts[1]?.idempotencyKey).toBe(posts[0]?.idempotencyKey);
    const tokens = await admin.listAllTokens(e.id);
    expect(tokens.map((t) => t.id)).toEqual([token.id]);
    expect((await admin.getEntity(e.id)).tokenCount).toBe(1);
    expect(await admin.revealToken(token.id)).toBe(token.value);
  });

  it('an entity create and a rotate are issued once too', async () => {
    const via = client(server.adminKey, proxy.url);
    proxy.loseNext(1, (m, url) => m === 'POST' && url === '/v1/entities');
    const name = unique('once');
    const e = await via.createEntity({ name, kind: 'reseller', tier: 'advanced' });
    expect((await admin.listAllEntities()).filter((x) => x.name === name)).toHaveLength(1);
    expect(e.defaultToken).toBeDefined();

    const tokenId = e.defaultToken?.id ?? '';
    proxy.loseNext(1, (m, url) => m === 'POST' && url.endsWith('/rotate'));
    const rotated = await via.rotateToken(tokenId);
    // Rotated once: the value answered is the current one.
    expect(await admin.revealToken(tokenId)).toBe(rotated.value);
  });

  it('an access key create is issued once', async () => {
    const e = await reseller();
    const via = client(server.adminKey, proxy.url);
    proxy.loseNext(1, (m, url) => m === 'POST' && url.endsWith('/access-keys'));
    const key = await via.createAccessKey(e.id, { name: 'once', role: 'viewer' });
    expect((await admin.listAccessKeys(e.id)).map((k) => k.id)).toEqual([key.id]);
    expect((await client(key.key).getEntity(e.id)).id).toBe(e.id);
  });

  it('without a key the same loss is not retried, and the server did act', async () => {
    const e = await reseller();
    const raw = new Transport({ endpoint: proxy.url, apiKey: server.adminKey, retryBaseMs: 1 });
    proxy.loseNext(1, (m, url) => m === 'POST' && url.endsWith('/tokens'));
    const err = await raw
      .send({ method: 'POST', path: `/v1/entities/${e.id}/tokens`, body: { name: 'blind' } })
      .catch((x) => x);
    await raw.close();
    expect(err).toBeInstanceOf(TokenplaneConnectionError);
    expect(proxy.seen.filter((s) => s.url === `/v1/entities/${e.id}/tokens`)).toHaveLength(1);
    expect((await admin.getEntity(e.id)).tokenCount).toBe(1);
  });

  it('a DELETE whose answer is lost still resolves', async () => {
    const e = await reseller();
    const via = client(server.adminKey, proxy.url);
    proxy.loseNext(1, (m) => m === 'DELETE');
    await via.deleteEntity(e.id);
    await expect(admin.getEntity(e.id)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('secrets', () => {
  it('neither the admin key nor a token value shows in errors or inspection', async () => {
    const e = await admin.createEntity({ name: unique('s'), kind: 'customer', tier: 'lite' });
    const value = e.defaultToken?.value ?? '';
    const errors = [
      await admin.createToken(e.id, { name: 'over' }).catch((x) => x),
      await admin.getEntity('00000000-0000-4000-8000-00000000fffe').catch((x) => x),
      await client(value)
        .listEntities()
        .catch((x) => x),
      await client(value)
        .getMetric('no-such-metric')
        .catch((x) => x),
    ];
    for (const err of errors) {
      expect(err).toBeInstanceOf(TokenplaneError);
      const shown = [String(err), err.stack, inspect(err, { depth: 10 }), JSON.stringify(err)].join(
        '\n',
      );
      expect(shown).not.toContain(server.adminKey);
      expect(shown).not.toContain(value);
    }
    expect(inspect(admin, { depth: 10, showHidden: true })).not.toContain(server.adminKey);
  });
});
