/**
 * Members (README "Members and single sign-on"): people, by email, with a role on an entity's subtree,
 * managed under the access keys' governance like access keys; every event names the email.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, isProblem, type Platform, startPlatform } from './helpers.ts';

describe.each(ENGINES)('members on %s', (engine) => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform(engine);
  });
  afterAll(async () => {
    await p?.close();
  });

  async function entity(name: string, parentId?: string) {
    const r = await p.api.post('/v1/entities', {
      name,
      kind: parentId ? 'customer' : 'reseller',
      tier: 'advanced',
      ...(parentId ? { parentId } : {}),
    });
    expect(r.status, r.text).toBe(201);
    return r.body.id as string;
  }
  async function accessKey(entityId: string, role: 'admin' | 'viewer') {
    const r = await p.api.post(`/v1/entities/${entityId}/access-keys`, { name: role, role });
    expect(r.status, r.text).toBe(201);
    return r.body.key as string;
  }

  it('adds, lists in pages, changes and removes members', async () => {
    const id = await entity('Members Inc');
    const ada = await p.api.post(`/v1/entities/${id}/members`, {
      email: 'Ada@Example.com',
      role: 'admin',
    });
    expect(ada.status, ada.text).toBe(201);
    expect(ada.body).toEqual({
      id: expect.any(String),
      email: 'ada@example.com',
      role: 'admin',
      entityId: id,
      createdAt: expect.any(String),
    });
    const bob = await p.api.post(`/v1/entities/${id}/members`, {
      email: 'bob@example.com',
      role: 'viewer',
    });
    expect(bob.status, bob.text).toBe(201);

    const first = await p.api.get(`/v1/entities/${id}/members?limit=1`);
    expect(first.status, first.text).toBe(200);
    expect(first.body.items.map((m: { email: string }) => m.email)).toEqual(['ada@example.com']);
    const second = await p.api.get(
      `/v1/entities/${id}/members?limit=1&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.items.map((m: { email: string }) => m.email)).toEqual(['bob@example.com']);
    expect(second.body.nextCursor).toBeNull();

    const patched = await p.api.patch(`/v1/members/${bob.body.id}`, { role: 'admin' });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({
      id: bob.body.id,
      role: 'admin',
      email: 'bob@example.com',
    });

    expect((await p.api.delete(`/v1/members/${bob.body.id}`)).status).toBe(204);
    const left = await p.api.get(`/v1/entities/${id}/members`);
    expect(left.body.items.map((m: { id: string }) => m.id)).toEqual([ada.body.id]);
    const again = await p.api.delete(`/v1/members/${bob.body.id}`);
    expect(isProblem(again, 'not-found', 404), again.text).toBe(true);
  });

  it('refuses a bad email, an unknown field, a duplicate and an unknown role', async () => {
    const id = await entity('Strict Inc');
    const bad = await p.api.post(`/v1/entities/${id}/members`, { email: 'nope', role: 'admin' });
    expect(isProblem(bad, 'validation', 400), bad.text).toBe(true);
    expect(bad.text).toMatch(/email/);
    const extra = await p.api.post(`/v1/entities/${id}/members`, {
      email: 'x@example.com',
      role: 'admin',
      name: 'X',
    });
    expect(isProblem(extra, 'validation', 400), extra.text).toBe(true);
    const owner = await p.api.post(`/v1/entities/${id}/members`, {
      email: 'x@example.com',
      role: 'owner',
    });
    expect(isProblem(owner, 'validation', 400), owner.text).toBe(true);
    const made = await p.api.post(`/v1/entities/${id}/members`, {
      email: 'x@example.com',
      role: 'viewer',
    });
    expect(made.status, made.text).toBe(201);
    const twice = await p.api.post(`/v1/entities/${id}/members`, {
      email: 'X@example.com',
      role: 'admin',
    });
    expect(isProblem(twice, 'validation', 400), twice.text).toBe(true);
    expect(twice.body.detail).toMatch(/already a member/);
    const patchExtra = await p.api.patch(`/v1/members/${made.body.id}`, {
      role: 'admin',
      email: 'y@example.com',
    });
    expect(isProblem(patchExtra, 'validation', 400), patchExtra.text).toBe(true);
  });

  it('follows the governance of access keys: viewers cannot, scope is the subtree', async () => {
    const reseller = await entity('Gov Members');
    const customer = await entity('Gov Customer', reseller);
    const other = await entity('Elsewhere');
    const viewer = { key: await accessKey(reseller, 'viewer') };
    const admin = { key: await accessKey(customer, 'admin') };

    const refused = await p.api.post(
      `/v1/entities/${customer}/members`,
      { email: 'v@example.com', role: 'viewer' },
      viewer,
    );
    expect(isProblem(refused, 'forbidden', 403), refused.text).toBe(true);
    // a viewer reads members of its subtree
    expect((await p.api.get(`/v1/entities/${customer}/members`, viewer)).status).toBe(200);

    const made = await p.api.post(
      `/v1/entities/${customer}/members`,
      { email: 'c@example.com', role: 'admin' },
      admin,
    );
    expect(made.status, made.text).toBe(201);
    const patchByViewer = await p.api.patch(
      `/v1/members/${made.body.id}`,
      { role: 'viewer' },
      viewer,
    );
    expect(isProblem(patchByViewer, 'forbidden', 403), patchByViewer.text).toBe(true);
    const deleteByViewer = await p.api.delete(`/v1/members/${made.body.id}`, viewer);
    expect(isProblem(deleteByViewer, 'forbidden', 403), deleteByViewer.text).toBe(true);

    // outside the subtree nothing exists
    const above = await p.api.post(
      `/v1/entities/${reseller}/members`,
      { email: 'up@example.com', role: 'admin' },
      admin,
    );
    expect(isProblem(above, 'not-found', 404), above.text).toBe(true);
    const outside = await p.api.get(`/v1/entities/${other}/members`, admin);
    expect(isProblem(outside, 'not-found', 404), outside.text).toBe(true);
    const elsewhere = await p.api.post(`/v1/entities/${other}/members`, {
      email: 'e@example.com',
      role: 'viewer',
    });
    const foreign = await p.api.patch(`/v1/members/${elsewhere.body.id}`, { role: 'admin' }, admin);
    expect(isProblem(foreign, 'not-found', 404), foreign.text).toBe(true);
    const unknown = await p.api.delete('/v1/members/not-an-id');
    expect(isProblem(unknown, 'not-found', 404), unknown.text).toBe(true);
  });

  it('names the member email in every audit event', async () => {
    const id = await entity('Audited Members');
    const made = await p.api.post(`/v1/entities/${id}/members`, {
      email: 'grace@example.com',
      role: 'viewer',
    });
    await p.api.patch(`/v1/members/${made.body.id}`, { role: 'admin' });
    await p.api.delete(`/v1/members/${made.body.id}`);
    const trail = await p.api.get(`/v1/audit-events?entityId=${id}&limit=500`);
    const events = trail.body.items.filter(
      (ev: { targetType: string }) => ev.targetType === 'member',
    );
    expect(
      events.map((ev: { action: string; detail: string; targetId: string; outcome: string }) => [
        ev.action,
        ev.outcome,
        ev.targetId,
        ev.detail,
      ]),
    ).toEqual([
      ['member.create', 'success', made.body.id, 'email=grace@example.com role=viewer'],
      ['member.update', 'success', made.body.id, 'email=grace@example.com role=admin'],
      ['member.delete', 'success', made.body.id, 'email=grace@example.com role=admin'],
    ]);
  });

  it('is in the OpenAPI document', async () => {
    const doc = await p.api.get('/openapi.json', { key: null });
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/v1/entities/{id}/members', '/v1/members/{id}']),
    );
  });
});

describe.each(ENGINES)("members' personal access keys on %s", (engine) => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform(engine);
  });
  afterAll(async () => {
    await p?.close();
  });

  async function setUp(role: 'admin' | 'viewer') {
    const e = await p.api.post('/v1/entities', {
      name: `Personal ${role}`,
      kind: 'reseller',
      tier: 'advanced',
    });
    const child = await p.api.post('/v1/entities', {
      name: `Personal ${role} child`,
      kind: 'customer',
      parentId: e.body.id,
    });
    const m = await p.api.post(`/v1/entities/${e.body.id}/members`, {
      email: `${role}@example.com`,
      role,
    });
    expect(m.status, m.text).toBe(201);
    return { entityId: e.body.id as string, childId: child.body.id as string, member: m.body };
  }
  async function personalKey(memberId: string, role: 'admin' | 'viewer', key?: string) {
    return p.api.post(
      `/v1/members/${memberId}/access-keys`,
      { name: `${role} key`, role },
      key ? { key } : {},
    );
  }

  it("acts as an access key of at most the member's role on its entity's subtree", async () => {
    const { entityId, childId, member } = await setUp('viewer');
    const above = await personalKey(member.id, 'admin');
    expect(isProblem(above, 'forbidden', 403), above.text).toBe(true);
    expect(above.body.detail).toMatch(/at most its member's role/);

    const made = await personalKey(member.id, 'viewer');
    expect(made.status, made.text).toBe(201);
    expect(made.body).toMatchObject({ entityId, role: 'viewer', key: expect.any(String) });
    const own = { key: made.body.key as string };
    expect((await p.api.get(`/v1/entities/${childId}`, own)).status).toBe(200);
    const write = await p.api.post(`/v1/entities/${childId}/tokens`, { name: 'no' }, own);
    expect(isProblem(write, 'forbidden', 403), write.text).toBe(true);

    const listed = await p.api.get(`/v1/members/${member.id}/access-keys`);
    expect(listed.body.items.map((k: { id: string }) => k.id)).toEqual([made.body.id]);
    expect(listed.text).not.toContain(own.key);
  });

  it('stops at once when the member is removed', async () => {
    const { entityId, member } = await setUp('admin');
    const made = await personalKey(member.id, 'admin');
    expect(made.status, made.text).toBe(201);
    const own = { key: made.body.key as string };
    expect((await p.api.get(`/v1/entities/${entityId}`, own)).status).toBe(200);

    expect((await p.api.delete(`/v1/members/${member.id}`)).status).toBe(204);
    const after = await p.api.get(`/v1/entities/${entityId}`, own);
    expect(isProblem(after, 'unauthorized', 401), after.text).toBe(true);
    const keys = await p.api.get(`/v1/entities/${entityId}/access-keys`);
    expect(keys.body.items).toEqual([]);
  });

  it("stops while the member's role is below the key's, and works again when raised", async () => {
    const { entityId, member } = await setUp('admin');
    const adminKey = await personalKey(member.id, 'admin');
    const viewerKey = await personalKey(member.id, 'viewer');
    const admin = { key: adminKey.body.key as string };
    const viewer = { key: viewerKey.body.key as string };

    expect((await p.api.patch(`/v1/members/${member.id}`, { role: 'viewer' })).status).toBe(200);
    const refused = await p.api.get(`/v1/entities/${entityId}`, admin);
    expect(isProblem(refused, 'unauthorized', 401), refused.text).toBe(true);
    expect((await p.api.get(`/v1/entities/${entityId}`, viewer)).status).toBe(200);

    expect((await p.api.patch(`/v1/members/${member.id}`, { role: 'admin' })).status).toBe(200);
    expect((await p.api.get(`/v1/entities/${entityId}`, admin)).status).toBe(200);
  });

  it('follows governance: viewers cannot create them, other subtrees see nothing', async () => {
    const { entityId, member } = await setUp('admin');
    const viewerKey = await p.api.post(`/v1/entities/${entityId}/access-keys`, {
      name: 'v',
      role: 'viewer',
    });
    const refused = await personalKey(member.id, 'viewer', viewerKey.body.key);
    expect(isProblem(refused, 'forbidden', 403), refused.text).toBe(true);

    const stranger = await p.api.post('/v1/entities', { name: 'Stranger', kind: 'reseller' });
    const strangerKey = await p.api.post(`/v1/entities/${stranger.body.id}/access-keys`, {
      name: 's',
      role: 'admin',
    });
    const hidden = await personalKey(member.id, 'viewer', strangerKey.body.key);
    expect(isProblem(hidden, 'not-found', 404), hidden.text).toBe(true);
    const list = await p.api.get(`/v1/members/${member.id}/access-keys`, {
      key: strangerKey.body.key,
    });
    expect(isProblem(list, 'not-found', 404), list.text).toBe(true);
  });
});

describe.each(ENGINES)('what members do, in the audit trail, on %s', (engine) => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform(engine);
  });
  afterAll(async () => {
    await p?.close();
  });

  it("names the member's email beside its personal key, and nothing for other keys", async () => {
    const e = await p.api.post('/v1/entities', {
      name: 'Acting',
      kind: 'reseller',
      tier: 'advanced',
    });
    const m = await p.api.post(`/v1/entities/${e.body.id}/members`, {
      email: 'lin@example.com',
      role: 'admin',
    });
    const k = await p.api.post(`/v1/members/${m.body.id}/access-keys`, {
      name: 'lin',
      role: 'admin',
    });
    const made = await p.api.post(
      `/v1/entities/${e.body.id}/tokens`,
      { name: 'by lin' },
      { key: k.body.key },
    );
    expect(made.status, made.text).toBe(201);
    const refused = await p.api.delete(`/v1/entities/${e.body.id}`, { key: k.body.key });
    expect(isProblem(refused, 'forbidden', 403), refused.text).toBe(true);

    const trail = await p.api.get(`/v1/audit-events?entityId=${e.body.id}&limit=500`);
    const byLin = trail.body.items.filter(
      (ev: { actor: { id: string } }) => ev.actor.id === k.body.id,
    );
    expect(
      byLin.map((ev: { action: string; outcome: string; actor: unknown }) => [
        ev.action,
        ev.outcome,
        ev.actor,
      ]),
    ).toEqual([
      ['token.create', 'success', { type: 'access-key', id: k.body.id, email: 'lin@example.com' }],
      ['entity.delete', 'failure', { type: 'access-key', id: k.body.id, email: 'lin@example.com' }],
    ]);
    const byAdmin = trail.body.items.find(
      (ev: { action: string }) => ev.action === 'member.create',
    );
    expect(byAdmin.actor).toEqual({ type: 'admin', id: null });
  });
});
