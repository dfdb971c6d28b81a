/**
 * The npm package as users get it (SPEC §4, §5): `npm pack` (whose `prepack`
 * builds dist/) of a copy of this repository, installed into a fresh project,
 * then run by Node 24 with type stripping switched off — so the installed copy
 * can only work from its JavaScript, as Node refuses to strip .ts under
 * node_modules anyway.
 *
 * Offline: the fresh project gets a package-lock.json made of the production
 * entries of the repository's lock, so `npm install --offline` takes exactly the
 * versions `npm install` put in the npm cache for this checkout.
 */
import { execFile, spawn } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atProcessEnd } from '../harness/cleanup.ts';

const REPO = join(import.meta.dirname, '../..');
const NODE = join(REPO, 'node_modules/node/bin/node');

// Build inputs and shipped files; the rest of the checkout (tests, benchmarks,
// examples, data) stays out of the copy.
const COPIED = [
  'package.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'README.md',
  'bin',
  'platform',
  'operator',
  'provider',
  'crds',
  'deploy',
];

/** Environment of a shell with Node 24 first on PATH: no npm script variables, no NODE_OPTIONS. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_/i.test(k) && k !== 'NODE_OPTIONS' && k !== 'INIT_CWD') env[k] = v;
  }
  return {
    ...env,
    PATH: `${dirname(NODE)}:${process.env.PATH ?? ''}`,
    TOKENPLANE_DATABASE_URL: '',
    TOKENPLANE_ADMIN_KEY: '',
    ...extra,
  };
}

const exec = promisify(execFile);

let dir: string;
let app: string;
let unregister: () => void = () => {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tokenplane-package-'));
  unregister = atProcessEnd(() => rmSync(dir, { recursive: true, force: true }));

  // 1. npm pack of a copy (the build writes the copy's dist/, never the checkout's).
  const src = join(dir, 'src');
  for (const entry of COPIED) cpSync(join(REPO, entry), join(src, entry), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(src, 'node_modules'), 'dir');
  await exec('npm', ['pack', '--pack-destination', dir], { cwd: src, env: cleanEnv() });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error('npm pack wrote no tarball');

  // 2. A fresh project that depends on the tarball, locked to the checkout's versions.
  app = join(dir, 'app');
  mkdirSync(app);
  const spec = `file:${join(dir, tarball)}`;
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  const repoLock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8'));
  const packages: Record<string, unknown> = {
    '': { name: 'app', dependencies: { tokenplane: spec } },
    'node_modules/tokenplane': {
      version: pkg.version,
      resolved: spec,
      license: pkg.license,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  };
  for (const [path, entry] of Object.entries(
    repoLock.packages as Record<string, { dev?: boolean }>,
  )) {
    if (path !== '' && !entry.dev) packages[path] = entry;
  }
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({
      name: 'app',
      private: true,
      type: 'module',
      dependencies: { tokenplane: spec },
    }),
  );
  writeFileSync(
    join(app, 'package-lock.json'),
    JSON.stringify({ name: 'app', lockfileVersion: 3, requires: true, packages }),
  );
  await exec('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], {
    cwd: app,
    env: cleanEnv(),
  });
}, 180_000);

afterAll(() => {
  unregister();
  if (dir) rmSync(dir, { recursive: true, force: true });
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
      JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version,
    );
  });

  it('tokenplane serve answers /healthz and stops on SIGTERM', async () => {
    const data = join(dir, 'data');
    const child = spawn(
      NODE,
      [
        '--no-experimental-strip-types',
        join(app, 'node_modules/.bin/tokenplane'),
        'serve',
        '--port',
        '0',
        '--data-dir',
        data,
      ],
      { cwd: app, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const m = /listening on (http:\/\/[^"\s]+)/.exec(out);
          if (m?.[1]) {
            clearInterval(timer);
            resolve(m[1]);
          }
        }, 50);
        exited.then(() => {
          clearInterval(timer);
          reject(new Error(`serve exited early: ${out} ${err}`));
        });
      });
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
