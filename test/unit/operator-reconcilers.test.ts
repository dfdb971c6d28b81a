// The reconcilers with a faked context (operator-fakes.ts).
// The real-engine suites (test/operator) run the same code against a real
// kube-apiserver and platform.
import { describe, expect, it } from 'vitest';
import { TierTable } from '../../core/domain/index.ts';
import { reconcileApiToken } from '../../operator/controllers/apitoken/index.ts';
import { reconcileEntity } from '../../operator/controllers/entity.ts';
import {
  DIGEST_ANNOTATION,
  digest,
  tampered,
  viewSecret,
} from '../../operator/controllers/secret.ts';
import { Triggers } from '../../operator/controllers/triggers.ts';
import type { ApiTokenObject, EntityObject } from '../../operator/crds/schemas.ts';
import {
  at,
  cacheOf,
  condition,
  ENTITY,
  entityObj,
  fakeContext,
  gone,
  meta,
  NS,
  OTHER,
  secretValue,
  tokenObj,
} from './operator-fakes.ts';

describe('ApiToken reconciler', () => {
  it('issues under a key from the uid, writes the Secret, and the status once — reading objects and Secrets from the caches', async () => {
    const f = fakeContext([entityObj, tokenObj()]);
    expect(await reconcileApiToken(f.ctx, NS, 'ci')).toEqual({ requeueAfterMs: 60_000 });
    expect(f.platform.calls).toEqual(['createToken apitoken:uid-ci:0']);
    // One live read (the Secret is not in the cache yet), one apply, one status write.
    expect(f.kubeCalls).toEqual(['readSecret', 'applySecret', 'patchStatus']);
    const [token] = [...f.platform.tokens.values()];
    expect(secretValue(f.secrets.get('ci'))).toBe(token?.value);
    expect(f.statuses[0]).toMatchObject({ tokenId: token?.id, entityId: ENTITY, secretName: 'ci' });
    expect(condition(f.statuses[0])).toMatchObject({ reason: 'Available' });
  });

  it('adoptDefaultToken with no default token left issues a new token', async () => {
    const f = fakeContext([entityObj, tokenObj({ adoptDefaultToken: true })]);
    await reconcileApiToken(f.ctx, NS, 'ci');
    expect(f.platform.calls).toEqual(['listAllTokens', 'createToken apitoken:uid-ci:0']);
    expect(f.events.join('\n')).toContain('had no `default` token to adopt');
  });

  it('a tokenId of another entity is refused before anything is adopted', async () => {
    const f = fakeContext([entityObj]);
    const theirs = f.platform.newToken(OTHER, 'default');
    const obj = tokenObj({ tokenId: theirs.id });
    const result = await reconcileApiToken({ ...f.ctx, tokenCache: cacheOf(obj) }, NS, 'ci');
    expect(result).toEqual({ requeueAfterMs: 60_000 });
    expect(f.platform.calls).toEqual(['getToken']);
    expect(condition(f.statuses[0])).toMatchObject({ reason: 'EntityMismatch' });
    expect(f.kubeCalls).not.toContain('applySecret');
  });

  it('never writes a Secret that someone else owns, and issues nothing meanwhile', async () => {
    const f = fakeContext([entityObj, tokenObj()]);
    f.secrets.set('ci', { metadata: { name: 'ci', namespace: NS }, data: { password: 'eA==' } });
    await reconcileApiToken(f.ctx, NS, 'ci');
    expect(f.platform.calls).toEqual([]);
    expect(condition(f.statuses[0])).toMatchObject({ reason: 'SecretConflict' });
  });

  /** An ApiToken after two rotations whose token is due for the next. */
  function dueForRotation(f: ReturnType<typeof fakeContext>) {
    const token = f.platform.newToken(ENTITY, 'ci', { expiresAt: '2026-06-02T00:00:00.000Z' });
    const obj = tokenObj({ lifetime: '720h', renewBefore: '48h' });
    obj.status = { tokenId: token.id, entityId: ENTITY, rotations: 2 };
    const reconcile = () => reconcileApiToken({ ...f.ctx, tokenCache: cacheOf(obj) }, NS, 'ci');
    return { token, reconcile };
  }

  it('rotates when due under a key per issuance and rotation, and delivers the new value', async () => {
    const f = fakeContext([entityObj]);
    const { token, reconcile } = dueForRotation(f);
    await reconcile();
    expect(f.platform.calls).toEqual([
      'getToken',
      'rotateToken apitoken:uid-ci:0:rotate:2',
      'updateToken expiresAt',
    ]);
    expect(secretValue(f.secrets.get('ci'))).toBe(`${token.value}-rotated`);
    expect(f.statuses[0]).toMatchObject({
      rotations: 3,
      expiresAt: '2026-07-01T00:00:00.000Z',
      renewalTime: '2026-06-29T00:00:00.000Z',
    });
  });

  it('a rotation whose replay is refused (rotated again since) counts as done: the next one runs, no new token', async () => {
    const f = fakeContext([entityObj]);
    const { token, reconcile } = dueForRotation(f);
    const rotateToken = f.platform.client.rotateToken.bind(f.platform.client);
    f.platform.client.rotateToken = async (id, req, opts) => {
      if (opts?.idempotencyKey?.endsWith(':rotate:2')) {
        f.platform.calls.push(`rotateToken ${opts.idempotencyKey}`);
        throw gone({ id, gone: 'token' });
      }
      return rotateToken(id, req, opts);
    };
    await reconcile();
    expect(f.platform.calls).toEqual([
      'getToken',
      'rotateToken apitoken:uid-ci:0:rotate:2',
      'rotateToken apitoken:uid-ci:0:rotate:3',
      'updateToken expiresAt',
    ]);
    expect(f.events.join('\n')).toContain('Warning RotationSuperseded');
    expect(secretValue(f.secrets.get('ci'))).toBe(`${token.value}-rotated`);
    expect(f.statuses[0]).toMatchObject({ tokenId: token.id, rotations: 4 });
    expect(condition(f.statuses[0])).toMatchObject({ reason: 'Available' });
  });

  it('out of time, it stops before the platform call and still writes the status', async () => {
    const f = fakeContext([entityObj, tokenObj()], { reconcileTimeoutMs: 0 });
    const result = await reconcileApiToken(f.ctx, NS, 'ci');
    expect(result.error).toBeDefined();
    expect(f.platform.calls).toEqual([]);
    expect(condition(f.statuses.at(-1), 'Synced')?.message).toContain('did not finish within 0s');
  });
});

