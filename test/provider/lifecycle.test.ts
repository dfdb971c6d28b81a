// The provider through the real pulumi CLI and a real platform, one stack taken
// through its whole life: up, no-op preview, rename, tier change, parent change,
// drift out of band (disabled, deleted, rotated), destroy — then the backend
// directory is searched for every token value issued and for the API key. Two
// entities made outside Pulumi have their tokens adopted: one by `tokenId`, and
// the default token of a Lite entity by `adoptDefaultToken`.

import type { Stack } from '@pulumi/pulumi/automation/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreateEntityResponse, TokenWithValue } from '../../core/schemas/index.ts';
import { ApiToken, Entity } from '../../provider/index.ts';
import { SECRET_SIG, SECRET_SIG_VALUE } from '../harness/pulumi.ts';
import {
  type Fixture,
  filesContaining,
  fixture,
  platformSnapshot,
  secretValues,
} from './fixtures.ts';

type Spec = {
  customerName: string;
  customerTier: 'lite' | 'advanced';
  customerParent: 'north' | 'south';
  deployName: string;
};

const initial: Spec = {
  customerName: 'Acme',
  customerTier: 'lite',
  customerParent: 'north',
  deployName: 'deploy',
};

let f: Fixture;
let stack: Stack;
let spec: Spec = { ...initial };
/** Every token value seen: outputs of each `up`, and reveals of every platform token. */
const issued = new Set<string>();
/** Made on the platform before the first `up`, outside Pulumi. */
let legacy: CreateEntityResponse;
let partner: CreateEntityResponse;
let partnerToken: TokenWithValue;

async function up() {
  const result = await stack.up();
  for (const v of secretValues(result.outputs)) issued.add(v);
  const { tokens } = await platformSnapshot(f.client);
  for (const t of tokens) issued.add(await f.client.revealToken(t.id));
  return result;
}

const ids = (result: Awaited<ReturnType<Stack['up']>>) =>
  Object.fromEntries(
    Object.entries(result.outputs)
      .filter(([, o]) => !o.secret)
      .map(([k, o]) => [k, o.value as string]),
  );

beforeAll(async () => {
  f = await fixture();
  // A Lite entity created with its default token: the only token it can hold.
  legacy = await f.client.createEntity({ name: 'Legacy Co', kind: 'customer', tier: 'lite' });
  partner = await f.client.createEntity({
    name: 'Partner Co',
    kind: 'customer',
    tier: 'advanced',
    defaultToken: false,
  });
  partnerToken = await f.client.createToken(partner.id, { name: 'made by hand' });
  stack = await f.env.inlineStack({
    projectName: 'lifecycle',
    stackName: 'dev',
    program: async () => {
      const north = new Entity('north', {
        displayName: 'North Reseller',
        kind: 'reseller',
        tier: 'advanced',
        defaultToken: false,
      });
      const south = new Entity('south', {
        displayName: 'South Reseller',
        kind: 'reseller',
        tier: 'advanced',
        defaultToken: false,
      });
      const customer = new Entity('acme', {
        displayName: spec.customerName,
        kind: 'customer',
        tier: spec.customerTier,
        parentId: (spec.customerParent === 'north' ? north : south).entityId,
      });
      // A Lite entity holds one token: its default one, taken over.
      const acmeKey = new ApiToken('acme-key', {
        entityId: customer.entityId,
        displayName: 'acme key',
        adoptDefaultToken: true,
      });
      const ci = new ApiToken('north-ci', { entityId: north.entityId, displayName: 'ci' });
      const deploy = new ApiToken('north-deploy', {
        entityId: north.entityId,
        displayName: spec.deployName,
        expiresAt: '2031-01-01T00:00:00.000Z',
      });
      const legacyKey = new ApiToken('legacy-key', {
        entityId: legacy.id,
        displayName: 'legacy key',
        adoptDefaultToken: true,
      });
      const partnerKey = new ApiToken('partner-key', {
        entityId: partner.id,
        displayName: 'partner key',
        tokenId: partnerToken.id,
      });
      return {
        northId: north.entityId,
        southId: south.entityId,
        acmeId: customer.entityId,
        acmeKeyId: acmeKey.tokenId,
        ciId: ci.tokenId,
        deployId: deploy.tokenId,
        legacyKeyId: legacyKey.tokenId,
        partnerKeyId: partnerKey.tokenId,
        legacyKey: legacyKey.value,
        partnerKey: partnerKey.value,
        acmeKey: acmeKey.value,
        ci: ci.value,
        deploy: deploy.value,
      };
    },
  });
  // The credential through the provider configuration, as a secret.
  await stack.setConfig('tokenplane:endpoint', { value: f.server.url });
  await stack.setConfig('tokenplane:apiKey', { value: f.server.adminKey, secret: true });
}, 180_000);

