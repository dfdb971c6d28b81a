/**
 * Idempotent replays never resurrect what was deleted since (issue 13.3): a
 * replay whose stored response names an object, or hands out a value, that no
 * longer exists answers 410 `idempotency-gone` — never the old value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, isProblem, type Platform, startPlatform } from './helpers.ts';

describe.each(ENGINES)('idempotent replays on %s', (engine) => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform(engine);
  });
  afterAll(async () => {
    await p?.close();
  });

  const key = (name: string) => ({ headers: { 'idempotency-key': `${name}-${engine}` } });

  async function reseller(name: string) {
    const r = await p.api.post('/v1/entities', { name, kind: 'reseller', tier: 'advanced' });
    expect(r.status, r.text).toBe(201);
    return r.body;
  }

  function expectGone(r: Awaited<ReturnType<Platform['api']['get']>>, secret: string) {
    expect(isProblem(r, 'idempotency-gone', 410), r.text).toBe(true);
    expect(r.body.detail).toMatch(/new Idempotency-Key/);
    expect(r.text).not.toContain(secret);
  }

  it('a token create replayed after the token was deleted answers 410, without the value', async () => {
    const e = await reseller('Replay tokens');
    const first = await p.api.post(`/v1/entities/${e.id}/tokens`, { name: 'k' }, key('token'));
    expect(first.status).toBe(201);
    expect((await p.api.delete(`/v1/tokens/${first.body.id}`)).status).toBe(204);
    const again = await p.api.post(`/v1/entities/${e.id}/tokens`, { name: 'k' }, key('token'));
    expectGone(again, first.body.value);
    expect(again.body).toMatchObject({ id: first.body.id });
    // nothing was created by the refused replay
    expect((await p.api.get(`/v1/entities/${e.id}`)).body.tokenCount).toBe(1);
  });

  it('an entity create replayed after a delete answers 410, without the default token', async () => {
    const body = { name: 'Replay entity', kind: 'customer', tier: 'lite' };
    const first = await p.api.post('/v1/entities', body, key('entity'));
    expect(first.status).toBe(201);
    // its default token removed, the entity still there: the value is gone, the entity not
    await p.api.delete(`/v1/tokens/${first.body.defaultToken.id}`);
    const tokenGone = await p.api.post('/v1/entities', body, key('entity'));
    expectGone(tokenGone, first.body.defaultToken.value);
    expect(tokenGone.body).toMatchObject({
      id: first.body.defaultToken.id,
      gone: 'token',
      entityId: first.body.id,
    });
    expect(tokenGone.body.detail).toContain(`the entity ${first.body.id} still exists`);
    await p.api.delete(`/v1/entities/${first.body.id}`);
    const entityGone = await p.api.post('/v1/entities', body, key('entity'));
    expectGone(entityGone, first.body.defaultToken.value);
    expect(entityGone.body).toMatchObject({ id: first.body.id, gone: 'entity' });
  });

  it('a rotation replayed after a later rotation or a delete answers 410', async () => {
    const e = await reseller('Replay rotations');
    const tid = e.defaultToken.id;
    const r1 = await p.api.post(`/v1/tokens/${tid}/rotate`, {}, key('rotate'));
    expect(r1.status).toBe(200);
    // within a grace period the replaced value still verifies: the replay stands
    await p.api.post(`/v1/tokens/${tid}/rotate`, { gracePeriodSeconds: 60 }, key('rotate-2'));
    const inGrace = await p.api.post(`/v1/tokens/${tid}/rotate`, {}, key('rotate'));
    expect(inGrace.status, inGrace.text).toBe(200);
    expect(inGrace.body.value).toBe(r1.body.value);
    // after the grace the value is dead: never handed out again
    p.clock.advance(61_000);
    expectGone(await p.api.post(`/v1/tokens/${tid}/rotate`, {}, key('rotate')), r1.body.value);
    const r3 = await p.api.post(`/v1/tokens/${tid}/rotate`, {}, key('rotate-3'));
    await p.api.delete(`/v1/tokens/${tid}`);
    expectGone(await p.api.post(`/v1/tokens/${tid}/rotate`, {}, key('rotate-3')), r3.body.value);
  });

  it('an access-key create replayed after the key was deleted answers 410', async () => {
    const e = await reseller('Replay keys');
    const body = { name: 'ci', role: 'admin' };
    const first = await p.api.post(`/v1/entities/${e.id}/access-keys`, body, key('access'));
    expect(first.status).toBe(201);
    await p.api.delete(`/v1/access-keys/${first.body.id}`);
    const again = await p.api.post(`/v1/entities/${e.id}/access-keys`, body, key('access'));
    expectGone(again, first.body.key);
    // a replay while everything still exists is the first answer, as before
    const live = await p.api.post(`/v1/entities/${e.id}/tokens`, { name: 'x' }, key('live'));
    const replay = await p.api.post(`/v1/entities/${e.id}/tokens`, { name: 'x' }, key('live'));
    expect(replay.status).toBe(201);
    expect(replay.body.value).toBe(live.body.value);
  });
});
