// `npm run bench:pulumi-k8s`: wall and CPU time of `pulumi up` for 20
// TokenSecrets (each an ApiToken and a Kubernetes Secret) against the same 20
// ApiTokens alone, with the real CLI, the Kubernetes provider plugin, a real
// control plane and a real platform. The ratio is the price of the Secrets:
// the Kubernetes provider plugin's start and one Secret apply per token.
// How rounds, medians and CPU are measured: ./pulumi-up.ts.
import { ApiToken, Entity } from '../provider/index.ts';
import { TokenSecret } from '../provider/kubernetes/index.ts';
import { startControlPlane } from '../test/harness/control-plane.ts';
import { pulumiTestEnv } from '../test/harness/pulumi.ts';
import { requireKubernetesPlugin } from '../test/provider/kubernetes/fixtures.ts';
import { benchPlatform, compareUps } from './pulumi-up.ts';

const TOKENS = Number(process.env.BENCH_TOKENS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const server = await benchPlatform(TOKENS);
const cp = await startControlPlane();
const env = await pulumiTestEnv({ envVars: { TOKENPLANE_API_KEY: server.adminKey } });
requireKubernetesPlugin(env.envVars.PATH ?? '');

const entity = () =>
  new Entity('entity', {
    displayName: 'Bench',
    kind: 'reseller',
    tier: 'bulk',
    defaultToken: false,
  });

try {
  await compareUps(env, {
    rounds: ROUNDS,
    describe: `up of ${TOKENS} tokens`,
    configure: (stack) =>
      stack.setAllConfig({
        'tokenplane:endpoint': { value: server.url },
        'kubernetes:kubeconfig': { value: cp.kubeconfigPath },
        'kubernetes:enableSecretMutable': { value: 'true' },
      }),
    baseline: {
      name: 'ApiToken',
      program: async () => {
        const { entityId } = entity();
        for (let i = 0; i < TOKENS; i++) {
          new ApiToken(`token-${i}`, { entityId, displayName: `token ${i}` });
        }
      },
    },
    subject: {
      name: 'TokenSecret',
      program: async () => {
        const { entityId } = entity();
        for (let i = 0; i < TOKENS; i++) {
          new TokenSecret(`token-${i}`, { entityId, displayName: `token ${i}` });
        }
      },
    },
  });
} finally {
  await env.cleanup();
  await cp.stop();
  await server.close();
}
