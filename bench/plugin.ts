// `npm run bench:plugin`: wall time of `pulumi up` for 100 ApiTokens (one Entity
// of a 100-token tier) through the provider plugin (README "Pulumi provider for every language") against the same
// program through the dynamic provider (README "Pulumi provider"), in the same run, with the real
// CLI, file backend and a real platform. Both programs are inline Node.js
// programs, so only the front door differs: the plugin's resources are
// registered by type token (`tokenplane:index:ApiToken`), as an SDK would.
// How rounds, medians and CPU are measured: ./pulumi-up.ts.
import * as pulumi from '@pulumi/pulumi';
import { ApiToken, Entity } from '../provider/index.ts';
import { pluginTestEnv } from '../test/harness/plugin.ts';
import { benchPlatform, compareUps } from './pulumi-up.ts';

const TOKENS = Number(process.env.BENCH_TOKENS ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const server = await benchPlatform(TOKENS);
const env = await pluginTestEnv({
  envVars: { TOKENPLANE_ENDPOINT: server.url, TOKENPLANE_API_KEY: server.adminKey },
});

/** A resource of the plugin, by type token. */
class PluginResource extends pulumi.CustomResource {}

const entityArgs = { displayName: 'Bench', kind: 'reseller', tier: 'bulk', defaultToken: false };

try {
  await compareUps(env, {
    rounds: ROUNDS,
    describe: `up of ${TOKENS + 1} resources`,
    baseline: {
      name: 'dynamic',
      program: async () => {
        const entity = new Entity('entity', { ...entityArgs, kind: 'reseller' as const });
        for (let i = 0; i < TOKENS; i++) {
          new ApiToken(`token-${i}`, { entityId: entity.entityId, displayName: `token ${i}` });
        }
      },
    },
    subject: {
      name: 'plugin',
      program: async () => {
        const entity = new PluginResource('tokenplane:index:Entity', 'entity', {
          ...entityArgs,
          entityId: undefined,
        });
        const entityId = (entity as unknown as { entityId: pulumi.Output<string> }).entityId;
        for (let i = 0; i < TOKENS; i++) {
          new PluginResource(
            'tokenplane:index:ApiToken',
            `token-${i}`,
            { entityId, displayName: `token ${i}`, value: undefined },
            { additionalSecretOutputs: ['value'] },
          );
        }
      },
    },
  });
} finally {
  await env.cleanup();
  await server.close();
}
