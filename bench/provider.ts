// `npm run bench:provider`: wall time of `pulumi up` for a program with 100
// ApiTokens (one Entity of a 100-token tier) against the same program made of a
// no-op dynamic resource, with the real CLI, file backend and a real platform.
// Target: ratio ≤ 1.5×. How rounds, medians and CPU are measured: ./pulumi-up.ts.
import * as pulumi from '@pulumi/pulumi';
import { ApiToken, Entity } from '../provider/index.ts';
import { pulumiTestEnv } from '../test/harness/pulumi.ts';
import { benchPlatform, compareUps } from './pulumi-up.ts';

const TOKENS = Number(process.env.BENCH_TOKENS ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const noop: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    return { id: `${inputs.name}-${Date.now()}`, outs: inputs };
  },
};

class Noop extends pulumi.dynamic.Resource {
  constructor(name: string, props: Record<string, unknown>) {
    super(noop, name, { name, ...props }, {}, 'bench', 'Noop');
  }
}

const server = await benchPlatform(TOKENS);
const env = await pulumiTestEnv({
  envVars: { TOKENPLANE_ENDPOINT: server.url, TOKENPLANE_API_KEY: server.adminKey },
});

try {
  await compareUps(env, {
    rounds: ROUNDS,
    describe: `up of ${TOKENS + 1} resources`,
    target: '(target ≤ 1.5×)',
    baseline: {
      name: 'noop',
      program: async () => {
        const entity = new Noop('entity', { displayName: 'Bench', kind: 'reseller', tier: 'bulk' });
        for (let i = 0; i < TOKENS; i++) {
          new Noop(`token-${i}`, { entityId: entity.id, displayName: `token ${i}` });
        }
      },
    },
    subject: {
      name: 'tokenplane',
      program: async () => {
        const entity = new Entity('entity', {
          displayName: 'Bench',
          kind: 'reseller',
          tier: 'bulk',
          defaultToken: false,
        });
        for (let i = 0; i < TOKENS; i++) {
          new ApiToken(`token-${i}`, { entityId: entity.entityId, displayName: `token ${i}` });
        }
      },
    },
  });
} finally {
  await env.cleanup();
  await server.close();
}
