/**
 * Refused probes (issue 21): when a key of one entity is refused on another
 * entity's objects (404: outside its scope), the refusal is in the trail of the
 * entity it probed and in the key's own entity's trail, where that entity's
 * auditors see it — naming only what the request itself named, and the same
 * whether or not the object exists.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, isProblem, type Platform, type Reply, startPlatform } from './helpers.ts';

type AuditEvent = {
  id: string;
  at: string;
  actor: { type: string; id: string | null };
  action: string;
  targetType: string;
  targetId: string | null;
  entityId: string | null;
  outcome: string;
  requestId: string;
  detail: string | null;
};

describe.each(ENGINES)('refused probes on %s', (engine) => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform(engine);
  });
  afterAll(async () => {
    await p?.close();
  });

  async function reseller(name: string) {
    const r = await p.api.post('/v1/entities', { name, kind: 'reseller', tier: 'advanced' });
    expect(r.status, r.text).toBe(201);
    return r.body as { id: string; defaultToken: { id: string; name: string } };
  }
  async function accessKey(entityId: string, role: 'admin' | 'viewer') {
    const r = await p.api.post(`/v1/entities/${entityId}/access-keys`, { name: role, role });
    expect(r.status, r.text).toBe(201);
    return r.body as { id: string; key: string };
  }
  async function trail(query: string, key?: string): Promise<AuditEvent[]> {
    const r = await p.api.get(`/v1/audit-events?limit=500${query}`, key ? { key } : {});
    expect(r.status, r.text).toBe(200);
    return r.body.items;
  }
  const requestIdOf = (reply: Reply) => reply.headers.get('x-request-id') as string;

  it("a key's refusals on another entity's objects are in its own entity's trail too", async () => {
    const r1 = await reseller('Probed R1');
    const s1 = await reseller('Prober S1');
    const r1Key = await accessKey(r1.id, 'admin');
    const s1Key = await accessKey(s1.id, 'admin');
    const as = { key: s1Key.key };
    const token = r1.defaultToken.id;
    const missing = randomUUID();

    const probes = {
      reveal: await p.api.post(`/v1/tokens/${token}/reveal`, undefined, as),
      rotate: await p.api.post(`/v1/tokens/${token}/rotate`, {}, as),
      update: await p.api.patch(`/v1/tokens/${token}`, { status: 'disabled' }, as),
      remove: await p.api.delete(`/v1/tokens/${token}`, as),
      create: await p.api.post(`/v1/entities/${r1.id}/tokens`, { name: 'mine' }, as),
      rename: await p.api.patch(`/v1/entities/${r1.id}`, { name: 'Taken' }, as),
      keyRemove: await p.api.delete(`/v1/access-keys/${r1Key.id}`, as),
      missing: await p.api.post(`/v1/tokens/${missing}/reveal`, undefined, as),
    };
    for (const reply of Object.values(probes)) {
      expect(isProblem(reply, 'not-found', 404), reply.text).toBe(true);
    }

    // S1's own auditors (its key, its entity's trail) see every refusal, as the key's.
    const own = await trail(`&entityId=${s1.id}`, s1Key.key);
    const refused = (reply: Reply) => {
      const found = own.filter((ev) => ev.requestId === requestIdOf(reply));
      expect(found, `${requestIdOf(reply)} in ${JSON.stringify(own)}`).toHaveLength(1);
      return found[0] as AuditEvent;
    };
    const common = {
      actor: { type: 'access-key', id: s1Key.id },
      entityId: s1.id,
      outcome: 'failure',
      detail: 'not-found',
    };
    expect(refused(probes.reveal)).toMatchObject({
      ...common,
      action: 'token.reveal',
      targetType: 'token',
      targetId: token,
    });
    expect(refused(probes.rotate)).toMatchObject({ ...common, action: 'token.rotate' });
    expect(refused(probes.update)).toMatchObject({ ...common, action: 'token.update' });
    expect(refused(probes.remove)).toMatchObject({ ...common, action: 'token.delete' });
    expect(refused(probes.rename)).toMatchObject({
      ...common,
      action: 'entity.update',
      targetType: 'entity',
      targetId: r1.id,
    });
    expect(refused(probes.keyRemove)).toMatchObject({
      ...common,
      action: 'access-key.delete',
      targetId: r1Key.id,
    });
    // A create names the entity it was sent to, which the key itself named.
    expect(refused(probes.create)).toMatchObject({
      ...common,
      action: 'token.create',
      targetId: null,
      detail: `not-found (entity ${r1.id})`,
    });

    // Nothing beyond what the key sent: R1's id appears only where the key named it,
    // and a probe of R1's token reads as one of a token that does not exist.
    const aboutTheToken = [probes.reveal, probes.rotate, probes.update, probes.remove];
    for (const reply of aboutTheToken) {
      const text = JSON.stringify(refused(reply));
      expect(text).not.toContain(r1.id);
      expect(text).not.toContain(r1.defaultToken.name);
    }
    const shape = ({ id, at, requestId, targetId, ...rest }: AuditEvent) => rest;
    expect(shape(refused(probes.reveal))).toEqual(shape(refused(probes.missing)));

    // The key's unfiltered trail lists them too.
    const listed = new Set((await trail('', s1Key.key)).map((ev) => ev.requestId));
    for (const reply of Object.values(probes)) expect(listed.has(requestIdOf(reply))).toBe(true);

    // R1's auditors still see the probes of their token, as before.
    const probed = await trail(`&entityId=${r1.id}`, r1Key.key);
    for (const reply of aboutTheToken) {
      const ev = probed.find((e) => e.requestId === requestIdOf(reply));
      expect(ev).toMatchObject({
        entityId: r1.id,
        actor: { type: 'access-key', id: s1Key.id },
        targetId: token,
        outcome: 'failure',
        detail: 'not-found',
      });
    }
    // …and S1's copies stay out of R1's trail.
    expect(probed.every((ev) => ev.entityId === r1.id)).toBe(true);
  });

  it('a refusal inside the key’s own subtree is recorded once', async () => {
    const s2 = await reseller('Own S2');
    const viewer = await accessKey(s2.id, 'viewer');
    const refused = await p.api.post(`/v1/tokens/${s2.defaultToken.id}/reveal`, undefined, {
      key: viewer.key,
    });
    expect(isProblem(refused, 'forbidden', 403), refused.text).toBe(true);
    const events = (await trail('')).filter((ev) => ev.requestId === requestIdOf(refused));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ entityId: s2.id, detail: 'forbidden' });
  });
});
