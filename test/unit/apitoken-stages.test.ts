// Each stage of the ApiToken pipeline on its own (operator/controllers/apitoken/
// index.ts composes them; operator-reconcilers.test.ts runs the whole), over
// the fakes of operator-fakes.ts: a stage's input is the object and what the
// stages before it returned, its output is checked as a value.
import { describe, expect, it } from 'vitest';
import type { Token } from '../../core/schemas/index.ts';
import { declarationOf } from '../../operator/controllers/apitoken/declaration.ts';
import { deliver, observeSecret } from '../../operator/controllers/apitoken/delivery.ts';
import { type Issued, issue } from '../../operator/controllers/apitoken/issuing.ts';
import { ready } from '../../operator/controllers/apitoken/readiness.ts';
import type { ApiTokenObject } from '../../operator/crds/schemas.ts';
import {
  condition,
  ENTITY,
  entityObj,
  fakeContext,
  OTHER,
  secretValue,
  tokenObj,
} from './operator-fakes.ts';

const NOW = new Date('2026-06-01T00:00:00Z');

/** The declaration of `obj` with its entity Ready in the cache. */
function declared(obj: ApiTokenObject) {
  const d = declarationOf(fakeContext([entityObj]).ctx, obj);
  if ('wait' in d) throw new Error(d.wait);
  return d;
}

/** What issuing returns for a token this reconcile created. */
function issuedFor(token: Token & { value?: string }, over: Partial<Issued> = {}): Issued {
  const { value, ...plain } = token;
  return {
    token: plain,
    origin: 'created',
    value,
    renewalTime: null,
    rotatedUntil: undefined,
    status: { tokenId: token.id, entityId: token.entityId },
    ...over,
  };
}

describe('declaration stage', () => {
  it('waits while the named Entity is missing, not on the platform, or not Ready', () => {
    const obj = tokenObj();
    const waitFor = (entity: typeof entityObj | undefined) =>
      declarationOf(fakeContext(entity ? [entity] : []).ctx, obj);
    expect(waitFor(undefined)).toEqual({
      wait: 'Waiting for Entity "acme", which does not exist in this namespace.',
    });
    expect(waitFor({ ...entityObj, status: {} })).toEqual({
      wait: 'Waiting for Entity "acme" to be created on the platform.',
    });
    const notReady = { ...entityObj, status: { id: ENTITY } };
    expect(waitFor(notReady)).toEqual({ wait: 'Waiting for Entity "acme" to become Ready.' });
    // A token already held is kept up while its Entity recovers.
    const holding = { ...obj, status: { tokenId: 'held' } };
    expect(declarationOf(fakeContext([notReady]).ctx, holding)).toMatchObject({
      declaration: { desired: { entityId: ENTITY } },
    });
  });

  it("states the spec in the planner's terms, defaults filled in, with the entity's tier", () => {
    const obj = tokenObj({
      type: 'Publishable',
      status: 'Disabled',
      allowedOrigins: ['https://shop.example'],
      rateLimit: { requests: 10, per: '1m' },
      usageLimit: { limit: 100, period: 'Month' },
      lifetime: '720h',
      renewBefore: '48h',
    });
    expect(declared(obj)).toMatchObject({
      entityTier: 'advanced',
      declaration: {
        desired: {
          entityId: ENTITY,
          name: 'ci',
          status: 'disabled',
          permissions: {
            type: 'publishable',
            rateLimit: { requests: 10, perSeconds: 60 },
            usageLimit: { limit: 100, period: 'month' },
          },
        },
        adoptDefaultToken: false,
        rotation: { lifetime: '720h', renewBefore: '48h' },
      },
    });
    // Named by platform id alone: no tier to judge scopes ahead of the platform.
    const byId = tokenObj({ entityRef: undefined, entityId: OTHER, displayName: 'CI' });
    expect(declarationOf(fakeContext([]).ctx, byId)).toMatchObject({
      entityTier: undefined,
      declaration: { desired: { entityId: OTHER, name: 'CI' } },
    });
  });
});