describe('ApiToken finalizer', () => {
  it("wakes the other ApiTokens of the deleted one's entity (room under the quota), found by index", async () => {
    const named = (name: string, spec: Partial<ApiTokenObject['spec']>) => ({
      ...tokenObj(spec),
      metadata: meta(name),
    });
    const deleting = (t: ApiTokenObject) => ({
      ...t,
      metadata: { ...t.metadata, deletionTimestamp: at as unknown as Date },
    });
    const tokens = [
      named('a', { entityRef: { name: 'acme' } }),
      named('b', { entityRef: { name: 'acme' } }),
      named('c', { entityRef: { name: 'globex' } }),
      named('d', { entityRef: undefined, entityId: ENTITY }),
      named('e', { entityRef: undefined, entityId: ENTITY }),
      named('f', { entityRef: undefined, entityId: OTHER }),
    ];
    for (const [gone, woken] of [
      ['a', ['b']],
      ['d', ['e']],
    ] as const) {
      const queued: string[] = [];
      const objects = tokens.map((t) => (t.metadata.name === gone ? deleting(t) : t));
      const f = fakeContext([entityObj, ...objects], {
        enqueueToken: (_ns, name) => queued.push(name),
      });
      await reconcileApiToken(f.ctx, NS, gone);
      expect(f.kubeCalls).toContain('setFinalizers');
      expect(queued).toEqual(woken);
    }
  });
});

