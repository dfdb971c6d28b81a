// The provider plugin under the real pulumi CLI and a language host
// (README "Pulumi provider for every language"), the same steps for each
// language (programs.ts): a program's whole life — up, a preview refused over
// the quota with nothing created, drift shown by refresh and set back by up, an
// update in place, a replacement, `pulumi import` of what exists already
// followed by a preview with no changes, destroy — and a state that never holds
// a token value in plain text.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { PluginProject } from '../../harness/plugin.ts';
import { platformSnapshot } from '../fixtures.ts';
import { usePluginFixture } from './fixtures.ts';
import { type Language, PROGRAMS } from './programs.ts';

export function lifecycleSuite(language: Language): void {
  const fixture = usePluginFixture();
  const program = PROGRAMS[language];
  let project: PluginProject;
  let outputs: Record<string, string>;

  beforeAll(async () => {
    const f = fixture();
    if (language === 'python') await f.env.installPythonSdk();
    project = await f.env.project('life', { files: program.files({}) }, f.settings);
  }, 300_000);

  it('up creates the entities and tokens; each value authenticates', async () => {
    await project.run(['up', '--yes']);
    outputs = (await project.outputs()) as Record<string, string>;
    const { client } = fixture();
    const { entities, tokens } = await platformSnapshot(client);
    expect(entities.map((e) => e.id).sort()).toEqual([outputs.resellerId, outputs.shopId].sort());
    // The shop's default token was taken over, not joined by a second one.
    expect(tokens.map((t) => t.id).sort()).toEqual([outputs.ciId, outputs.appId].sort());
    const ci = await client.getToken(outputs.ciId as string);
    expect(ci).toMatchObject({
      name: 'ci',
      expiresAt: null,
      rateLimit: { requests: 60, perSeconds: 60 },
    });
    for (const value of [outputs.ciValue, outputs.appValue]) {
      expect((await client.introspect(value as string)).active).toBe(true);
    }
    await project.run(['preview', '--expect-no-changes']);
  });

  it('the state holds the token values only encrypted', async () => {
    const text = await project.run(['stack', 'export']);
    for (const value of [outputs.ciValue, outputs.appValue]) expect(text).not.toContain(value);
    const state = JSON.parse(text) as {
      deployment: { resources: { type: string; outputs?: Record<string, unknown> }[] };
    };
    const tokens = state.deployment.resources.filter((r) => r.type === 'tokenplane:index:ApiToken');
    expect(tokens).toHaveLength(2);
    for (const token of tokens) expect(token.outputs?.value).toHaveProperty('ciphertext');
  });

  it('a program over the quota fails at preview, and up creates nothing', async () => {
    project.write(program.files({ extra: 'over-quota' }));
    const before = await platformSnapshot(fixture().client);
    const preview = await project.fails(['preview']);
    expect(preview).toContain('Entity "Shop" (tier "lite") allows 1 token(s)');
    expect(preview).toContain('Over the quota: extra');
    await project.fails(['up', '--yes']);
    expect((await platformSnapshot(fixture().client)).tokens.length).toBe(before.tokens.length);
    project.write(program.files({}));
  });

  it("a scope above the entity's tier fails at preview", async () => {
    project.write(program.files({ extra: 'premium' }));
    const preview = await project.fails(['preview']);
    expect(preview).toContain('metrics:premium:read');
    project.write(program.files({}));
  });

  it('refresh shows a change made on the platform, and up sets it back', async () => {
    const { client } = fixture();
    await client.updateToken(outputs.ciId as string, { name: 'renamed', status: 'disabled' });
    await project.run(['refresh', '--yes']);
    const diff = await project.run(['preview', '--diff']);
    expect(diff).toContain('displayName: "renamed" => "ci"');
    expect(diff).toContain('status     : "disabled" => "active"');
    await project.run(['up', '--yes']);
    expect(await client.getToken(outputs.ciId as string)).toMatchObject({
      name: 'ci',
      status: 'active',
    });
  });

  it('a token deleted on the platform reads as gone at refresh, and up creates it again', async () => {
    const { client } = fixture();
    await client.deleteToken(outputs.ciId as string);
    await project.run(['refresh', '--yes']);
    const state = JSON.parse(await project.run(['stack', 'export'])) as {
      deployment: { resources: { id?: string }[] };
    };
    expect(state.deployment.resources.map((r) => r.id)).not.toContain(outputs.ciId);
    await project.run(['up', '--yes']);
    outputs = (await project.outputs()) as Record<string, string>;
    expect((await client.getToken(outputs.ciId as string)).name).toBe('ci');
  });

  it('a changed name and limit update the token in place', async () => {
    project.write(program.files({ ciName: 'ci-2', ciRequests: 120 }));
    const out = await project.run(['up', '--yes']);
    expect(out).toContain('1 updated');
    const now = (await project.outputs()) as Record<string, string>;
    expect(now.ciId).toBe(outputs.ciId);
    expect(now.ciValue).toBe(outputs.ciValue);
    expect(await fixture().client.getToken(outputs.ciId as string)).toMatchObject({
      name: 'ci-2',
      rateLimit: { requests: 120, perSeconds: 60 },
    });
  });

  it('a changed type replaces the token: a new id and value, the old one deleted', async () => {
    project.write(program.files({ ciPublishable: true }));
    const preview = await project.run(['preview', '--diff']);
    expect(preview).toMatch(/\+-.*tokenplane:index:ApiToken.*replace/);
    await project.run(['up', '--yes']);
    const now = (await project.outputs()) as Record<string, string>;
    expect(now.ciId).not.toBe(outputs.ciId);
    expect(now.ciValue).toMatch(/^tpp_/);
    const { tokens } = await platformSnapshot(fixture().client);
    expect(tokens.map((t) => t.id)).not.toContain(outputs.ciId);
    expect((await fixture().client.introspect(outputs.ciValue as string)).active).toBe(false);
    outputs = now;
  });

  it('pulumi import adopts an existing entity and token; the printed (or, where the host prints none, written) code previews with no changes', async () => {
    const { client } = fixture();
    const entity = await client.createEntity({
      name: 'Imported',
      kind: 'customer',
      tier: 'advanced',
      defaultToken: false,
    });
    const token = await client.createToken(entity.id, {
      name: 'legacy',
      expiresAt: null,
      scopes: ['metrics:core:read'],
      allowedIps: ['10.0.0.0/8'],
      usageLimit: { limit: 1000, period: 'month' },
    });
    const imports = program.imports;
    const adopt = async (type: string, name: string, id: string) => {
      if (!imports.printed) {
        await project.run([
          'import',
          type,
          name,
          id,
          '--yes',
          '--protect=false',
          '--generate-code=false',
        ]);
        return '';
      }
      const file = join(project.dir, '..', `${name}-${imports.file}`);
      await project.run(['import', type, name, id, '--yes', '--protect=false', '--out', file]);
      return imports.embed(readFileSync(file, 'utf8'));
    };
    const printed =
      (await adopt('tokenplane:index:Entity', 'imported', entity.id)) +
      (await adopt('tokenplane:index:ApiToken', 'legacy', token.id));
    if (imports.printed) expect(printed).toContain('expiresAt: never');
    const imported = imports.printed
      ? printed
      : imports.declare({ entityId: entity.id, tokenId: token.id });
    project.write(program.files({ ciPublishable: true, imported }));
    await project.run(['preview', '--expect-no-changes']);
    await project.run(['up', '--yes']);
    // Adopted, not copied: the same token, its value untouched.
    expect((await client.getToken(token.id)).hint).toBe(token.hint);
    expect((await client.introspect(token.value)).active).toBe(true);
  });

  it('destroy deletes everything the stack holds, the imported objects too', async () => {
    await project.run(['destroy', '--yes']);
    const { entities, tokens } = await platformSnapshot(fixture().client);
    expect(entities).toEqual([]);
    expect(tokens).toEqual([]);
  });
}
