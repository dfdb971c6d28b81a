/**
 * Who governs an entity (README "Platform API"): its tier, its name and its deletion are
 * changed only by an access key of a strict ancestor or by the administrator
 * key; its own keys get 403 `forbidden` saying who can. And scope comes before
 * role: a key answers 404 for anything outside its subtree, whatever its role.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, isProblem, type Platform, startPlatform } from './helpers.ts';

describe.each(ENGINES)('governance on %s', (engine) => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform(engine);
  });
  afterAll(async () => {
    await p?.close();
  });

  async function create(body: Record<string, unknown>, key?: string) {
    const r = await p.api.post('/v1/entities', body, key ? { key } : {});
    expect(r.status, r.text).toBe(201);
    return r.body;
  }
  async function accessKey(entityId: string, role: 'admin' | 'viewer', key?: string) {
    const r = await p.api.post(
      `/v1/entities/${entityId}/access-keys`,
      { name: `${role}-key`, role },
      key ? { key } : {},
    );
    expect(r.status, r.text).toBe(201);
    return r.body.key as string;
  }

  it("an entity's own admin key cannot raise its tier, rename it or delete it", async () => {
    const reseller = await create({ name: 'Gov Reseller', kind: 'reseller', tier: 'advanced' });
    const customer = await create({ name: 'Gov Lite', kind: 'customer', parentId: reseller.id });
    const own = { key: await accessKey(customer.id, 'admin') };

    const upgrade = await p.api.patch(`/v1/entities/${customer.id}`, { tier: 'advanced' }, own);
    expect(isProblem(upgrade, 'forbidden', 403), upgrade.text).toBe(true);
    expect(upgrade.body.detail).toMatch(/administrator key or an access key of an ancestor/);
    const rename = await p.api.patch(`/v1/entities/${customer.id}`, { name: 'Mine now' }, own);
    expect(isProblem(rename, 'forbidden', 403), rename.text).toBe(true);
    const remove = await p.api.delete(`/v1/entities/${customer.id}`, own);
    expect(isProblem(remove, 'forbidden', 403), remove.text).toBe(true);

    // nothing changed: same tier, quota, name; the token still reads the basic set only
    const after = await p.api.get(`/v1/entities/${customer.id}`, own);
    expect(after.body).toMatchObject({ tier: 'lite', tokenQuota: 1, name: 'Gov Lite' });
    const catalogue = await p.api.get('/v1/analytics/metrics', {
      key: customer.defaultToken.value,
    });
    expect(catalogue.body.tier).toBe('lite');

    // the refusals are in the audit trail
    const trail = await p.api.get(`/v1/audit-events?entityId=${customer.id}&limit=500`);
    const refused = trail.body.items.filter(
      (ev: { action: string; outcome: string }) => ev.outcome === 'failure',
    );
    expect(refused.map((ev: { action: string; detail: string }) => ev.detail)).toEqual([
      'forbidden',
      'forbidden',
      'forbidden',
    ]);
  });

  it('its own keys still manage its tokens, access keys and children, and read it', async () => {
    const reseller = await create({ name: 'Own Reseller', kind: 'reseller', tier: 'advanced' });
    const own = { key: await accessKey(reseller.id, 'admin') };
    expect((await p.api.get(`/v1/entities/${reseller.id}`, own)).status).toBe(200);
    expect(
      (await p.api.post(`/v1/entities/${reseller.id}/tokens`, { name: 'extra' }, own)).status,
    ).toBe(201);
    await accessKey(reseller.id, 'viewer', own.key);
    const child = await create(
      { name: 'Own Child', kind: 'customer', parentId: reseller.id },
      own.key,
    );
    // a strict ancestor's key governs the child: tier, name, deletion
    const up = await p.api.patch(`/v1/entities/${child.id}`, { tier: 'advanced' }, own);
    expect(up.status, up.text).toBe(200);
    expect(up.body).toMatchObject({ tier: 'advanced', tokenQuota: 5 });
    expect(
      (await p.api.patch(`/v1/entities/${child.id}`, { name: 'Renamed child' }, own)).status,
    ).toBe(200);
    expect((await p.api.delete(`/v1/entities/${child.id}`, own)).status).toBe(204);
    // the administrator governs every entity, top-level ones included
    const admin = await p.api.patch(`/v1/entities/${reseller.id}`, { name: 'Renamed' });
    expect(admin.status, admin.text).toBe(200);
  });

  it('a viewer outside its subtree gets 404 before any role check', async () => {
    const mine = await create({ name: 'Scope Mine', kind: 'reseller', tier: 'advanced' });
    const other = await create({ name: 'Scope Other', kind: 'reseller', tier: 'advanced' });
    const otherKey = await p.api.post(`/v1/entities/${other.id}/access-keys`, {
      name: 'o',
      role: 'viewer',
    });
    const viewer = { key: await accessKey(mine.id, 'viewer') };
    const tid = other.defaultToken.id;
    const outside = [
      await p.api.patch(`/v1/entities/${other.id}`, { name: 'x' }, viewer),
      await p.api.delete(`/v1/entities/${other.id}`, viewer),
      await p.api.post('/v1/entities', { name: 'x', kind: 'customer', parentId: other.id }, viewer),
      await p.api.post(`/v1/entities/${other.id}/tokens`, { name: 'x' }, viewer),
      await p.api.patch(`/v1/tokens/${tid}`, { name: 'x' }, viewer),
      await p.api.delete(`/v1/tokens/${tid}`, viewer),
      await p.api.post(`/v1/tokens/${tid}/reveal`, undefined, viewer),
      await p.api.post(`/v1/tokens/${tid}/rotate`, {}, viewer),
      await p.api.post(
        `/v1/entities/${other.id}/access-keys`,
        { name: 'x', role: 'admin' },
        viewer,
      ),
      await p.api.delete(`/v1/access-keys/${otherKey.body.id}`, viewer),
    ];
    for (const r of outside) expect(isProblem(r, 'not-found', 404), r.text).toBe(true);
    // inside its subtree the same viewer gets 403 forbidden
    const inside = await p.api.post(`/v1/tokens/${mine.defaultToken.id}/reveal`, undefined, viewer);
    expect(isProblem(inside, 'forbidden', 403)).toBe(true);
  });
});
