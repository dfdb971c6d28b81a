// Makes sure the requested engines are built and current, building what is
// missing — used by `npm run engines`, by the vitest global setups (so that
// `npm test` alone works on a fresh machine) and by anything else that starts
// an engine. With everything cached it only checks files (a few ms).
//
// One build at a time per cache: a lock directory (<cache>/.lock, holding the
// owner's pid) makes a second process wait instead of compiling the same
// thing on the same cores.

import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  besideOwner,
  cacheRoot,
  type EngineName,
  engineNames,
  expectedPaths,
  isCurrent,
  isExecutable,
  isGoEngine,
  readVersions,
  repoRoot,
} from './engines.ts';
import { buildGoEngine, checkGo } from './go-build.ts';
import { buildKeycloak } from './keycloak.ts';
import { createProgress, formatElapsed, type Progress } from './progress.ts';
import { buildPythonVenv } from './python.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs `fn` holding the cache's build lock; waits while another live process holds it. */
async function withBuildLock<T>(progress: Progress, fn: () => Promise<T>): Promise<T> {
  const lock = join(cacheRoot(), '.lock');
  mkdirSync(cacheRoot(), { recursive: true });
  let waiting = false;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(join(lock, 'pid'), 'utf8').trim() || '0');
      if (owner && alive(owner)) {
        if (!waiting) progress.log(`waiting for another engine build (pid ${owner}) to finish`);
        waiting = true;
        await sleep(2000);
      } else {
        rmSync(lock, { recursive: true, force: true }); // left behind by a killed build
      }
    }
  }
  const release = (): void => rmSync(lock, { recursive: true, force: true });
  process.once('exit', release);
  try {
    return await fn();
  } finally {
    process.removeListener('exit', release);
    release();
  }
}

/** The dynamic-provider plugin is a shell script shipped by @pulumi/pulumi; the CLI wants it beside itself. */
function installDynamicProviderShim(out: string, progress: Progress): void {
  const require = createRequire(join(repoRoot, 'package.json'));
  const src = join(
    dirname(require.resolve('@pulumi/pulumi/package.json')),
    'pulumi-resource-pulumi-nodejs',
  );
  const current = isExecutable(out) ? readFileSync(out, 'utf8') : '';
  if (current === readFileSync(src, 'utf8')) return;
  mkdirSync(dirname(out), { recursive: true });
  copyFileSync(src, out);
  chmodSync(out, 0o755);
  progress.log(`pulumi-resource-pulumi-nodejs: copied from ${src}`);
}

/**
 * Builds whichever of `names` (default: all) is missing or built from another
 * pin, one at a time, and returns every requested path. Throws on the first
 * engine that fails to build (with the tail of Go's output), unless versions.json
 * marks it `optional`.
 */
export async function ensureEngines<N extends EngineName>(
  names: readonly N[] = engineNames as unknown as N[],
  progress: Progress = createProgress(),
): Promise<Record<N, string>> {
  const versions = readVersions();
  const paths = expectedPaths(versions);
  const pick = () => Object.fromEntries(names.map((n) => [n, paths[n]])) as Record<N, string>;
  // A file installed beside a Go engine (the Python host's exec script) is built with it.
  const wanted = names.map((n): EngineName => besideOwner(n, versions) ?? n);
  const stale = (): EngineName[] => wanted.filter((n) => !isCurrent(n, paths[n], versions));
  try {
    if (stale().some((n) => isGoEngine(n) || n === 'pulumi-python' || n === 'keycloak'))
      await withBuildLock(progress, async () => {
        // Built by the lock's previous owner meanwhile?
        const todo = stale();
        const goTodo = engineNames.filter((n) => todo.includes(n)).filter(isGoEngine);
        if (goTodo.length > 0) {
          progress.log(`building ${goTodo.join(', ')} into ${cacheRoot()} with ${checkGo()}`);
          progress.log(
            'a first build downloads Go modules and compiles for minutes; later runs reuse it',
          );
        }
        const started = Date.now();
        for (const [i, name] of goTodo.entries()) {
          progress.engine(name, i + 1, goTodo.length);
          await buildGoEngine(name, versions, paths[name], progress).catch((err: Error) => {
            if (!versions[name].optional) throw err;
            progress.log(`${name}: NOT BUILT (${versions[name].optional})\n${err.message}`);
          });
        }
        if (goTodo.length > 0)
          progress.log(`engines built in ${formatElapsed(Date.now() - started)}`);
        if (todo.includes('pulumi-python')) {
          progress.engine('pulumi-python', 1, 1);
          await buildPythonVenv(paths['pulumi-python'], progress);
        }
        if (todo.includes('keycloak')) {
          progress.engine('keycloak', 1, 1);
          await buildKeycloak(paths.keycloak, progress);
        }
      });
    if (names.includes('pulumi-resource-pulumi-nodejs' as N))
      installDynamicProviderShim(paths['pulumi-resource-pulumi-nodejs'], progress);
  } finally {
    progress.close();
  }
  return pick();
}