describe('observeSecret stage', () => {
  it("sees no Secret, our Secret, or someone else's (a conflict naming its owner)", async () => {
    const f = fakeContext([]);
    const obj = tokenObj();
    expect(await observeSecret(f.ctx, obj)).toEqual({ secret: undefined });
    f.secrets.set('ci', {
      metadata: {
        name: 'ci',
        namespace: 'ns',
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'u', controller: true },
        ],
      },
    });
    const theirs = await observeSecret(f.ctx, obj);
    expect('conflict' in theirs && theirs.conflict).toContain('(it belongs to Deployment "web")');
    // Marked as this ApiToken's Secret (its owner reference lost): ours.
    const marked = { 'tokenplane.dev/apitoken': 'ci' };
    f.secrets.set('ci', { metadata: { name: 'ci', namespace: 'ns', labels: marked } });
    expect(await observeSecret(f.ctx, obj)).toMatchObject({ secret: { metadata: { name: 'ci' } } });
  });
});

describe('issuing stage', () => {
  it('returns the created token, its value and the status it owns, and writes nothing to Kubernetes', async () => {
    const f = fakeContext([entityObj]);
    const obj = tokenObj();
    const issued = await issue(f.ctx, obj, declared(obj));
    if ('refused' in issued) throw new Error(issued.refused.message);
    const [token] = [...f.platform.tokens.values()];
    expect(issued).toMatchObject({
      origin: 'created',
      value: token?.value,
      rotatedUntil: undefined,
      status: { tokenId: token?.id, entityId: ENTITY, issuance: undefined, rotations: undefined },
    });
    expect(f.kubeCalls).toEqual([]);
    expect(f.events).toEqual([`Normal Created: Created platform token ${token?.id} (tpt_…1).`]);
  });

  it('a due rotation: the new value, when the replaced one stops verifying, and lastRotationTime', async () => {
    const f = fakeContext([entityObj]);
    const token = f.platform.newToken(ENTITY, 'ci', { expiresAt: '2026-06-02T00:00:00.000Z' });
    const obj = tokenObj({ lifetime: '720h', renewBefore: '48h', rotationGracePeriod: '1h' });
    obj.status = { tokenId: token.id, entityId: ENTITY, rotations: 2, issuance: 1 };
    const issued = await issue(f.ctx, obj, declared(obj));
    expect(issued).toMatchObject({
      origin: 'recorded',
      value: `${token.value}-rotated`,
      rotatedUntil: new Date(NOW.getTime() + 3_600_000),
      renewalTime: new Date('2026-06-29T00:00:00.000Z'),
      status: { tokenId: token.id, issuance: 1, rotations: 3, lastRotationTime: NOW.toISOString() },
    });
    expect(f.events.join('\n')).toContain('Normal Rotated');
  });

  it('a refusal is returned to the pipeline, not written', async () => {
    const f = fakeContext([entityObj]);
    const theirs = f.platform.newToken(OTHER, 'default');
    const obj = tokenObj({ tokenId: theirs.id });
    expect(await issue(f.ctx, obj, declared(obj))).toMatchObject({
      refused: { reason: 'EntityMismatch' },
    });
    expect(f.kubeCalls).toEqual([]);
    expect(f.events).toEqual([]);
  });
});

