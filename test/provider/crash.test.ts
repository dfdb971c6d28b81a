// The provider process killed at the worst moment: after the platform has
// answered a create (or a rotation), before Pulumi could write the state. A rerun
// of `pulumi up` derives the same idempotency key (provider/impl/keys.ts; a
// rotation's names its count) and gets the first answer back, so nothing is
// issued — or rotated — twice.
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Stack } from '@pulumi/pulumi/automation/index.js';
import { beforeAll, expect, it } from 'vitest';
import { ApiToken, Entity } from '../../provider/index.ts';
import { answered, killingProxy } from '../harness/killing-proxy.ts';
import { platformSnapshot, useFixture } from './fixtures.ts';

const fixture = useFixture();

/** The dynamic-provider processes of this test's Pulumi environment. */
function providerPids(pulumiHome: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmdline.includes('dynamic-provider')) continue;
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (environ.includes(`PULUMI_HOME=${pulumiHome}`)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** Kills this test's provider processes; how many it found. */
function killProviders(): number {
  const pids = providerPids(fixture().env.pulumiHome);
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  return pids.length;
}

async function crashThenRerun(stack: Stack, path: RegExp, status = 201) {
  let killed = 0;
  // A fresh create (not the replay of an earlier one) answered: the platform has
  // committed it; the provider dies before it sees the answer.
  const fresh = (req: IncomingMessage, answer: IncomingMessage) =>
    answered(path, status)(req, answer) && answer.headers['idempotent-replayed'] !== 'true';
  const proxy = await killingProxy(fixture().server.url, fresh, () => {
    killed = killProviders();
  });
  try {
    await stack.setConfig('tokenplane:endpoint', { value: proxy.url });
    const crashed = await stack.up().then(
      () => null,
      (err: unknown) => String(err),
    );
    expect(killed, 'a provider process was killed').toBeGreaterThan(0);
    expect(crashed, 'the killed up failed').not.toBeNull();
    await stack.setConfig('tokenplane:endpoint', { value: fixture().server.url });
    return await stack.up();
  } finally {
    proxy.server.close();
  }
}

let stack: Stack;
const shop = { displayName: 'S', kind: 'customer', tier: 'advanced', defaultToken: false } as const;

beforeAll(async () => {
  stack = await fixture().env.inlineStack({
    projectName: 'crash',
    stackName: 'dev',
    program: async () => {
      const entity = new Entity('shop', shop);
      const key = new ApiToken('shop-key', { entityId: entity.entityId, displayName: 'key' });
      return { shopId: entity.entityId, keyId: key.tokenId, key: key.value };
    },
  });
  await stack.setConfig('tokenplane:apiKey', { value: fixture().server.adminKey, secret: true });
}, 180_000);

it('killed after the platform created the entity, a rerun of `up` creates no second one', async () => {
  const result = await crashThenRerun(stack, /^\/v1\/entities$/);
  const { entities, tokens } = await platformSnapshot(fixture().client);
  expect(entities.map((e) => e.id)).toEqual([result.outputs.shopId?.value]);
  expect(tokens.map((t) => t.id)).toEqual([result.outputs.keyId?.value]);
  await stack.destroy();
}, 300_000);

it('killed after the platform created the token, a rerun of `up` issues no second one', async () => {
  // The first `up` after the destroy replays the entity's first key, whose entity
  // is gone: the provider moves on to the next key. Then the token's create is
  // answered, and the provider dies.
  const result = await crashThenRerun(stack, /^\/v1\/entities\/[^/]+\/tokens$/);
  const { entities, tokens } = await platformSnapshot(fixture().client);
  expect(entities.map((e) => e.id)).toEqual([result.outputs.shopId?.value]);
  expect(tokens.map((t) => t.id)).toEqual([result.outputs.keyId?.value]);
  expect((await fixture().client.introspect(result.outputs.key?.value as string)).active).toBe(
    true,
  );
  await stack.destroy();
}, 300_000);

it('killed after the platform rotated the token, a rerun of `up` rotates no second time', async () => {
  const rotating = await fixture().env.inlineStack({
    projectName: 'crash',
    stackName: 'rotate',
    program: async () => {
      const entity = new Entity('shop', shop);
      const key = new ApiToken('shop-key', {
        entityId: entity.entityId,
        displayName: 'key',
        lifetime: '720h',
        renewBefore: '240h',
        rotationGracePeriod: '1h',
      });
      return {
        keyId: key.tokenId,
        key: key.value,
        previous: key.previousValue,
        rotations: key.rotations,
      };
    },
  });
  await rotating.setConfig('tokenplane:apiKey', { value: fixture().server.adminKey, secret: true });
  await rotating.setConfig('tokenplane:endpoint', { value: fixture().server.url });
  const first = await rotating.up();
  const keyId = first.outputs.keyId?.value as string;
  const original = first.outputs.key?.value as string;
  // Due for rotation: its expiry brought within renewBefore.
  const soon = new Date(Date.now() + 3_600_000).toISOString();
  await fixture().client.updateToken(keyId, { expiresAt: soon });
  const result = await crashThenRerun(rotating, /^\/v1\/tokens\/[^/]+\/rotate$/, 200);
  expect(result.outputs.keyId?.value).toBe(keyId);
  expect(result.outputs.rotations?.value).toBe(1);
  expect(result.outputs.previous).toEqual({ value: original, secret: true });
  // One rotation on the platform: a second one would have ended the original's grace.
  const client = fixture().client;
  expect(await client.introspect(original)).toMatchObject({ active: true, tokenId: keyId });
  const current = result.outputs.key?.value as string;
  expect(await client.introspect(current)).toMatchObject({ active: true, tokenId: keyId });
  expect((await client.getToken(keyId)).expiresAt).not.toBe(soon);
  await rotating.destroy();
}, 300_000);