describe('Entity reconciler', () => {
  const child = (tier: 'Lite' | 'Advanced'): EntityObject => ({
    ...entityObj,
    metadata: meta('child'),
    spec: {
      kind: 'Customer',
      tier,
      parentRef: { name: 'acme' },
      defaultToken: false,
      deletionPolicy: 'Delete',
    },
    status: undefined,
  });

  it("judges the ceiling with the platform's tier table, not the built-in one", async () => {
    // On this platform "advanced" ranks below "lite": the built-in table would refuse.
    const tiers = new TierTable([
      { name: 'advanced', rank: 0, tokenQuota: 5 },
      { name: 'lite', rank: 1, tokenQuota: 1 },
    ]);
    const parent = { ...entityObj, status: { ...entityObj.status, tier: 'lite' } };
    const f = fakeContext([parent, child('Advanced')], { tiers: async () => tiers });
    await reconcileEntity(f.ctx, NS, 'child');
    expect(f.platform.calls).toContain('createEntity');
    expect(condition(f.statuses.at(-1))).toMatchObject({ reason: 'Available' });

    const refused = fakeContext([entityObj, child('Lite')], { tiers: async () => tiers });
    await reconcileEntity(refused.ctx, NS, 'child');
    expect(refused.platform.calls).toEqual([]);
    expect(condition(refused.statuses[0])).toMatchObject({ reason: 'TierCeilingExceeded' });
  });

  it('a create replay refused because the default token is gone creates no second entity', async () => {
    const f = fakeContext([{ ...entityObj, status: undefined }]);
    f.platform.client.createEntity = async () => {
      f.platform.calls.push('createEntity');
      throw gone({ id: 'tok-1', gone: 'token', entityId: ENTITY });
    };
    await reconcileEntity(f.ctx, NS, 'acme');
    expect(f.platform.calls).toEqual(['createEntity']);
    expect(condition(f.statuses[0])).toMatchObject({ reason: 'IdempotencyGone' });
    expect(condition(f.statuses[0])?.message).toContain(`Entity ${ENTITY} was created by it`);
  });

  it('keeps defaultTokenId after an adopting ApiToken renames the default token', async () => {
    const obj: EntityObject = { ...entityObj };
    const f = fakeContext([obj]);
    await f.platform.client.createEntity({ name: 'acme', kind: 'reseller', tier: 'advanced' });
    const first = f.platform.newToken(ENTITY, 'default');
    await reconcileEntity(f.ctx, NS, 'acme');
    expect(f.statuses.at(-1)?.defaultTokenId).toBe(first.id);

    obj.status = f.statuses.at(-1) as EntityObject['status'];
    f.platform.tokens.set(first.id, { ...first, name: 'globex-default' });
    await reconcileEntity(f.ctx, NS, 'acme');
    expect(f.statuses.at(-1)?.defaultTokenId).toBe(first.id);
  });

  it("refuses a tier the platform's table does not have, saying which it has", async () => {
    const tiers = new TierTable([{ name: 'lite', rank: 0, tokenQuota: 1 }]);
    const f = fakeContext([{ ...entityObj, status: undefined }], { tiers: async () => tiers });
    await reconcileEntity(f.ctx, NS, 'acme');
    expect(condition(f.statuses[0])).toMatchObject({ reason: 'InvalidSpec' });
    expect(condition(f.statuses[0])?.message).toContain('choose one of: lite');
  });
});

describe('triggers', () => {
  it('enqueues an Entity once per spec change, and its tokens and children when its state changes', () => {
    const queued: string[] = [];
    const t = new Triggers({
      enqueueEntity: (_ns, name) => queued.push(`Entity/${name}`),
      enqueueToken: (_ns, name) => queued.push(`ApiToken/${name}`),
    });
    t.token.add?.(tokenObj());
    queued.length = 0;
    t.entity.add?.(entityObj);
    t.entity.update?.(entityObj); // our own status write: same generation, same state
    t.entity.update?.({ ...entityObj, status: { ...entityObj.status, tier: 'lite' } });
    expect(queued).toEqual(['Entity/acme', 'ApiToken/ci', 'ApiToken/ci']);
  });

  it("an Entity's change reaches the ApiTokens and child Entities that name it now, and no others", () => {
    const queued: string[] = [];
    const t = new Triggers({
      enqueueEntity: (_ns, name) => queued.push(`Entity/${name}`),
      enqueueToken: (_ns, name) => queued.push(`ApiToken/${name}`),
    });
    const named = (name: string, entity: string) => ({
      ...tokenObj({ entityRef: { name: entity } }),
      metadata: meta(name),
    });
    const child = {
      ...entityObj,
      metadata: meta('child'),
      spec: { ...entityObj.spec, parentRef: { name: 'acme' } },
    };
    t.token.add?.(named('a', 'acme'));
    t.token.add?.(named('b', 'acme'));
    t.token.add?.(named('c', 'globex'));
    t.entity.add?.(child);
    t.token.update?.(named('b', 'globex')); // re-pointed elsewhere
    t.token.delete?.(named('a', 'acme'));
    queued.length = 0;
    t.entity.add?.(entityObj);
    expect(queued.sort()).toEqual(['Entity/acme', 'Entity/child']);
    queued.length = 0;
    t.entity.add?.({ ...entityObj, metadata: meta('globex') });
    expect(queued.sort()).toEqual(['ApiToken/b', 'ApiToken/c', 'Entity/globex']);
  });

  it('a managed Secret is tampered with when its value no longer matches the digest', () => {
    const secret = (value: string, of: string) =>
      viewSecret({
        metadata: { annotations: { [DIGEST_ANNOTATION]: digest(of) } },
        data: { token: Buffer.from(value).toString('base64') },
      });
    expect(tampered(secret('v', 'v'))).toBe(false);
    expect(tampered(secret('edited', 'v'))).toBe(true);
  });
});
