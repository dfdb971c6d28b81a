// The operator in-process, under the deploy/ ServiceAccount and RBAC, against
// the shared control plane and a real platform server.
import { Writable } from 'node:stream';
import { AppsV1Api } from '@kubernetes/client-node';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET_PATTERN } from '../../core/domain/index.ts';
import { declaredPermissions, TokenExternal } from '../../core/external/index.ts';
import type { ApiTokenObject, EntityObject } from '../../operator/crds/schemas.ts';
import { type RunningOperator, startOperator } from '../../operator/operator.ts';
import { adminKubeConfig } from '../harness/kube.ts';
import { waitFor } from '../harness/wait.ts';
import {
  installCrds,
  namespaceWithRbac,
  operatorKubeconfig,
  resources,
  startPlatform,
} from './helpers.ts';

let ns = '';
let r: ReturnType<typeof resources>;
let platform: Awaited<ReturnType<typeof startPlatform>>;
let operator: RunningOperator;
const logs: string[] = [];

beforeAll(async () => {
  await installCrds();
  ns = await namespaceWithRbac('op');
  const sa = await operatorKubeconfig();
  platform = await startPlatform();
  r = resources(ns);
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  operator = await startOperator({
    kc: sa.kubeConfig,
    endpoint: platform.url,
    apiKey: platform.adminKey,
    namespace: ns,
    watchNamespace: ns,
    resyncMs: 3000,
    backoffBaseMs: 200,
    backoffMaxMs: 2000,
    metricsPort: 0,
    metricsHost: '127.0.0.1',
    leaseDurationMs: 4000,
    renewDeadlineMs: 3000,
    retryPeriodMs: 500,
    log: pino({ level: 'debug' }, sink),
    onLostLeadership: () => {},
  });
});

afterAll(async () => {
  if (process.env.OP_DEBUG) process.stderr.write(logs.join(''));
  await operator?.stop();
  await platform?.close();
});

describe('Entity', () => {
  it('creates the platform entity and reports id, quota, tokens in use and the default token', async () => {
    await r.entity('acme', { kind: 'Reseller', tier: 'Advanced', displayName: 'ACME Corp' });
    const e = await r.readyEntity('acme');
    const actual = await platform.client.getEntity(e.status?.id as string);
    expect(actual).toMatchObject({
      name: 'ACME Corp',
      kind: 'reseller',
      tier: 'advanced',
      parentId: null,
    });
    await waitFor('status with the default token', async () => {
      const x = await r.getEntity('acme');
      return x?.status?.tokenQuota === 5 && x.status.tokenCount === 1 && x.status.defaultTokenId
        ? x
        : undefined;
    });
  });

  it('updates the platform entity in place when the spec changes', async () => {
    await r.patchSpec('entities', 'acme', { displayName: 'ACME Inc' });
    const e = await r.getEntity('acme');
    await waitFor('renamed on the platform', async () => {
      const actual = await platform.client.getEntity(e?.status?.id as string);
      return actual.name === 'ACME Inc';
    });
  });

  it('adopts an existing platform entity by externalId', async () => {
    const existing = await platform.client.createEntity({
      name: 'legacy',
      kind: 'reseller',
      tier: 'lite',
    });
    await r.entity('legacy', {
      kind: 'Reseller',
      tier: 'Lite',
      externalId: existing.id,
      displayName: 'legacy',
    });
    const e = await r.readyEntity('legacy');
    expect(e.status?.id).toBe(existing.id);
  });

  it('waits for its parent, then refuses a tier above the parent with a message naming both tiers', async () => {
    await r.entity('small-child', {
      kind: 'Customer',
      tier: 'Advanced',
      parentRef: { name: 'small-parent' },
    });
    await r.reason('entities', 'small-child', 'ParentNotReady');
    await r.entity('small-parent', { kind: 'Reseller', tier: 'Lite' });
    await r.readyEntity('small-parent');
    const child = await r.reason('entities', 'small-child', 'TierCeilingExceeded');
    const message = r.condition(child)?.message ?? '';
    expect(message).toContain('"advanced"');
    expect(message).toContain('"lite"');
    // Upgrading the parent lifts the refusal without touching the child.
    await r.patchSpec('entities', 'small-parent', { tier: 'Advanced' });
    const ready = await r.readyEntity('small-child');
    const parent = await r.getEntity('small-parent');
    const actual = await platform.client.getEntity(ready.status?.id as string);
    expect(actual.parentId).toBe(parent?.status?.id);
  });

  it('deleting an entity with children reports HasChildren and retries until the children are gone', async () => {
    await r.remove('entities', 'small-parent');
    const parent = await r.reason('entities', 'small-parent', 'HasChildren');
    expect(r.condition(parent)?.message).toBeTruthy();
    await r.remove('entities', 'small-child');
    await waitFor('parent deleted', () => r.gone('entities', 'small-parent'));
    await expect(
      platform.client.getEntity((parent as EntityObject).status?.id as string),
    ).rejects.toThrow();
  });
});

