// The provider process killed at the worst moment: after the platform has
// answered a create, before Pulumi could write the state. A rerun of `pulumi up`
// derives the same idempotency key (provider/impl/keys.ts) and gets the first
// answer back, so nothing is issued twice.
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Stack } from '@pulumi/pulumi/automation/index.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ApiToken, Entity } from '../../provider/index.ts';
import { type Fixture, fixture, platformSnapshot } from './fixtures.ts';

let f: Fixture;

beforeAll(async () => {
  f = await fixture();
}, 180_000);

afterAll(async () => {
  await f?.close();
});

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

/**
 * A proxy in front of the platform that SIGKILLs the provider processes once the
 * platform has answered the first fresh create matching `path` (it has committed
 * it), before the provider sees the answer.
 */
async function killingProxy(path: RegExp) {
  const target = new URL(f.server.url);
  const state = { url: '', server: undefined as unknown as Server, killed: [] as number[] };
  state.server = createServer((req, res) => {
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        // A fresh create (not the replay of an earlier one) has just been committed.
        const create =
          req.method === 'POST' &&
          path.test(req.url ?? '') &&
          answer.statusCode === 201 &&
          answer.headers['idempotent-replayed'] !== 'true';
        if (create && state.killed.length === 0) {
          state.killed = providerPids(f.env.pulumiHome);
          for (const pid of state.killed) process.kill(pid, 'SIGKILL');
          res.destroy();
          answer.resume();
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}`;
  return state;
}

async function crashThenRerun(stack: Stack, path: RegExp) {
  const proxy = await killingProxy(path);
  try {
    await stack.setConfig('tokenplane:endpoint', { value: proxy.url });
    const crashed = await stack.up().then(
      () => null,
      (err: unknown) => String(err),
    );
    expect(proxy.killed.length, 'a provider process was killed').toBeGreaterThan(0);
    expect(crashed, 'the killed up failed').not.toBeNull();
    await stack.setConfig('tokenplane:endpoint', { value: f.server.url });
    return await stack.up();
  } finally {
    proxy.server.close();
  }
}

let stack: Stack;

beforeAll(async () => {
  stack = await f.env.inlineStack({
    projectName: 'crash',
    stackName: 'dev',
    program: async () => {
      const shop = new Entity('shop', {
        displayName: 'Crash Shop',
        kind: 'customer',
        tier: 'advanced',
        defaultToken: false,
      });
      const key = new ApiToken('shop-key', { entityId: shop.entityId, displayName: 'key' });
      return { shopId: shop.entityId, keyId: key.tokenId, key: key.value };
    },
  });
  await stack.setConfig('tokenplane:apiKey', { value: f.server.adminKey, secret: true });
}, 180_000);

it('killed after the platform created the entity, a rerun of `up` creates no second one', async () => {
  const result = await crashThenRerun(stack, /^\/v1\/entities$/);
  const { entities, tokens } = await platformSnapshot(f.client);
  expect(entities.map((e) => e.id)).toEqual([result.outputs.shopId?.value]);
  expect(tokens.map((t) => t.id)).toEqual([result.outputs.keyId?.value]);
  await stack.destroy();
}, 300_000);

it('killed after the platform created the token, a rerun of `up` issues no second one', async () => {
  // The first `up` after the destroy replays the entity's first key, whose entity
  // is gone: the provider moves on to the next key. Then the token's create is
  // answered, and the provider dies.
  const result = await crashThenRerun(stack, /^\/v1\/entities\/[^/]+\/tokens$/);
  const { entities, tokens } = await platformSnapshot(f.client);
  expect(entities.map((e) => e.id)).toEqual([result.outputs.shopId?.value]);
  expect(tokens.map((t) => t.id)).toEqual([result.outputs.keyId?.value]);
  expect((await f.client.introspect(result.outputs.key?.value as string)).active).toBe(true);
  await stack.destroy();
}, 300_000);
