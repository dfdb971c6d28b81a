// The program of examples/pulumi/ in YAML, Python and Go (examples/pulumi-yaml,
// examples/pulumi-python, examples/pulumi-go), each run with the real CLI and
// language host through the provider plugin (README "Pulumi provider for every language"): up, a preview with no
// changes, destroy — the same entities and tokens as the Node.js example.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot } from '../../engines/engines.ts';
import { platformSnapshot } from '../fixtures.ts';
import { usePluginFixture } from './fixtures.ts';

const fixture = usePluginFixture();

type Outputs = {
  entityIds: Record<'northwind' | 'contoso' | 'fabrikam', string>;
  northwindCiToken: string;
  contosoWebToken: string;
  contosoReportsToken: string;
  fabrikamAppToken: string;
  hints: Record<string, string>;
};

async function runExample(language: 'yaml' | 'python' | 'go', prepare?: (dir: string) => void) {
  const f = fixture();
  const from = join(repoRoot, 'examples', `pulumi-${language}`);
  const project = await f.env.project(language, { from }, f.settings);
  prepare?.(project.dir);
  await project.run(['up', '--yes']);
  const outputs = (await project.outputs()) as Outputs;

  const { entities, tokens } = await platformSnapshot(f.client);
  expect(entities.map((e) => e.id).sort()).toEqual(Object.values(outputs.entityIds).sort());
  // Four tokens: Fabrikam's default one taken over, not joined by a second.
  expect(tokens).toHaveLength(4);
  const byName = Object.fromEntries(tokens.map((t) => [t.name, t]));
  expect(byName.web).toMatchObject({
    type: 'publishable',
    rateLimit: { requests: 600, perSeconds: 60 },
  });
  expect(byName.reports).toMatchObject({
    expiresAt: null,
    requireSignedRequests: true,
    usageLimit: { limit: 100_000, period: 'month' },
  });
  expect(outputs.contosoWebToken).toMatch(/^tpp_/);
  for (const value of [outputs.northwindCiToken, outputs.fabrikamAppToken]) {
    expect((await f.client.introspect(value)).active).toBe(true);
  }
  await project.run(['preview', '--expect-no-changes']);
  await project.run(['destroy', '--yes']);
  expect((await platformSnapshot(f.client)).entities).toEqual([]);
}

it('YAML: examples/pulumi-yaml', async () => {
  await runExample('yaml');
});

it('Python: examples/pulumi-python, with the SDK installed from sdk/python', async () => {
  await fixture().env.installPythonSdk();
  await runExample('python');
});

it('Go: examples/pulumi-go, with the SDK from sdk/go', async () => {
  await runExample('go', (dir) => {
    // The copy's relative replace would miss the repository: point it at sdk/go.
    execFileSync(
      'go',
      ['mod', 'edit', `-replace=tokenplane/sdk/go=${join(repoRoot, 'sdk', 'go')}`],
      {
        cwd: dir,
      },
    );
  });
});
