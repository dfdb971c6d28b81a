/**
 * The npm package as users get it (README "Pulumi provider", "Quick start"): packed and installed into a
 * fresh project by test/harness/package.ts, then run by Node 24 with type
 * stripping switched off — so the installed copy can only work from its
 * JavaScript, as Node refuses to strip .ts under node_modules anyway.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../engines/engines.ts';
import { runCommand } from '../harness/cli.ts';
import {
  cleanEnv,
  exec,
  type InstalledPackage,
  installPackedTokenplane,
  NODE,
} from '../harness/package.ts';

let pkg: InstalledPackage | undefined;
let dir: string;
let app: string;

beforeAll(async () => {
  pkg = await installPackedTokenplane();
  ({ dir, app } = pkg);
}, 180_000);

afterAll(() => {
  pkg?.cleanup();
});

/** Runs Node 24 in the fresh project with type stripping off. */
function node(args: string[]) {
  return exec(NODE, ['--no-experimental-strip-types', ...args], { cwd: app, env: cleanEnv() });
}

describe('the installed tokenplane package', () => {
  it('ships JavaScript and declarations, no TypeScript sources', () => {
    const files = readdirSync(join(app, 'node_modules/tokenplane'), { recursive: true }).map(
      String,
    );
    expect(files).toContain(join('dist', 'provider', 'index.js'));
    expect(files).toContain(join('dist', 'provider', 'index.d.ts'));
    expect(files).toContain(join('crds', 'entities.tokenplane.dev.yaml'));
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => /^(test|bench|examples)\b/.test(f))).toEqual([]);
  });

  it("import('tokenplane') exposes Entity and ApiToken from dist/", async () => {
    const { stdout } = await node([
      '--input-type=module',
      '-e',
      `const m = await import('tokenplane');
       const c = await import('tokenplane/client');
       const d = await import('tokenplane/domain');
       console.log(JSON.stringify({
         resolved: import.meta.resolve('tokenplane'),
         entity: typeof m.Entity, apiToken: typeof m.ApiToken,
         client: Object.keys(c).length, domain: Object.keys(d).length,
       }));`,
    ]);
    const out = JSON.parse(stdout);
    expect(out.resolved).toMatch(/\/node_modules\/tokenplane\/dist\/provider\/index\.js$/);
    expect(out).toMatchObject({ entity: 'function', apiToken: 'function' });
    expect(out.client).toBeGreaterThan(0);
    expect(out.domain).toBeGreaterThan(0);
  });

  it('the tokenplane bin lists serve and operator, and prints the version', async () => {
    const bin = join(app, 'node_modules/.bin/tokenplane');
    const help = await exec(bin, ['--help'], {
      cwd: app,
      env: cleanEnv({ NODE_OPTIONS: '--no-experimental-strip-types' }),
    });
    expect(help.stdout).toMatch(/^\s+serve\s/m);
    expect(help.stdout).toMatch(/^\s+operator\s/m);
    const version = await node([bin, '--version']);
    expect(version.stdout.trim()).toBe(
      JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version,
    );
  });

  it('tokenplane serve answers /healthz and stops on SIGTERM', async () => {
    const data = join(dir, 'data');
    const serve = runCommand(
      [
        NODE,
        '--no-experimental-strip-types',
        join(app, 'node_modules/.bin/tokenplane'),
        'serve',
        '--port',
        '0',
        '--data-dir',
        data,
      ],
      { tty: false, cwd: app, env: cleanEnv(), inherit: false },
    );
    try {
      const [, url] = await serve.waitFor(/listening on (http:\/\/[^"\s]+)/);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      // The console's assets ship in dist/ too.
      const signIn = await fetch(`${url}/console/sign-in`);
      expect(signIn.status).toBe(200);
      const assets = [
        ...(await signIn.text()).matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g),
      ];
      expect(assets.length).toBe(3);
      for (const [, path] of assets) expect((await fetch(url + path)).status, path).toBe(200);
      serve.child.kill('SIGTERM');
      expect(await serve.done).toBe(0);
    } finally {
      serve.child.kill('SIGKILL');
    }
  });
});
