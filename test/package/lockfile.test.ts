/**
 * `npm ci` works with the committed lock file on every machine (README "Quick start"). npm
 * refuses a lock that lacks another platform's optional package ("Missing:
 * @biomejs/cli-android-arm64 … from lock file"): a lock written where those
 * were skipped is only good for that platform. So every optional dependency of
 * every locked package must have its own entry, whatever its `os`/`cpu`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot } from '../engines/engines.ts';

interface LockedPackage {
  optionalDependencies?: Record<string, string>;
}

/** Where npm would find `dep` for the package installed at `at`: its own node_modules, then each parent's. */
function resolves(packages: Record<string, LockedPackage>, at: string, dep: string): boolean {
  let base = at;
  for (;;) {
    if (`${base ? `${base}/` : ''}node_modules/${dep}` in packages) return true;
    if (!base) return false;
    const up = base.lastIndexOf('/node_modules/');
    base = up < 0 ? '' : base.slice(0, up);
  }
}

it('records the optional packages of every platform', () => {
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockedPackage>;
  };
  const missing: string[] = [];
  for (const [at, pkg] of Object.entries(lock.packages)) {
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) {
      if (!resolves(lock.packages, at, dep)) missing.push(`${dep} (optional dependency of ${at})`);
    }
  }
  // Fix: `npm install` with npm ≥ 11 rewrites the lock with every platform's entries.
  expect(missing).toEqual([]);
});
