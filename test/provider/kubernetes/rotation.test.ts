// TokenSecret rotating by the ApiToken's own trigger, through the real pulumi
// CLI, the Kubernetes provider plugin, a real control plane and a real platform:
// once the token is due (its expiry moved near out of band, as time would), a
// plain `up` rotates it and rewrites the same Secret — the new value under
// `token`, the replaced one under `previousToken` (keys of the operator's
// Secret), both verifying; the first `up` after the grace drops `previousToken`.
// Neither value is ever in the state or the backend in plain text or base64.
import type { V1Secret } from '@kubernetes/client-node';
import type { Stack } from '@pulumi/pulumi/automation/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREVIOUS_KEY, PREVIOUS_UNTIL_ANNOTATION } from '../../../core/external/token-secret.ts';
import { platformSnapshot, secretValues } from '../fixtures.ts';
import { type KubeFixture, kubeFixture } from './fixtures.ts';
import {
  decode,
  expectBackendClean,
  expectStateEncrypted,
  shopTokenSecretStack,
} from './token-secret-stack.ts';

const SECRET = 'shop-rotating';
const HOUR = 3_600_000;
const GRACE_SECONDS = 60;

let f: KubeFixture;
let stack: Stack;
/** Every value the stack's outputs showed. */
const seen = new Set<string>();

let readSecret: () => Promise<V1Secret>;

async function up() {
  const result = await stack.up();
  expect(result.summary.result).toBe('succeeded');
  for (const v of secretValues(result.outputs)) seen.add(v);
  return result;
}

beforeAll(async () => {
  f = await kubeFixture();
  ({ stack, readSecret } = await shopTokenSecretStack(f, 'token-secret-rotation', {
    displayName: 'rotating',
    secretName: SECRET,
    lifetime: '720h',
    renewBefore: '240h',
    rotationGracePeriod: `${GRACE_SECONDS}s`,
  }));
}, 180_000);

afterAll(async () => {
  await f?.close();
});

describe('TokenSecret rotation on pulumi up', () => {
  let uid: string | undefined;
  let tokenId: string;
  let oldValue: string;
  let newValue: string;

  it('up writes the Secret without previousToken', async () => {
    const result = await up();
    tokenId = result.outputs.tokenId?.value as string;
    oldValue = result.outputs.token?.value as string;
    const secret = await readSecret();
    uid = secret.metadata?.uid;
    expect(decode(secret)).toMatchObject({ token: oldValue, tokenId });
    expect(decode(secret)).not.toHaveProperty(PREVIOUS_KEY);
    expect(secret.metadata?.annotations).not.toHaveProperty(PREVIOUS_UNTIL_ANNOTATION);
  }, 180_000);

  it('once due, a plain up rotates: the same Secret holds the new value and previousToken the old', async () => {
    // The token's expiry brought within renewBefore, as the passing of time would.
    await f.client.updateToken(tokenId, { expiresAt: new Date(Date.now() + HOUR).toISOString() });
    const result = await up();
    expect(result.summary.resourceChanges).toMatchObject({ update: 2 });
    newValue = result.outputs.token?.value as string;
    expect(newValue).not.toBe(oldValue);
    expect(result.outputs.tokenId?.value).toBe(tokenId);
    expect(result.outputs.previousToken).toEqual({ value: oldValue, secret: true });
    const secret = await readSecret();
    expect(secret.metadata?.uid).toBe(uid);
    expect(decode(secret)).toMatchObject({ token: newValue, [PREVIOUS_KEY]: oldValue });
    expect(secret.metadata?.annotations?.[PREVIOUS_UNTIL_ANNOTATION]).toBe(
      result.outputs.previousUntil?.value,
    );
    for (const value of [newValue, oldValue]) {
      expect(await f.client.introspect(value)).toMatchObject({ active: true, tokenId });
    }
  }, 180_000);

  it('the state holds both values only encrypted', async () => {
    await expectStateEncrypted(f, seen);
  });

  it('the first up after the grace drops previousToken, whose value no longer verifies', async () => {
    const until = Date.parse((await stack.outputs()).previousUntil?.value as string);
    await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now() + 1_000)));
    expect(await f.client.introspect(oldValue)).toEqual({ active: false });
    const result = await up();
    expect(result.summary.resourceChanges).toMatchObject({ update: 2 });
    expect(result.outputs.token?.value).toBe(newValue);
    const secret = await readSecret();
    expect(secret.metadata?.uid).toBe(uid);
    expect(decode(secret)).toMatchObject({ token: newValue, tokenId });
    expect(decode(secret)).not.toHaveProperty(PREVIOUS_KEY);
    expect(secret.metadata?.annotations).not.toHaveProperty(PREVIOUS_UNTIL_ANNOTATION);
    expect(await f.client.introspect(newValue)).toMatchObject({ active: true, tokenId });
    expect(Object.keys((await stack.preview()).changeSummary)).toEqual(['same']);
  }, 180_000);

  it('destroy leaves no value, API key or cluster credential in the backend', async () => {
    await stack.destroy();
    expect((await platformSnapshot(f.client)).tokens).toEqual([]);
    expect(seen.size).toBe(2);
    expectBackendClean(f, seen);
  }, 180_000);
});
