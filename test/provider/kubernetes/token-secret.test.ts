// TokenSecret through the real pulumi CLI, the Kubernetes provider plugin, a
// real control plane and a real platform: up writes the Secret the operator
// would write, with a token that verifies; neither the exported state nor any
// file of the backend holds the value (plain or base64); a rotation on the
// platform reaches the Secret in place on `up --refresh`; destroy removes the
// Secret and the token.
import type { V1Secret } from '@kubernetes/client-node';
import type { Stack } from '@pulumi/pulumi/automation/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformSnapshot } from '../fixtures.ts';
import { type KubeFixture, kubeFixture } from './fixtures.ts';
import {
  decode,
  expectBackendClean,
  expectStateEncrypted,
  shopTokenSecretStack,
} from './token-secret-stack.ts';

const SECRET = 'shop-api-token';

let f: KubeFixture;
let stack: Stack;
/** Every value the Secret held, to look for in the backend at the end. */
const values = new Set<string>();

let readSecret: () => Promise<V1Secret>;

beforeAll(async () => {
  f = await kubeFixture();
  ({ stack, readSecret } = await shopTokenSecretStack(f, 'token-secret', {
    displayName: 'shop api',
    secretName: SECRET,
    secretTemplate: { labels: { app: 'shop' }, annotations: { team: 'payments' } },
  }));
}, 180_000);

afterAll(async () => {
  await f?.close();
});

describe('TokenSecret', () => {
  let first: V1Secret;

  it('up writes a Secret with the operator’s keys and labels and a working token', async () => {
    const result = await stack.up();
    expect(result.summary.result).toBe('succeeded');
    expect(result.outputs.token?.secret).toBe(true);
    first = await readSecret();
    const data = decode(first);
    values.add(data.token as string);
    expect(data).toEqual({
      token: result.outputs.token?.value,
      tokenId: result.outputs.tokenId?.value,
      entityId: result.outputs.entityId?.value,
      endpoint: f.server.url,
      type: 'secret',
    });
    expect(await f.client.introspect(data.token as string)).toMatchObject({
      active: true,
      tokenId: data.tokenId,
      entityId: data.entityId,
    });
    const token = await f.client.getToken(data.tokenId as string);
    expect(first.type).toBe('Opaque');
    expect(first.metadata?.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'tokenplane',
      app: 'shop',
    });
    expect(first.metadata?.annotations).toMatchObject({
      'tokenplane.dev/token-hint': token.hint,
      team: 'payments',
    });
  });

  it('a second preview reports no changes', async () => {
    const preview = await stack.preview();
    expect(Object.keys(preview.changeSummary)).toEqual(['same']);
  });

  it('the state holds the value only encrypted, in the ApiToken and in the Secret', async () => {
    await expectStateEncrypted(f, values);
  });

  it('a rotation on the platform updates the Secret in place on `up --refresh`', async () => {
    const tokenId = decode(first).tokenId as string;
    const rotated = await f.client.rotateToken(tokenId, { gracePeriodSeconds: 60 });
    values.add(rotated.value);
    const result = await stack.up({ refresh: true });
    const changes = result.summary.resourceChanges ?? {};
    expect(changes).toMatchObject({ update: 1 });
    expect(Object.keys(changes).sort()).toEqual(['same', 'update']);
    const now = await readSecret();
    // The same object, written again: not deleted and created.
    expect(now.metadata?.uid).toBe(first.metadata?.uid);
    expect(decode(now)).toEqual({ ...decode(first), token: rotated.value });
    expect(now.metadata?.annotations?.['tokenplane.dev/token-hint']).toBe(rotated.hint);
    expect(result.outputs.token).toEqual({ value: rotated.value, secret: true });
    expect(await f.client.introspect(rotated.value)).toMatchObject({ active: true, tokenId });
  });

  it('destroy removes the Secret and the token', async () => {
    await stack.destroy();
    await expect(readSecret()).rejects.toMatchObject({ code: 404 });
    expect((await platformSnapshot(f.client)).tokens).toEqual([]);
  });

  it('no value, API key or cluster credential is stored in plain text or base64', () => {
    expect(values.size).toBe(2);
    expectBackendClean(f, values);
  });
});
