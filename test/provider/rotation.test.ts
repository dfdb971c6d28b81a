// Rotation on `pulumi up` (issue 12), through the real pulumi CLI and a real
// platform: an ApiToken declared with a `lifetime` gets its expiry from it; once
// its renewal time has passed (here: its expiry moved near out of band, as time
// would), `up` rotates it under the same id; the replaced value keeps verifying
// and stays in `previousValue` (a secret) for `rotationGracePeriod`, and the
// first `up` after that drops it. Bad rotation inputs fail the preview, naming
// the property. No value is ever in the state or the backend in plain text.
import type { Stack } from '@pulumi/pulumi/automation/index.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { RotationRules } from '../../core/external/rotation.ts';
import { ApiToken } from '../../provider/index.ts';
import { SECRET_SIG, SECRET_SIG_VALUE } from '../harness/pulumi.ts';
import {
  advancedCustomer,
  filesContaining,
  platformSnapshot,
  secretValues,
  useFixture,
} from './fixtures.ts';

const f = useFixture();

const credentials = () => ({
  TOKENPLANE_ENDPOINT: f().server.url,
  TOKENPLANE_API_KEY: f().server.adminKey,
});

const HOUR = 3_600_000;
const GRACE_SECONDS = 40;

describe('rotation on pulumi up', () => {
  let stack: Stack;
  /** Every value the stack's outputs showed. */
  const seen = new Set<string>();
  let tokenId: string;
  let firstValue: string;

  async function up() {
    const result = await stack.up();
    for (const v of secretValues(result.outputs)) seen.add(v);
    return result;
  }

  async function tokenState() {
    const state = await f().env.exportState('rotate');
    const resource = state.deployment.resources?.find((r) => r.urn.endsWith('::rotating'));
    return { state, outputs: resource?.outputs ?? {} };
  }

  beforeAll(async () => {
    stack = await f().env.inlineStack(
      {
        projectName: 'rotation',
        stackName: 'rotate',
        program: async () => {
          const shop = advancedCustomer();
          const token = new ApiToken('rotating', {
            entityId: shop.entityId,
            displayName: 'rotating key',
            lifetime: '720h',
            renewBefore: '240h',
            rotationGracePeriod: `${GRACE_SECONDS}s`,
          });
          return {
            tokenId: token.tokenId,
            value: token.value,
            previousValue: token.previousValue,
            previousValueExpiresAt: token.previousValueExpiresAt,
            renewalTime: token.renewalTime,
            rotations: token.rotations,
            expiresAt: token.expiresAt,
          };
        },
      },
      { envVars: credentials() },
    );
  }, 180_000);

  it('up issues the token with the expiry its lifetime gives; nothing to rotate yet', async () => {
    const result = await up();
    tokenId = result.outputs.tokenId?.value as string;
    firstValue = result.outputs.value?.value as string;
    expect(result.outputs.value?.secret).toBe(true);
    const token = await f().client.getToken(tokenId);
    expect(Date.parse(token.expiresAt as string) - Date.parse(token.createdAt)).toBe(720 * HOUR);
    expect(result.outputs.expiresAt?.value).toBe(token.expiresAt);
    expect(result.outputs.renewalTime?.value).toBe(
      new Date(Date.parse(token.expiresAt as string) - 240 * HOUR).toISOString(),
    );
    expect(result.outputs.rotations?.value).toBe(0);
    expect(result.outputs.previousValue?.value).toBeNull();
    expect((await stack.preview()).changeSummary).toEqual({ same: 3 });
  }, 180_000);

  it('once the renewal time has passed, up rotates: same id, new value, the old one kept for the grace', async () => {
    // The token's expiry brought within renewBefore, as the passing of time would.
    await f().client.updateToken(tokenId, {
      expiresAt: new Date(Date.now() + HOUR).toISOString(),
    });
    expect((await stack.preview()).changeSummary).toMatchObject({ update: 1 });
    const started = Date.now();
    const result = await up();
    expect(result.summary.resourceChanges).toMatchObject({ update: 1 });
    const value = result.outputs.value?.value as string;
    expect(result.outputs.tokenId?.value).toBe(tokenId);
    expect(value).not.toBe(firstValue);
    expect(result.outputs.rotations?.value).toBe(1);
    // The replaced value, a secret, beside the new one while it verifies.
    expect(result.outputs.previousValue).toEqual({ value: firstValue, secret: true });
    const until = Date.parse(result.outputs.previousValueExpiresAt?.value as string);
    expect(until).toBeGreaterThanOrEqual(started + GRACE_SECONDS * 1000);
    expect(await f().client.introspect(value)).toMatchObject({ active: true, tokenId });
    expect(await f().client.introspect(firstValue)).toMatchObject({ active: true, tokenId });
    // A new expiry, a lifetime from the rotation.
    const token = await f().client.getToken(tokenId);
    expect(Date.parse(token.expiresAt as string)).toBeGreaterThanOrEqual(started + 720 * HOUR);
    expect((await f().client.listAllTokens(token.entityId)).map((t) => t.id)).toEqual([tokenId]);
    // Not due again until a lifetime minus renewBefore from now (the next ups do not rotate:
    // the last test still counts one rotation).
    expect(Date.parse(result.outputs.renewalTime?.value as string)).toBeGreaterThanOrEqual(
      started + 480 * HOUR,
    );
  }, 180_000);

  it('the state holds both values only as secrets', async () => {
    const { state, outputs } = await tokenState();
    expect(outputs.value).toMatchObject({ [SECRET_SIG]: SECRET_SIG_VALUE });
    expect(outputs.previousValue).toMatchObject({ [SECRET_SIG]: SECRET_SIG_VALUE });
    expect(outputs.rotations).toBe(1);
    const text = JSON.stringify(state);
    for (const value of seen) expect(text).not.toContain(value);
  });

  it('the first up after the grace drops the previous value, which no longer verifies', async () => {
    const outputs = await stack.outputs();
    const until = Date.parse(outputs.previousValueExpiresAt?.value as string);
    await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now() + 1_000)));
    expect(await f().client.introspect(firstValue)).toEqual({ active: false });
    expect((await stack.preview()).changeSummary).toMatchObject({ update: 1 });
    const result = await up();
    expect(result.outputs.previousValue?.value).toBeNull();
    expect(result.outputs.previousValueExpiresAt?.value).toBeNull();
    expect(result.outputs.rotations?.value).toBe(1);
    expect(await f().client.introspect(result.outputs.value?.value as string)).toMatchObject({
      active: true,
    });
    expect((await stack.preview()).changeSummary).toEqual({ same: 3 });
  }, 180_000);

  it('destroy leaves no value in plain text anywhere in the backend', async () => {
    await stack.destroy();
    expect((await platformSnapshot(f().client)).tokens).toEqual([]);
    expect(seen.size).toBe(2);
    expect(filesContaining(f().env.dir, [...seen, f().server.adminKey])).toEqual([]);
  }, 180_000);
});

