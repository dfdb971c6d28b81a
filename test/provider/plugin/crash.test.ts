// The provider plugin killed at the worst moment (README "Pulumi provider for every language", as the dynamic
// provider in test/provider/crash.test.ts): after the platform has answered a
// create, before the engine could write the state. The rerun's create carries
// the same idempotency key (the URN and what is created), so the platform
// replays its first answer and nothing is issued twice.
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { beforeAll, expect, it } from 'vitest';
import { answered, killingProxy } from '../../harness/killing-proxy.ts';
import type { PluginProject } from '../../harness/plugin.ts';
import { platformSnapshot } from '../fixtures.ts';
import { usePluginFixture } from './fixtures.ts';

const fixture = usePluginFixture();

/** Kills this test's plugin processes; how many it found. */
function killPlugins(): number {
  let killed = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmdline.includes('pulumi-resource-tokenplane.mjs')) continue;
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (!environ.includes(`PULUMI_HOME=${fixture().env.pulumiHome}`)) continue;
      process.kill(Number(entry), 'SIGKILL');
      killed++;
    } catch {
      // The process ended while we looked.
    }
  }
  return killed;
}

const PROGRAM = `name: crash
runtime: yaml
resources:
  shop:
    type: tokenplane:index:Entity
    properties:
      displayName: S
      kind: customer
      tier: advanced
      defaultToken: false
  key:
    type: tokenplane:index:ApiToken
    properties:
      entityId: \${shop.entityId}
      displayName: key
outputs:
  shopId: \${shop.entityId}
  keyId: \${key.tokenId}
  key: \${key.value}
`;

let project: PluginProject;

beforeAll(async () => {
  const f = fixture();
  project = await f.env.project('crash', { files: { 'Pulumi.yaml': PROGRAM } }, f.settings);
}, 180_000);

async function crashThenRerun(path: RegExp) {
  let killed = 0;
  const fresh = (req: IncomingMessage, answer: IncomingMessage) =>
    answered(path, 201)(req, answer) && answer.headers['idempotent-replayed'] !== 'true';
  const proxy = await killingProxy(fixture().server.url, fresh, () => {
    killed = killPlugins();
  });
  try {
    await project.run(['config', 'set', 'tokenplane:endpoint', proxy.url]);
    await project.fails(['up', '--yes', '--skip-preview']);
    expect(killed, 'a plugin process was killed').toBeGreaterThan(0);
    await project.run(['config', 'set', 'tokenplane:endpoint', fixture().server.url]);
    await project.run(['up', '--yes']);
    return (await project.outputs()) as Record<string, string>;
  } finally {
    proxy.server.close();
  }
}

it('killed after the platform created the entity, a rerun creates no second one', async () => {
  const outputs = await crashThenRerun(/^\/v1\/entities$/);
  const { entities, tokens } = await platformSnapshot(fixture().client);
  expect(entities.map((e) => e.id)).toEqual([outputs.shopId]);
  expect(tokens.map((t) => t.id)).toEqual([outputs.keyId]);
  await project.run(['destroy', '--yes']);
});

it('killed after the platform created the token, a rerun issues no second one', async () => {
  const outputs = await crashThenRerun(/^\/v1\/entities\/[^/]+\/tokens$/);
  const { entities, tokens } = await platformSnapshot(fixture().client);
  expect(entities.map((e) => e.id)).toEqual([outputs.shopId]);
  expect(tokens.map((t) => t.id)).toEqual([outputs.keyId]);
  expect((await fixture().client.introspect(outputs.key as string)).active).toBe(true);
  await project.run(['destroy', '--yes']);
});
