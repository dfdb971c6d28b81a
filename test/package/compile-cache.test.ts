/**
 * The image fills Node's compile cache at build time (deploy/compile-cache.js,
 * deploy/Dockerfile) so that a container never loads the type stripper: every
 * TypeScript module `tokenplane operator` and `tokenplane serve` load must come
 * from the cache, and a start-up must have nothing to write there but the
 * entry script's own code (the Deployment's root filesystem is read-only; a
 * write that fails is skipped).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { repoRoot } from '../engines/engines.ts';

const cache = mkdtempSync(join(tmpdir(), 'tokenplane-compile-cache-'));
afterAll(() => rmSync(cache, { recursive: true, force: true }));

/** The compile cache's own account of a start-up: one line per module looked up. */
function startUp(args: string[]): string {
  const run = spawnSync(process.execPath, [join(repoRoot, 'bin/tokenplane.js'), ...args], {
    env: {
      PATH: process.env.PATH,
      NODE_COMPILE_CACHE: cache,
      NODE_DEBUG_NATIVE: 'COMPILE_CACHE',
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return `${run.stdout}${run.stderr}`;
}

it('compile-cache.js fills the cache; the commands then strip no type and write nothing at start-up', () => {
  execFileSync(process.execPath, [join(repoRoot, 'deploy/compile-cache.js')], {
    env: { PATH: process.env.PATH, NODE_COMPILE_CACHE: cache },
  });
  for (const args of [['operator'], ['serve', '--help']]) {
    const log = startUp(args);
    const typescript = log.split('\n').filter((l) => l.includes('for StrippedTypeScript'));
    expect(typescript.length, args.join(' ')).toBeGreaterThan(20);
    expect(typescript.filter((l) => l.includes('reading cache') && !l.includes('success'))).toEqual(
      [],
    );
    expect(log).not.toContain('no transpile cache');
    // (bin/tokenplane.js itself is JavaScript, and is not imported without running it.)
    const writes = log.split('\n').filter((l) => /\b(saving|writing)\b/.test(l));
    expect(writes.filter((l) => !l.includes('bin/tokenplane.js'))).toEqual([]);
  }
});

it('compile-cache.js says what it needs without NODE_COMPILE_CACHE', () => {
  const run = spawnSync(process.execPath, [join(repoRoot, 'deploy/compile-cache.js')], {
    env: { PATH: process.env.PATH },
    encoding: 'utf8',
  });
  expect(run.status).toBe(2);
  expect(run.stderr).toContain('set NODE_COMPILE_CACHE');
});