afterAll(async () => {
  await f?.close();
});

describe('Entity and ApiToken through pulumi', () => {
  let first: Record<string, string>;

  it('up creates entities and tokens; values are secret outputs that verify', async () => {
    const result = await up();
    expect(result.summary.result).toBe('succeeded');
    first = ids(result);
    for (const key of ['acmeKey', 'ci', 'deploy', 'legacyKey', 'partnerKey']) {
      expect(result.outputs[key]?.secret).toBe(true);
      const introspection = await f.client.introspect(result.outputs[key]?.value as string);
      expect(introspection).toMatchObject({ active: true, tokenId: first[`${key}Id`] });
    }
    const acme = await f.client.getEntity(first.acmeId as string);
    expect(acme).toMatchObject({
      name: 'Acme',
      tier: 'lite',
      parentId: first.northId,
      tokenCount: 1,
    });
    // The default token was adopted (renamed), not joined by a second one.
    expect(await f.client.listAllTokens(acme.id)).toMatchObject([
      { id: first.acmeKeyId, name: 'acme key' },
    ]);
    expect(await f.client.getToken(first.deployId as string)).toMatchObject({
      expiresAt: '2031-01-01T00:00:00.000Z',
    });
  });

  it('existing tokens are adopted: by tokenId, and the default token of a Lite entity', async () => {
    // The same tokens and values as before Pulumi, renamed as declared; nothing issued.
    expect(first.partnerKeyId).toBe(partnerToken.id);
    expect(await f.client.listAllTokens(partner.id)).toMatchObject([
      { id: partnerToken.id, name: 'partner key' },
    ]);
    const legacyDefault = legacy.defaultToken as TokenWithValue;
    expect(first.legacyKeyId).toBe(legacyDefault.id);
    expect(await f.client.listAllTokens(legacy.id)).toMatchObject([
      { id: legacyDefault.id, name: 'legacy key' },
    ]);
    expect((await f.client.getEntity(legacy.id)).tokenCount).toBe(1);
    const outputs = (await stack.outputs()) as Record<string, { value: unknown; secret: boolean }>;
    expect(outputs.partnerKey).toEqual({ value: partnerToken.value, secret: true });
    expect(outputs.legacyKey).toEqual({ value: legacyDefault.value, secret: true });
  });

  it('a second preview reports no changes', async () => {
    const preview = await stack.preview();
    expect(Object.keys(preview.changeSummary)).toEqual(['same']);
  });

  it('the state holds only the thin shim: no client, schema or credential', async () => {
    const state = await f.env.exportState('dev');
    const shims = (state.deployment.resources ?? [])
      .filter((r) => r.type.startsWith('pulumi-nodejs:dynamic/tokenplane:'))
      .map((r) => String(r.inputs?.__provider));
    expect(shims).toHaveLength(8);
    for (const shim of shims) {
      // Stored twice per resource and rewritten after every step: kept small.
      expect(shim.length).toBeLessThan(1_500);
      expect(shim).toContain('TOKENPLANE_PROVIDER_MODULE');
      for (const absent of ['TokenplaneClient', 'undici', 'zod', f.server.adminKey, f.server.url]) {
        expect(shim).not.toContain(absent);
      }
    }
  });

  it('a rename updates in place', async () => {
    spec = { ...spec, customerName: 'Acme Corp', deployName: 'deploy-2' };
    const result = await up();
    expect(result.summary.resourceChanges).toMatchObject({ update: 2 });
    expect(ids(result)).toEqual(first);
    expect((await f.client.getEntity(first.acmeId as string)).name).toBe('Acme Corp');
    expect((await f.client.getToken(first.deployId as string)).name).toBe('deploy-2');
  });

  it('a tier change updates in place', async () => {
    spec = { ...spec, customerTier: 'advanced' };
    const result = await up();
    expect(result.summary.resourceChanges).toMatchObject({ update: 1 });
    expect(ids(result)).toEqual(first);
    expect(await f.client.getEntity(first.acmeId as string)).toMatchObject({
      tier: 'advanced',
      tokenQuota: 5,
    });
  });

  it('a parent change replaces the entity (and its token)', async () => {
    spec = { ...spec, customerParent: 'south' };
    const preview = await stack.preview();
    expect(preview.changeSummary).toMatchObject({ replace: 2 });
    const result = await up();
    const now = ids(result);
    expect(now.acmeId).not.toBe(first.acmeId);
    expect(now.acmeKeyId).not.toBe(first.acmeKeyId);
    await expect(f.client.getEntity(first.acmeId as string)).rejects.toThrow(/404|not-found/);
    expect(await f.client.getEntity(now.acmeId as string)).toMatchObject({
      parentId: first.southId,
      tokenCount: 1,
    });
    first = now;
  });

  it('a token disabled out of band: refresh shows the drift, up repairs it', async () => {
    await f.client.updateToken(first.ciId as string, { status: 'disabled' });
    const refresh = await stack.refresh();
    expect(refresh.summary.resourceChanges).toMatchObject({ update: 1 });
    const state = await f.env.exportState('dev');
    const ci = state.deployment.resources?.find((r) => r.urn.endsWith('::north-ci'));
    expect(ci?.outputs?.status).toBe('disabled');
    const result = await up();
    expect(result.summary.resourceChanges).toMatchObject({ update: 1 });
    expect((await f.client.getToken(first.ciId as string)).status).toBe('active');
  });

  it('a token deleted out of band is recreated', async () => {
    await f.client.deleteToken(first.deployId as string);
    // Seen by the next up without a refresh (diff observes the platform) …
    const preview = await stack.preview();
    expect(preview.changeSummary).toMatchObject({ replace: 1 });
    // … and by refresh, which drops it from the state.
    const refresh = await stack.refresh();
    expect(refresh.summary.resourceChanges).toMatchObject({ delete: 1 });
    const result = await up();
    expect(result.summary.resourceChanges).toMatchObject({ create: 1 });
    const deployId = ids(result).deployId as string;
    expect(deployId).not.toBe(first.deployId);
    expect(await f.client.getToken(deployId)).toMatchObject({ name: 'deploy-2', status: 'active' });
  });

  it('a token rotated out of band: refresh takes the new value, kept secret', async () => {
    const rotated = await f.client.rotateToken(partnerToken.id);
    issued.add(rotated.value);
    // The engine classifies refreshed resources with the provider's diff, which
    // compares the declaration with the platform: nothing to repair, so "same".
    await stack.refresh();
    const state = await f.env.exportState('dev');
    const partnerKey = state.deployment.resources?.find((r) => r.urn.endsWith('::partner-key'));
    expect(partnerKey?.outputs?.hint).toBe(rotated.hint);
    expect(partnerKey?.outputs?.value).toMatchObject({ [SECRET_SIG]: SECRET_SIG_VALUE });
    expect(JSON.stringify(state)).not.toContain(rotated.value);
    // Nothing to change on the platform; the program's output is the new value.
    const result = await up();
    expect(Object.keys(result.summary.resourceChanges ?? {})).toEqual(['same']);
    expect(result.outputs.partnerKey).toEqual({ value: rotated.value, secret: true });
    expect(await f.client.introspect(rotated.value)).toMatchObject({ active: true });
  });

  it('destroy removes everything it manages from the platform, adopted tokens too', async () => {
    await stack.destroy();
    const { entities, tokens } = await platformSnapshot(f.client);
    // The entities made outside Pulumi stay; their adopted tokens went with the stack.
    expect(entities.map((e) => e.name).sort()).toEqual(['Legacy Co', 'Partner Co']);
    expect(tokens).toEqual([]);
  });

  it('no token value and no API key is stored in plain text', async () => {
    const state = await f.env.exportState('dev');
    expect(JSON.stringify(state)).not.toContain(f.server.adminKey);
    const secrets = [...issued, f.server.adminKey];
    // acme default, ci, deploy; the new acme default after the replace; the recreated
    // deploy; the legacy default and the partner token, before and after rotation.
    expect(issued.size).toBe(8);
    expect(filesContaining(f.env.dir, secrets)).toEqual([]);
  });
});