describe('rotation inputs', () => {
  async function previewError(args: {
    lifetime?: string;
    renewBefore?: string;
    expiresAt?: string;
  }): Promise<string> {
    const stack = await f().env.inlineStack(
      {
        projectName: 'rotation',
        stackName: 'bad',
        program: async () => {
          new ApiToken('bad', {
            entityId: '6f1c1b9e-34a4-4f9c-9d59-1b7c5d0f6a11',
            displayName: 'bad',
            ...args,
          });
        },
      },
      { envVars: credentials() },
    );
    return stack.preview().then(
      () => 'no error',
      (err: unknown) => String(err),
    );
  }

  it('fail the preview naming the property and what to do', async () => {
    expect(await previewError({ lifetime: '720h', expiresAt: '2031-01-01T00:00:00Z' })).toContain(
      `lifetime: ${RotationRules.oneExpiry}`,
    );
    expect(await previewError({ renewBefore: '24h' })).toContain(
      `renewBefore: ${RotationRules.renewNeedsLifetime}`,
    );
    expect(await previewError({ lifetime: '24h', renewBefore: '48h' })).toContain(
      `renewBefore: ${RotationRules.renewNotShorter}`,
    );
    expect(await previewError({ lifetime: '5s' })).toContain(
      `lifetime: ${RotationRules.lifetimeTooShort}`,
    );
    expect(await previewError({ lifetime: '30 days' })).toMatch(
      /lifetime: must be a duration such as 720h.*\(got "30 days"\)/,
    );
    expect((await platformSnapshot(f().client)).entities).toEqual([]);
  }, 180_000);
});
