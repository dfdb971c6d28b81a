// What `pulumi preview` refuses before anything is created: a program declaring
// more ApiTokens than an entity's tier allows (tokens already on the platform
// count too), and a missing or refused credential.
import type { PulumiFn } from '@pulumi/pulumi/automation/index.js';
import { describe, expect, it } from 'vitest';
import { ApiToken, Entity } from '../../provider/index.ts';
import { platformSnapshot, useFixture } from './fixtures.ts';

const f = useFixture();

async function previewError(
  stackName: string,
  program: PulumiFn,
  envVars: Record<string, string>,
  config: Record<string, { value: string; secret?: boolean }> = {},
): Promise<string> {
  const stack = await f().env.inlineStack({ projectName: 'plan', stackName, program }, { envVars });
  await stack.setAllConfig(config);
  const error = await stack.preview().then(
    () => null,
    (err: unknown) => String(err),
  );
  expect(error, 'preview should have failed').not.toBeNull();
  return error as string;
}

/** A customer made on the platform only, without a default token. */
const bareCustomer = (name: string, tier: 'lite' | 'advanced' = 'advanced') =>
  f().client.createEntity({ name, kind: 'customer', tier, defaultToken: false });

const credentials = () => ({
  TOKENPLANE_ENDPOINT: f().server.url,
  TOKENPLANE_API_KEY: f().server.adminKey,
});

describe('plan-time quota', () => {
  it('a program declaring more ApiTokens than the tier allows fails at preview and creates nothing', async () => {
    const error = await previewError(
      'over-quota',
      async () => {
        const shop = new Entity('shop', {
          displayName: 'Corner Shop',
          kind: 'customer',
          tier: 'lite',
        });
        new ApiToken('shop-web', {
          entityId: shop.entityId,
          displayName: 'web',
          adoptDefaultToken: true,
        });
        new ApiToken('shop-mobile', { entityId: shop.entityId, displayName: 'mobile' });
      },
      credentials(),
    );
    expect(error).toContain('Entity "Corner Shop" (tier "lite") allows 1 token(s)');
    expect(error).toContain('shop-web, shop-mobile');
    expect(error).toContain('Over the quota: shop-mobile');
    expect((await platformSnapshot(f().client)).entities).toEqual([]);
  });

  it('the default token a new entity gets counts unless a token adopts it', async () => {
    const error = await previewError(
      'default-counts',
      async () => {
        const shop = new Entity('kiosk', { displayName: 'Kiosk', kind: 'customer', tier: 'lite' });
        new ApiToken('kiosk-key', { entityId: shop.entityId, displayName: 'key' });
      },
      credentials(),
    );
    expect(error).toContain('Entity "Kiosk" (tier "lite") allows 1 token(s)');
    expect(error).toContain('adoptDefaultToken');
    expect((await platformSnapshot(f().client)).entities).toEqual([]);
  });

  it('tokens already on the platform for the entity count too', async () => {
    const existing = await bareCustomer('Existing Co');
    for (const name of ['a', 'b', 'c', 'd']) await f().client.createToken(existing.id, { name });
    const error = await previewError(
      'existing-count',
      async () => {
        new ApiToken('extra-1', { entityId: existing.id, displayName: 'extra 1' });
        new ApiToken('extra-2', { entityId: existing.id, displayName: 'extra 2' });
      },
      credentials(),
    );
    expect(error).toContain('Entity "Existing Co" (tier "advanced") allows 5 token(s)');
    expect(error).toContain('4 token(s) not declared here');
    expect(error).toContain('Over the quota: extra-2');
    expect(await f().client.listAllTokens(existing.id)).toHaveLength(4);
    await f().client.deleteEntity(existing.id);
  });

  it('a Lite entity created with its default token takes a declared token only by adoption', async () => {
    const lite = await f().client.createEntity({ name: 'Lite Co', kind: 'customer', tier: 'lite' });
    const error = await previewError(
      'lite-default',
      async () => {
        new ApiToken('lite-key', { entityId: lite.id, displayName: 'key' });
      },
      credentials(),
    );
    expect(error).toContain('Entity "Lite Co" (tier "lite") allows 1 token(s)');
    expect(error).toContain('Over the quota: lite-key');
    expect(error).toContain('adoptDefaultToken');
    expect(await f().client.listAllTokens(lite.id)).toHaveLength(1);
    await f().client.deleteEntity(lite.id);
  });
});

// The same decisions as the operator's (core/external/plan-token.ts), from the provider's side.
describe('adoption', () => {
  it('a tokenId of another entity fails at preview, before anything is adopted', async () => {
    const mine = await bareCustomer('Mine Co');
    const theirs = await f().client.createEntity({ name: 'Theirs Co', kind: 'customer' });
    const theirToken = theirs.defaultToken?.id as string;
    const error = await previewError(
      'not-mine',
      async () => {
        new ApiToken('not-mine', { entityId: mine.id, displayName: 'taken', tokenId: theirToken });
      },
      credentials(),
    );
    expect(error).toContain(`Token ${theirToken} (tokenId) belongs to entity ${theirs.id}`);
    expect((await f().client.getToken(theirToken)).name).toBe('default');
    await f().client.deleteEntity(mine.id);
    await f().client.deleteEntity(theirs.id);
  });

  it('adoptDefaultToken on an entity without a default token issues a new token', async () => {
    const bare = await bareCustomer('Bare Co', 'lite');
    const stack = await f().env.inlineStack(
      {
        projectName: 'plan',
        stackName: 'no-default',
        program: async () => {
          const t = new ApiToken('bare-key', {
            entityId: bare.id,
            displayName: 'bare key',
            adoptDefaultToken: true,
          });
          return { id: t.tokenId };
        },
      },
      { envVars: credentials() },
    );
    const result = await stack.up();
    expect(await f().client.listAllTokens(bare.id)).toMatchObject([
      { id: result.outputs.id?.value, name: 'bare key' },
    ]);
    await stack.destroy();
    await f().client.deleteEntity(bare.id);
  });
});

describe('credentials', () => {
  const program: PulumiFn = async () => {
    new Entity('lonely', { displayName: 'Lonely', kind: 'reseller', tier: 'lite' });
  };

  it('a missing API key fails with the settings to fix', async () => {
    const error = await previewError('no-key', program, {
      TOKENPLANE_ENDPOINT: f().server.url,
      TOKENPLANE_API_KEY: '',
    });
    expect(error).toContain('no API key configured');
    expect(error).toContain('pulumi config set --secret tokenplane:apiKey');
    expect(error).toContain('TOKENPLANE_API_KEY');
  });

  it('a refused API key names where it came from', async () => {
    const error = await previewError(
      'wrong-key',
      program,
      { TOKENPLANE_ENDPOINT: '', TOKENPLANE_API_KEY: '' },
      {
        'tokenplane:endpoint': { value: f().server.url },
        'tokenplane:apiKey': { value: 'tpadm_not-the-right-key', secret: true },
      },
    );
    expect(error).toContain('refused the API key from stack config tokenplane:apiKey');
    expect(error).not.toContain('tpadm_not-the-right-key');
    expect((await platformSnapshot(f().client)).entities).toEqual([]);
  });
});
