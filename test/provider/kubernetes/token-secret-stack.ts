// The TokenSecret suites' stack (a customer and one TokenSecret in namespace
// `shop`) and the checks they share: the Secret's data as an application reads
// it, and the scans for a value left in plain text in the state or the backend.
import type { V1Secret } from '@kubernetes/client-node';
import type { Stack } from '@pulumi/pulumi/automation/index.js';
import { expect } from 'vitest';
import { TokenSecret, type TokenSecretArgs } from '../../../provider/kubernetes/index.ts';
import { SECRET_SIG, SECRET_SIG_VALUE } from '../../harness/pulumi.ts';
import { advancedCustomer, filesContaining } from '../fixtures.ts';
import type { KubeFixture } from './fixtures.ts';

/** A Secret's data as the strings an application reads. */
export const decode = (secret: V1Secret): Record<string, string> =>
  Object.fromEntries(
    Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
  );

const SHOP = 'shop';

/**
 * A stack of the customer "shop" and its TokenSecret "api" in namespace `shop`
 * (created here), configured as the README says; and a read of that Secret.
 */
export async function shopTokenSecretStack(
  f: KubeFixture,
  projectName: string,
  args: Omit<TokenSecretArgs, 'entityId' | 'namespace'> & { secretName: string },
): Promise<{ stack: Stack; readSecret: () => Promise<V1Secret> }> {
  await f.core.createNamespace({ body: { metadata: { name: SHOP } } });
  const stack = await f.env.inlineStack({
    projectName,
    stackName: 'dev',
    program: async () => {
      const shop = advancedCustomer();
      const api = new TokenSecret('api', { entityId: shop.entityId, namespace: SHOP, ...args });
      return {
        entityId: shop.entityId,
        tokenId: api.tokenId,
        token: api.value,
        previousToken: api.apiToken.previousValue,
        previousUntil: api.apiToken.previousValueExpiresAt,
      };
    },
  });
  await f.configure(stack);
  const readSecret = () => f.core.readNamespacedSecret({ name: args.secretName, namespace: SHOP });
  return { stack, readSecret };
}

/** Each value as it could leak: plain, and base64 as in a Secret's data. */
const encodings = (values: Iterable<string>) =>
  [...values].flatMap((v) => [v, Buffer.from(v).toString('base64')]);

/** The stack's exported state holds no value, and the Secret's data only as a Pulumi secret. */
export async function expectStateEncrypted(f: KubeFixture, values: Iterable<string>) {
  const state = await f.env.exportState('dev');
  const text = JSON.stringify(state);
  for (const needle of encodings(values)) expect(text).not.toContain(needle);
  const secret = state.deployment.resources?.find((r) => r.type === 'kubernetes:core/v1:Secret');
  expect(secret?.outputs?.data).toMatchObject({ [SECRET_SIG]: SECRET_SIG_VALUE });
}

/** No file of the backend holds a value, the API key or the cluster credential. */
export function expectBackendClean(f: KubeFixture, values: Iterable<string>) {
  const needles = [f.server.adminKey, f.cp.adminToken, ...encodings(values)];
  expect(filesContaining(f.env.dir, needles)).toEqual([]);
}
