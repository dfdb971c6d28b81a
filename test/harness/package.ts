/**
 * The npm package as users get it (README "Pulumi provider", "Quick start"): `npm pack` (whose `prepack`
 * builds dist/) of a copy of this repository, installed into a fresh project.
 *
 *   const pkg = await installPackedTokenplane();
 *   // pkg.app/node_modules/tokenplane is the installed package
 *   pkg.cleanup();
 *
 * Offline: the fresh project gets a package-lock.json made of the production
 * entries of the repository's lock, so `npm install --offline` takes exactly the
 * versions `npm install` put in the npm cache for this checkout.
 */
import { execFile } from 'node:child_process';
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
import { repoRoot } from '../engines/engines.ts';
import { atProcessEnd } from './cleanup.ts';

/** Node 24 of the `node` devDependency. */
export const NODE = join(repoRoot, 'node_modules/node/bin/node');

// Build inputs and shipped files; the rest of the checkout (tests, benchmarks,
// examples, data) stays out of the copy.
const COPIED = [
  'package.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'README.md',
  'bin',
  'core',
  'platform',
  'operator',
  'provider',
  'crds',
  'deploy',
];

/** Environment of a shell with Node 24 first on PATH: no npm script variables, no NODE_OPTIONS. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
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

export const exec = promisify(execFile);

export type InstalledPackage = {
  /** Temporary directory holding the tarball, the project and anything a test adds. */
  readonly dir: string;
  /** The fresh project (`type: module`) whose only dependency is the tarball. */
  readonly app: string;
  /** Removes `dir` (also done at process end when never called). */
  cleanup(): void;
};

/** Packs a copy of the repository and installs the tarball into a fresh project, offline. */
export async function installPackedTokenplane(): Promise<InstalledPackage> {
  const dir = mkdtempSync(join(tmpdir(), 'tokenplane-package-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  const unregister = atProcessEnd(remove);
  const cleanup = () => {
    unregister();
    remove();
  };
  try {
    // 1. npm pack of a copy (the build writes the copy's dist/, never the checkout's).
    const src = join(dir, 'src');
    for (const entry of COPIED) {
      cpSync(join(repoRoot, entry), join(src, entry), { recursive: true });
    }
    symlinkSync(join(repoRoot, 'node_modules'), join(src, 'node_modules'), 'dir');
    await exec('npm', ['pack', '--pack-destination', dir], { cwd: src, env: cleanEnv() });
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error('npm pack wrote no tarball');

    // 2. A fresh project that depends on the tarball, locked to the checkout's versions.
    const app = join(dir, 'app');
    mkdirSync(app);
    const spec = `file:${join(dir, tarball)}`;
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    const repoLock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8'));
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
    return { dir, app, cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}
