// README "Token permissions and limits" through the real pulumi CLI: the permission inputs reach the platform
// and come back as outputs; a scope above the entity's tier fails the preview
// (naming resource, scope and tier) before anything is created; a permission
// changed out of band shows at refresh and is set back by up; a type change
// replaces the token.
import type { Stack } from '@pulumi/pulumi/automation/index.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { ApiToken, Entity } from '../../provider/index.ts';
import { advancedCustomer, platformSnapshot, useFixture } from './fixtures.ts';

const f = useFixture();

const credentials = () => ({
  TOKENPLANE_ENDPOINT: f().server.url,
  TOKENPLANE_API_KEY: f().server.adminKey,
});

describe('token permissions', () => {
  it('a scope above the entity’s tier fails at preview, naming resource, scope and tier', async () => {
    const stack = await f().env.inlineStack(
      {
        projectName: 'perm',
        stackName: 'above',
        program: async () => {
          const shop = new Entity('shop', { displayName: 'Shop', kind: 'customer', tier: 'lite' });
          new ApiToken('shop-premium', {
            entityId: shop.entityId,
            displayName: 'premium reader',
            adoptDefaultToken: true,
            scopes: ['metrics:premium:read'],
          });
        },
      },
      { envVars: credentials() },
    );
    const error = await stack.preview().then(
      () => null,
      (err: unknown) => String(err),
    );
    expect(error).toContain('ApiToken "premium reader"');
    expect(error).toMatch(
      /"metrics:premium:read" needs tier "advanced"; the entity has tier "lite"/,
    );
    expect((await platformSnapshot(f().client)).entities).toEqual([]);
  });

  describe('lifecycle', () => {
    let stack: Stack;
    const spec = { type: 'publishable' as 'publishable' | 'secret' };

    beforeAll(async () => {
      stack = await f().env.inlineStack(
        {
          projectName: 'perm',
          stackName: 'life',
          program: async () => {
            const site = advancedCustomer('site', 'Site');
            const dash = new ApiToken('dash', {
              entityId: site.entityId,
              displayName: 'dashboard',
              type: spec.type,
              scopes: ['metrics:core:read', 'metric:latency_p99:read'],
              allowedOrigins: ['https://dash.example.com'],
              rateLimit: { requests: 10, perSeconds: 60 },
              usageLimit: { limit: 500, period: 'day' },
            });
            return { tokenId: dash.tokenId, type: dash.type, origins: dash.allowedOrigins };
          },
        },
        { envVars: credentials() },
      );
    }, 180_000);

    it('up issues the token with its permissions; the outputs show them', async () => {
      const result = await stack.up();
      expect(result.outputs.type?.value).toBe('publishable');
      const token = await f().client.getToken(result.outputs.tokenId?.value as string);
      expect(token).toMatchObject({
        type: 'publishable',
        scopes: ['metrics:core:read', 'metric:latency_p99:read'],
        allowedOrigins: ['https://dash.example.com'],
        allowedIps: [],
        rateLimit: { requests: 10, perSeconds: 60 },
        usageLimit: { limit: 500, period: 'day' },
        requireSignedRequests: false,
      });
      expect(token.hint).toMatch(/^tpp_/);
      expect((await stack.preview()).changeSummary).toEqual({ same: 3 }); // the stack and two resources
    }, 180_000);

    it('refresh shows a permission changed out of band; up sets it back', async () => {
      const id = (await stack.outputs()).tokenId?.value as string;
      await f().client.updateToken(id, {
        allowedOrigins: ['https://evil.example.com'],
        allowedIps: ['10.0.0.1'],
      });
      const refresh = await stack.refresh();
      expect(refresh.summary.resourceChanges).toMatchObject({ update: 1 });
      const state = await f().env.exportState('life');
      const dash = state.deployment.resources?.find((r) => r.urn.endsWith('::dash'));
      expect(dash?.outputs?.allowedOrigins).toEqual(['https://evil.example.com']);
      const result = await stack.up();
      expect(result.summary.resourceChanges).toMatchObject({ update: 1 });
      expect(await f().client.getToken(id)).toMatchObject({
        allowedOrigins: ['https://dash.example.com'],
        allowedIps: [],
      });
    }, 180_000);

    it('a type change replaces the token', async () => {
      const before = (await stack.outputs()).tokenId?.value as string;
      spec.type = 'secret';
      expect((await stack.preview()).changeSummary).toMatchObject({ replace: 1 });
      const result = await stack.up();
      const after = result.outputs.tokenId?.value as string;
      expect(after).not.toBe(before);
      expect((await f().client.getToken(after)).type).toBe('secret');
      await stack.destroy();
    }, 180_000);
  });
});