describe('delivery stage', () => {
  it('writes the value it was handed (no reveal) and says the Secret has no previous value', async () => {
    const f = fakeContext([]);
    const token = f.platform.newToken(ENTITY, 'ci');
    const delivered = await deliver(f.ctx, tokenObj(), issuedFor(token), undefined);
    expect(delivered).toEqual({ secretName: 'ci', previousUntil: null });
    expect(secretValue(f.secrets.get('ci'))).toBe(token.value);
    expect(f.platform.calls).toEqual([]);
  });

  it('after a rotation keeps the replaced value beside the new one until its grace ends', async () => {
    const f = fakeContext([]);
    const token = f.platform.newToken(ENTITY, 'ci');
    const obj = tokenObj();
    await deliver(f.ctx, obj, issuedFor(token), undefined);
    const until = new Date(NOW.getTime() + 3_600_000);
    const rotated = issuedFor(
      { ...token, value: 'tpt_new', hint: 'tpt_…n' },
      { origin: 'recorded', rotatedUntil: until },
    );
    const existing = f.ctx.secretCache.get('ci', 'ns');
    expect(await deliver(f.ctx, obj, rotated, existing)).toEqual({
      secretName: 'ci',
      previousUntil: until,
    });
    const secret = f.secrets.get('ci');
    expect(secretValue(secret)).toBe('tpt_new');
    expect(Buffer.from(secret?.data?.previousToken ?? '', 'base64').toString()).toBe(token.value);
  });

  it('a recorded token whose Secret went missing is revealed and written again, with an Event', async () => {
    const f = fakeContext([]);
    const token = f.platform.newToken(ENTITY, 'ci');
    const obj = tokenObj();
    obj.status = { tokenId: token.id, secretName: 'ci' };
    await deliver(
      f.ctx,
      obj,
      issuedFor(token, { origin: 'recorded', value: undefined }),
      undefined,
    );
    expect(f.platform.calls).toEqual(['revealToken']);
    expect(secretValue(f.secrets.get('ci'))).toBe(token.value);
    expect(f.events).toEqual(['Normal SecretRestored: Secret "ci" was missing; wrote it again.']);
  });

  it('a new secretName removes the Secret of the old one', async () => {
    const f = fakeContext([]);
    const token = f.platform.newToken(ENTITY, 'ci');
    const obj = tokenObj();
    await deliver(f.ctx, obj, issuedFor(token), undefined);
    const renamed = { ...tokenObj({ secretName: 'ci-2' }), status: { secretName: 'ci' } };
    expect(await deliver(f.ctx, renamed, issuedFor(token), undefined)).toMatchObject({
      secretName: 'ci-2',
    });
    expect(f.kubeCalls.at(-1)).toBe('deleteSecret');
  });
});

describe('readiness stage', () => {
  it("writes the stages' status once, Ready, and comes back at the earliest of renewal, the previous value's end and the resync", async () => {
    const f = fakeContext([]);
    const token = f.platform.newToken(ENTITY, 'ci');
    const obj = tokenObj();
    obj.status = { lastRotationTime: 'before' };
    const renewalTime = new Date(NOW.getTime() + 30_000);
    const issued = issuedFor(token, { renewalTime });
    const result = await ready(f.ctx, obj, issued, { secretName: 'ci', previousUntil: null });
    expect(result).toEqual({ requeueAfterMs: 30_000 });
    expect(f.kubeCalls).toEqual(['patchStatus']);
    expect(f.statuses[0]).toMatchObject({
      tokenId: token.id,
      entityId: ENTITY,
      secretName: 'ci',
      hint: token.hint,
      expiresAt: token.expiresAt,
      renewalTime: renewalTime.toISOString(),
      lastRotationTime: 'before',
      observedGeneration: 1,
    });
    expect(condition(f.statuses[0])).toMatchObject({ reason: 'Available' });

    // Nothing changed: no second write; the previous value's end (plus a margin) comes first.
    const previousUntil = new Date(NOW.getTime() + 10_000);
    expect(await ready(f.ctx, obj, issued, { secretName: 'ci', previousUntil })).toEqual({
      requeueAfterMs: 10_500,
    });
    expect(f.kubeCalls).toEqual(['patchStatus']);
  });

  it('a disabled token is Ready, saying so', async () => {
    const f = fakeContext([]);
    const token = f.platform.newToken(ENTITY, 'ci', { status: 'disabled' });
    await ready(f.ctx, tokenObj(), issuedFor(token), { secretName: 'ci', previousUntil: null });
    expect(condition(f.statuses[0])?.message).toBe('The token is disabled, as the spec asks.');
  });
});