describe('ApiToken', () => {
  it('adopts the default token of a Lite entity and writes the Secret', async () => {
    await r.entity('lite', { kind: 'Customer', tier: 'Lite' });
    await r.apiToken('lite-default', {
      entityRef: { name: 'lite' },
      adoptDefaultToken: true,
      secretTemplate: { labels: { team: 'payments' }, annotations: { owner: 'alice' } },
    });
    const t = await r.readyToken('lite-default');
    const e = await r.getEntity('lite');
    expect(t.status?.tokenId).toBe(e?.status?.defaultTokenId);
    const secret = await waitFor('secret', () => r.secret('lite-default'));
    expect(secret.metadata?.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'tokenplane',
      team: 'payments',
    });
    expect(secret.metadata?.annotations).toMatchObject({ owner: 'alice' });
    expect(secret.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'ApiToken',
      name: 'lite-default',
    });
    expect(r.secretValue(secret, 'tokenId')).toBe(t.status?.tokenId);
    expect(r.secretValue(secret, 'entityId')).toBe(e?.status?.id);
    expect(r.secretValue(secret, 'endpoint')).toBe(platform.url);
    const check = await platform.client.introspect(r.secretValue(secret) as string);
    expect(check).toMatchObject({ active: true, tokenId: t.status?.tokenId });
  });

  it('a second token on a Lite entity is refused for quota, then Ready once the entity is upgraded', async () => {
    await r.apiToken('lite-second', { entityRef: { name: 'lite' } });
    const refused = await r.reason('apitokens', 'lite-second', 'QuotaExceeded');
    const message = r.condition(refused)?.message ?? '';
    // Names the tier, the quota and the tokens in use, and what to do.
    expect(message).toContain('tier "lite"');
    expect(message).toContain('1 of 1');
    expect(message).toMatch(/higher tier/);
    const events = await waitFor('QuotaExceeded event', async () =>
      (await r.events()).find(
        (ev) => ev.reason === 'QuotaExceeded' && ev.regarding?.name === 'lite-second',
      ),
    );
    expect(events.type).toBe('Warning');
    await r.patchSpec('entities', 'lite', { tier: 'Advanced' });
    const ready = await r.readyToken('lite-second');
    expect(ready.status?.tokenId).toBeTruthy();
    await waitFor('secret', () => r.secret('lite-second'));
  });

  it('a token refused for quota becomes Ready once another token of the entity is removed', async () => {
    await r.entity('lite2', { kind: 'Customer', tier: 'Lite' });
    await r.apiToken('lite2-default', { entityRef: { name: 'lite2' }, adoptDefaultToken: true });
    await r.readyToken('lite2-default');
    await r.apiToken('lite2-next', { entityRef: { name: 'lite2' } });
    await r.reason('apitokens', 'lite2-next', 'QuotaExceeded');
    await r.remove('apitokens', 'lite2-default');
    const next = await r.readyToken('lite2-next');
    const entityId = (await r.getEntity('lite2'))?.status?.id as string;
    expect((await platform.client.listAllTokens(entityId)).map((t) => t.id)).toEqual([
      next.status?.tokenId,
    ]);
  });

  it('updates name and status in place and repairs drift made on the platform', async () => {
    await r.apiToken('drift', { entityRef: { name: 'acme' }, displayName: 'drift-1' });
    const t = await r.readyToken('drift');
    const id = t.status?.tokenId as string;
    await r.patchSpec('apitokens', 'drift', { displayName: 'drift-2', status: 'Disabled' });
    await waitFor('renamed and disabled', async () => {
      const token = await platform.client.getToken(id);
      return token.name === 'drift-2' && token.status === 'disabled';
    });
    await r.patchSpec('apitokens', 'drift', { status: 'Active' });
    await waitFor(
      'active again',
      async () => (await platform.client.getToken(id)).status === 'active',
    );
    // Someone disables it on the platform: the operator puts it back.
    await platform.client.updateToken(id, { status: 'disabled' });
    await waitFor(
      'repaired',
      async () => (await platform.client.getToken(id)).status === 'active',
      30_000,
    );
  });

  it('permissions: on the platform as declared, the Secret holds the type, drift is repaired; a scope above the tier is ScopeAboveTier until the entity is upgraded', async () => {
    await r.entity('perm', { kind: 'Customer', tier: 'Lite', defaultToken: false });
    await r.apiToken('perm-premium', {
      entityRef: { name: 'perm' },
      scopes: ['metrics:premium:read'],
    });
    const refused = await r.reason('apitokens', 'perm-premium', 'ScopeAboveTier');
    expect(r.condition(refused)?.message).toMatch(/"metrics:premium:read".*"advanced".*"lite"/);
    expect((refused as ApiTokenObject).status?.tokenId).toBeUndefined();
    await r.patchSpec('entities', 'perm', { tier: 'Advanced' });
    const premium = await r.readyToken('perm-premium');
    expect((await platform.client.getToken(premium.status?.tokenId as string)).scopes).toEqual([
      'metrics:premium:read',
    ]);

    await r.apiToken('perm-dash', {
      entityRef: { name: 'perm' },
      type: 'Publishable',
      allowedOrigins: ['https://dash.example.com'],
      rateLimit: { requests: 10, per: '1m' },
      usageLimit: { limit: 1000, period: 'Day' },
    });
    const dash = await r.readyToken('perm-dash');
    const id = dash.status?.tokenId as string;
    expect(await platform.client.getToken(id)).toMatchObject({
      type: 'publishable',
      scopes: ['metrics:core:read'],
      allowedOrigins: ['https://dash.example.com'],
      allowedIps: [],
      rateLimit: { requests: 10, perSeconds: 60 },
      usageLimit: { limit: 1000, period: 'day' },
      requireSignedRequests: false,
    });
    const secret = await waitFor('perm-dash secret', () => r.secret('perm-dash'));
    expect(r.secretValue(secret, 'type')).toBe('publishable');
    expect(r.secretValue(secret, 'token')).toMatch(/^tpp_/);
    // Changed on the platform: put back. Dropped from the spec: back to the default.
    await platform.client.updateToken(id, { allowedOrigins: ['https://evil.example.com'] });
    await waitFor(
      'origins repaired',
      async () =>
        (await platform.client.getToken(id)).allowedOrigins[0] === 'https://dash.example.com',
      30_000,
    );
    await r.patchSpec('apitokens', 'perm-dash', { rateLimit: null });
    await waitFor(
      'rate limit removed',
      async () => (await platform.client.getToken(id)).rateLimit === null,
    );
    // The API server refuses what the platform would refuse (CEL rules of the CRD).
    await expect(
      r.apiToken('perm-bad', { entityRef: { name: 'perm' }, type: 'Publishable' }),
    ).rejects.toThrow(/needs at least one allowedOrigins entry/);
    await expect(r.patchSpec('apitokens', 'perm-dash', { type: 'Secret' })).rejects.toThrow(
      /type is immutable/,
    );
  });

  it('updates the expiry in place, and moves the Secret when secretName changes', async () => {
    const t = await r.readyToken('drift');
    const id = t.status?.tokenId as string;
    await r.patchSpec('apitokens', 'drift', { expiresAt: '2030-01-02T03:04:05Z' });
    await waitFor('expiry updated', async () => {
      const token = await platform.client.getToken(id);
      const obj = await r.getToken('drift');
      return (
        Date.parse(token.expiresAt as string) === Date.parse('2030-01-02T03:04:05Z') &&
        Date.parse(obj?.status?.expiresAt as string) === Date.parse('2030-01-02T03:04:05Z')
      );
    });
    await r.patchSpec('apitokens', 'drift', { secretName: 'drift-moved' });
    await waitFor(
      'secret moved',
      async () => (await r.secret('drift-moved')) && !(await r.secret('drift')),
    );
    expect((await r.getToken('drift'))?.status?.secretName).toBe('drift-moved');
    await r.patchSpec('apitokens', 'drift', { secretName: null });
    await waitFor(
      'secret back',
      async () => (await r.secret('drift')) && !(await r.secret('drift-moved')),
    );
  });

  it('a token deleted on the platform is reported and replaced', async () => {
    const before = await r.readyToken('drift');
    const oldId = before.status?.tokenId as string;
    await platform.client.deleteToken(oldId);
    const after = await waitFor('new token', async () => {
      const t = await r.getToken('drift');
      return t?.status?.tokenId && t.status.tokenId !== oldId && r.condition(t)?.status === 'True'
        ? t
        : undefined;
    });
    const secret = await waitFor('secret updated', async () => {
      const s = await r.secret('drift');
      return r.secretValue(s, 'tokenId') === after.status?.tokenId ? s : undefined;
    });
    expect((await platform.client.introspect(r.secretValue(secret) as string)).active).toBe(true);
    await waitFor('TokenMissing event', async () =>
      (await r.events()).find(
        (ev) => ev.reason === 'TokenMissing' && ev.regarding?.name === 'drift',
      ),
    );
  });

  it('refuses to take over a Secret it does not own', async () => {
    await r.core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'someone-elses' }, stringData: { password: 'hunter2' } },
    });
    await r.apiToken('squatter', { entityRef: { name: 'acme' }, secretName: 'someone-elses' });
    const refused = await r.reason('apitokens', 'squatter', 'SecretConflict');
    expect(r.condition(refused)?.message).toContain('Set spec.secretName to another name');
    expect((refused as ApiTokenObject).status?.tokenId).toBeUndefined();
    expect(r.secretValue(await r.secret('someone-elses'), 'password')).toBe('hunter2');
    await r.core.deleteNamespacedSecret({ namespace: ns, name: 'someone-elses' });
    await r.readyToken('squatter');
    await r.remove('apitokens', 'squatter');
  });

  it('a create repeated after a lost answer with another spec issues nothing (IdempotencyConflict) until the spec is restored', async () => {
    await r.apiToken('replayed', { entityRef: { name: 'replays' } });
    await r.reason('apitokens', 'replayed', 'EntityNotReady');
    const uid = (await r.getToken('replayed'))?.metadata.uid as string;
    const entity = await platform.client.createEntity({
      name: 'Replays',
      kind: 'customer',
      tier: 'advanced',
      defaultToken: false,
    });
    // What an earlier operator sent before it crashed, when the spec said another name.
    const earlier = await new TokenExternal(platform.client).create(
      {
        entityId: entity.id,
        name: 'replayed-before',
        status: 'active',
        permissions: declaredPermissions({ type: 'secret' }),
      },
      `apitoken:${uid}:0`,
    );
    await r.entity('replays', {
      kind: 'Customer',
      tier: 'Advanced',
      externalId: entity.id,
      displayName: 'Replays',
      defaultToken: false,
    });
    const refused = await r.reason('apitokens', 'replayed', 'IdempotencyConflict');
    expect(r.condition(refused)?.message).toContain('Nothing was created now');
    expect((refused as ApiTokenObject).status?.tokenId).toBeUndefined();
    const names = async () => (await platform.client.listAllTokens(entity.id)).map((t) => t.name);
    expect(await names()).toEqual(['replayed-before']);
    // The way out its message names: the spec as it was gets that create's answer…
    await r.patchSpec('apitokens', 'replayed', { displayName: 'replayed-before' });
    const ready = await r.readyToken('replayed');
    expect(ready.status?.tokenId).toBe(earlier.id);
    // …and a change after it applies in place.
    await r.patchSpec('apitokens', 'replayed', { displayName: 'replayed' });
    await waitFor('renamed in place', async () => (await names()).join() === 'replayed');
    await r.remove('apitokens', 'replayed');
    await waitFor('ApiToken replayed gone', () => r.gone('apitokens', 'replayed'));
    await r.remove('entities', 'replays');
  });

  it('a deleted or edited Secret comes back with the same token', async () => {
    const t = await r.readyToken('lite-default');
    const original = r.secretValue(await r.secret('lite-default'));
    await r.core.deleteNamespacedSecret({ namespace: ns, name: 'lite-default' });
    const back = await waitFor('secret restored', () => r.secret('lite-default'));
    expect(r.secretValue(back)).toBe(original);
    expect(r.secretValue(back, 'tokenId')).toBe(t.status?.tokenId);
    const edited = back;
    if (edited.data) edited.data.token = Buffer.from('tampered').toString('base64');
    await r.core.replaceNamespacedSecret({ namespace: ns, name: 'lite-default', body: edited });
    await waitFor(
      'secret repaired',
      async () => r.secretValue(await r.secret('lite-default')) === original,
    );
  });

  it('rotates before expiry; during the grace period the Secret carries both values, then one', async () => {
    const apps = adminKubeConfig().makeApiClient(AppsV1Api);
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'consumer' },
        spec: {
          selector: { matchLabels: { app: 'consumer' } },
          template: {
            metadata: { labels: { app: 'consumer' } },
            spec: { containers: [{ name: 'app', image: 'example.invalid/app:1' }] },
          },
        },
      },
    });
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'payments-worker', labels: { team: 'payments' } },
        spec: {
          selector: { matchLabels: { app: 'payments-worker' } },
          template: {
            metadata: { labels: { app: 'payments-worker' } },
            spec: { containers: [{ name: 'app', image: 'example.invalid/app:1' }] },
          },
        },
      },
    });
    await r.apiToken('rotating', {
      entityRef: { name: 'acme' },
      lifetime: '40s',
      renewBefore: '30s',
      rotationGracePeriod: '8s',
      rolloutRestartTargets: [
        { kind: 'Deployment', name: 'consumer' },
        { kind: 'Deployment', selector: { matchLabels: { team: 'payments' } } },
      ],
    });
    const first = await r.readyToken('rotating');
    expect(first.status?.renewalTime).toBeTruthy();
    const oldValue = r.secretValue(await waitFor('secret', () => r.secret('rotating'))) as string;
    const rotated = await waitFor(
      'rotation',
      async () => {
        const t = await r.getToken('rotating');
        return (t?.status?.rotations ?? 0) >= 1 ? t : undefined;
      },
      40_000,
    );
    expect(rotated.status?.tokenId).toBe(first.status?.tokenId);
    expect(rotated.status?.lastRotationTime).toBeTruthy();
    expect(Date.parse(rotated.status?.expiresAt as string)).toBeGreaterThan(
      Date.parse(first.status?.expiresAt as string),
    );
    const newValue = await waitFor('secret rotated', async () => {
      const v = r.secretValue(await r.secret('rotating'));
      return v !== oldValue ? v : undefined;
    });
    expect((await platform.client.introspect(newValue as string)).active).toBe(true);
    expect((await platform.client.introspect(oldValue)).active).toBe(true);
    // consumers that read the Secret mid-rotation find the value being replaced too
    const during = await r.secret('rotating');
    expect(r.secretValue(during, 'previousToken')).toBe(oldValue);
    expect(
      Date.parse(during?.metadata?.annotations?.['tokenplane.dev/previous-token-until'] ?? ''),
    ).toBeGreaterThan(Date.now());
    // … and once the grace period is over, only the current one
    const after = await waitFor(
      'previousToken removed after the grace period',
      async () => {
        const secret = await r.secret('rotating');
        return secret && r.secretValue(secret, 'previousToken') === undefined ? secret : undefined;
      },
      30_000,
    );
    expect(r.secretValue(after, 'token')).toBe(newValue);
    expect((await platform.client.introspect(oldValue)).active).toBe(false);
    // The Deployments named and selected by label were rolled to pick up the new
    // value (after the operator's restart debounce window).
    for (const name of ['consumer', 'payments-worker']) {
      await waitFor(`${name} restarted`, async () => {
        const d = await apps.readNamespacedDeployment({ namespace: ns, name });
        return d.spec?.template.metadata?.annotations?.['tokenplane.dev/restartedAt'];
      });
    }
    await waitFor('Rotated event', async () =>
      (await r.events()).find((ev) => ev.reason === 'Rotated' && ev.regarding?.name === 'rotating'),
    );
  }, 150_000);

  it('deletionPolicy Orphan leaves the platform token; Delete revokes it; the Secret goes either way', async () => {
    await r.apiToken('orphan', {
      entityRef: { name: 'acme' },
      deletionPolicy: 'Orphan',
      secretName: 'orphan-secret',
    });
    await r.apiToken('doomed', { entityRef: { name: 'acme' } });
    const orphan = await r.readyToken('orphan');
    const doomed = await r.readyToken('doomed');
    await waitFor(
      'secrets',
      async () => (await r.secret('orphan-secret')) && (await r.secret('doomed')),
    );
    await r.remove('apitokens', 'orphan');
    await r.remove('apitokens', 'doomed');
    await waitFor(
      'both gone',
      async () => (await r.gone('apitokens', 'orphan')) && r.gone('apitokens', 'doomed'),
    );
    expect((await platform.client.getToken(orphan.status?.tokenId as string)).id).toBe(
      orphan.status?.tokenId,
    );
    await expect(platform.client.getToken(doomed.status?.tokenId as string)).rejects.toThrow();
    await waitFor(
      'secrets gone',
      async () => !(await r.secret('orphan-secret')) && !(await r.secret('doomed')),
    );
  });
});

