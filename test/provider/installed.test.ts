// The provider as users get it: the npm package packed and installed into a
// fresh project (test/harness/package.ts), the program's Entity and ApiToken
// imported from that installed package, and the Pulumi project (the workspace's
// work directory, hence the provider process's) being that project — so the
// provider process finds `tokenplane/provider/impl` in its node_modules, i.e.
// dist/provider/impl/index.js.
//
// Nothing may fall back to this checkout's TypeScript sources: the provider
// process runs with type stripping off and without TOKENPLANE_PROVIDER_MODULE,
// the module path recorded in the state must be the installed dist, and destroy
// runs from a state whose recorded path no longer loads — only the resolution
// from the project directory can serve it.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Stack } from '@pulumi/pulumi/automation/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../engines/engines.ts';
import {
  cleanEnv,
  exec,
  type InstalledPackage,
  installPackedTokenplane,
  NODE,
} from '../harness/package.ts';
import { type Fixture, fixture, platformSnapshot } from './fixtures.ts';

type Tokenplane = typeof import('../../provider/index.ts');
type Automation = typeof import('@pulumi/pulumi/automation/index.js');

const PROJECT = 'installed';
const STACK = 'dev';

let pkg: InstalledPackage | undefined;
let f: Fixture | undefined;
let stack: Stack;
/** Where `tokenplane` resolves from the installed project. */
let resolved: string;
/** The implementation the provider must load: the installed dist. */
let installedImpl: string;

beforeAll(async () => {
  pkg = await installPackedTokenplane();
  f = await fixture();
  const { app } = pkg;
  // As a program in that project sees it: `import 'tokenplane'` resolved by plain
  // Node 24 there (this process resolves with the "tokenplane-source" condition).
  const { stdout } = await exec(
    NODE,
    ['--input-type=module', '-e', "console.log(import.meta.resolve('tokenplane'))"],
    { cwd: app, env: cleanEnv() },
  );
  resolved = fileURLToPath(stdout.trim());
  installedImpl = pathToFileURL(
    join(app, 'node_modules/tokenplane/dist/provider/impl/index.js'),
  ).href;
  const { Entity, ApiToken }: Tokenplane = await import(pathToFileURL(resolved).href);

  // The Automation API of the project's @pulumi/pulumi too, as in a user's program:
  // resources must be registered by the same copy that runs the program (the
  // repository's copy refuses the installed copy's RPC messages).
  const automation: Automation = createRequire(join(app, 'package.json'))(
    '@pulumi/pulumi/automation',
  );
  const { env } = f;
  stack = await automation.LocalWorkspace.createOrSelectStack(
    {
      projectName: PROJECT,
      stackName: STACK,
      program: async () => {
        const acme = new Entity('acme', {
          displayName: 'Acme Installed',
          kind: 'customer',
          tier: 'advanced',
          defaultToken: false,
        });
        const ci = new ApiToken('ci', { entityId: acme.entityId, displayName: 'ci' });
        return { acmeId: acme.entityId, ciId: ci.tokenId, ci: ci.value };
      },
    },
    {
      // The provider process runs here and resolves tokenplane/provider/impl here.
      workDir: app,
      pulumiHome: env.pulumiHome,
      // The same CLI, driven by the project's copy (its errors are that copy's classes).
      pulumiCommand: await automation.PulumiCommand.get({
        root: dirname(dirname(env.pulumiCommand.command)),
        skipVersionCheck: true,
      }),
      secretsProvider: 'passphrase',
      projectSettings: { name: PROJECT, runtime: 'nodejs', backend: { url: env.backendUrl } },
      envVars: {
        ...env.envVars,
        // No override of the implementation, and no way to run .ts sources.
        TOKENPLANE_PROVIDER_MODULE: '',
        NODE_OPTIONS: '--no-experimental-strip-types',
        TOKENPLANE_ENDPOINT: '',
        TOKENPLANE_API_KEY: '',
      },
    },
  );
  await stack.setAllConfig({
    'tokenplane:endpoint': { value: f.server.url },
    'tokenplane:apiKey': { value: f.server.adminKey, secret: true },
  });
}, 300_000);