describe('platform-only references and orphaned entities', () => {
  /** A customer made on the platform only, without a default token. */
  const bareCustomer = (name: string, tier: 'lite' | 'advanced' = 'advanced') =>
    platform.client.createEntity({ name, kind: 'customer', tier, defaultToken: false });

  it('issues a token to an entity known only by its platform id, and counts it in the Entity status', async () => {
    const outside = await bareCustomer('outside');
    await r.apiToken('by-id', { entityId: outside.id });
    const t = await r.readyToken('by-id');
    expect((await platform.client.getToken(t.status?.tokenId as string)).entityId).toBe(outside.id);
    await r.entity('outside', {
      kind: 'Customer',
      tier: 'Advanced',
      externalId: outside.id,
      defaultToken: false,
    });
    await waitFor(
      'tokens in use',
      async () => (await r.getEntity('outside'))?.status?.tokenCount === 1,
    );
  });

  it('a child of a platform-only parent above its tier is refused by the platform with TierCeilingExceeded', async () => {
    const parent = await platform.client.createEntity({
      name: 'outside-parent',
      kind: 'reseller',
      tier: 'lite',
    });
    await r.entity('too-high', { kind: 'Customer', tier: 'Advanced', parentId: parent.id });
    const refused = await r.reason('entities', 'too-high', 'TierCeilingExceeded');
    expect(r.condition(refused)?.message).toMatch(/advanced/);
    await r.patchSpec('entities', 'too-high', { tier: 'Lite' });
    const ready = await r.readyEntity('too-high');
    expect((await platform.client.getEntity(ready.status?.id as string)).parentId).toBe(parent.id);
  });

  // The same decisions as the provider's (core/external/plan-token.ts), from the operator's side.
  it('adoptDefaultToken on an entity without a default token issues a new token', async () => {
    const bare = await bareCustomer('bare', 'lite');
    await r.apiToken('bare-adopt', { entityId: bare.id, adoptDefaultToken: true });
    const t = await r.readyToken('bare-adopt');
    expect(await platform.client.listAllTokens(bare.id)).toMatchObject([
      { id: t.status?.tokenId, name: 'bare-adopt' },
    ]);
  });

  it('a tokenId of another entity is refused before anything is adopted', async () => {
    const mine = await bareCustomer('mine');
    const theirs = await platform.client.createEntity({ name: 'theirs', kind: 'customer' });
    const theirToken = theirs.defaultToken?.id as string;
    await r.apiToken('not-mine', { entityId: mine.id, tokenId: theirToken });
    const refused = await r.reason('apitokens', 'not-mine', 'EntityMismatch');
    expect(r.condition(refused)?.message).toContain(`belongs to entity ${theirs.id}`);
    expect((refused as ApiTokenObject).status?.tokenId).toBeUndefined();
    expect((await platform.client.getToken(theirToken)).name).toBe('default');
    await r.remove('apitokens', 'not-mine');
  });

  it('deletionPolicy Orphan on an Entity leaves the platform entity', async () => {
    await r.entity('kept', { kind: 'Reseller', tier: 'Lite', deletionPolicy: 'Orphan' });
    const e = await r.readyEntity('kept');
    await r.remove('entities', 'kept');
    await waitFor('gone', () => r.gone('entities', 'kept'));
    expect((await platform.client.getEntity(e.status?.id as string)).id).toBe(e.status?.id);
  });
});