afterAll(async () => {
  await f?.close();
  pkg?.cleanup();
});

/** The state as `pulumi stack export` prints it (run outside the project, hence the full name). */
const exportState = () => (f as Fixture).env.exportState(`organization/${PROJECT}/${STACK}`);

const tokenplaneResources = (state: Awaited<ReturnType<typeof exportState>>) =>
  (state.deployment.resources ?? []).filter((r) =>
    r.type.startsWith('pulumi-nodejs:dynamic/tokenplane:'),
  );

describe('the provider from the installed npm package', () => {
  it('the program imports Entity and ApiToken from the installed dist', () => {
    expect(resolved).toBe(
      join(pkg?.app as string, 'node_modules/tokenplane/dist/provider/index.js'),
    );
    expect(resolved.startsWith(repoRoot)).toBe(false);
  });

  it('up creates the entity and its token on the platform', async () => {
    const result = await stack.up();
    expect(result.summary.result).toBe('succeeded');
    expect(result.summary.resourceChanges).toMatchObject({ create: 3 });
    const client = (f as Fixture).client;
    const acmeId = result.outputs.acmeId?.value as string;
    expect(await client.getEntity(acmeId)).toMatchObject({ name: 'Acme Installed', tokenCount: 1 });
    expect(await client.listAllTokens(acmeId)).toMatchObject([
      { id: result.outputs.ciId?.value, name: 'ci' },
    ]);
    expect(result.outputs.ci?.secret).toBe(true);
    expect(await client.introspect(result.outputs.ci?.value as string)).toMatchObject({
      active: true,
      tokenId: result.outputs.ciId?.value,
    });
  });

  it("the state's provider records the installed dist, not the repository's sources", async () => {
    const resources = tokenplaneResources(await exportState());
    expect(resources.map((r) => r.type).sort()).toEqual([
      'pulumi-nodejs:dynamic/tokenplane:ApiToken',
      'pulumi-nodejs:dynamic/tokenplane:Entity',
    ]);
    for (const r of resources) {
      for (const props of [r.inputs, r.outputs]) {
        const shim = String(props?.__provider);
        expect(shim).toContain('tokenplane/provider/impl');
        expect(shim).toContain(JSON.stringify(installedImpl));
        expect(shim).not.toContain(repoRoot);
        expect(shim).not.toMatch(/\.ts\b/);
      }
    }
  });

  it('a second preview reports no changes', async () => {
    const preview = await stack.preview();
    expect(Object.keys(preview.changeSummary)).toEqual(['same']);
  });

  it('destroy empties the stack, loading the implementation from the project directory', async () => {
    // The recorded module path made unloadable: a state written elsewhere (another
    // machine, a moved project). Only `tokenplane/provider/impl` resolved from the
    // provider's working directory can serve the deletes.
    const env = (f as Fixture).env;
    const gone = pathToFileURL(join(pkg?.dir as string, 'gone/impl/index.js')).href;
    const text = JSON.stringify(await exportState());
    const edited = text.replaceAll(installedImpl, gone);
    expect(edited).not.toBe(text);
    expect(edited).not.toContain(installedImpl);
    const file = join(pkg?.dir as string, 'state.json');
    writeFileSync(file, edited);
    await env.cli([
      'stack',
      'import',
      '--stack',
      `organization/${PROJECT}/${STACK}`,
      '--file',
      file,
    ]);
    expect(JSON.stringify(tokenplaneResources(await exportState()))).toContain(gone);

    const result = await stack.destroy();
    expect(result.summary.result).toBe('succeeded');
    expect(result.summary.resourceChanges).toMatchObject({ delete: 3 });
    expect(tokenplaneResources(await exportState())).toEqual([]);
    expect((await platformSnapshot((f as Fixture).client)).entities).toEqual([]);
  });
});