describe('observability', () => {
  it('serves metrics, health and readiness', async () => {
    const base = `http://127.0.0.1:${operator.metricsPort}`;
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('tokenplane_operator_reconcile_total{kind="ApiToken",result=');
    expect(text).toContain('tokenplane_operator_reconcile_duration_seconds_bucket');
    expect(text).toContain('tokenplane_operator_queue_depth');
    expect(text).toContain('tokenplane_operator_token_expiry_timestamp_seconds{namespace=');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('records Events for create and adopt, and never shows a token value in logs, Events or conditions', async () => {
    const events = await r.events();
    const reasons = new Set(events.map((e) => e.reason));
    for (const reason of [
      'Created',
      'Adopted',
      'Rotated',
      'RolloutRestarted',
      'QuotaExceeded',
      'TierCeilingExceeded',
      'SecretRestored',
    ]) {
      expect(reasons, reason).toContain(reason);
    }
    const tokens = await r.custom.listNamespacedCustomObject({
      group: 'tokenplane.dev',
      version: 'v1alpha1',
      namespace: ns,
      plural: 'apitokens',
    });
    const haystack = [logs.join('\n'), JSON.stringify(events), JSON.stringify(tokens)].join('\n');
    expect(haystack.match(SECRET_PATTERN)).toBeNull();
    expect(logs.length).toBeGreaterThan(0);
  });
});
