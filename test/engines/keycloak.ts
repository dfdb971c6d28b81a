// The `keycloak` engine: Keycloak's server distribution (versions.json `keycloak`),
// fetched by Maven from Maven Central into its local repository and unpacked into
// the engines cache. test/harness/keycloak.ts runs its bin/kc.sh.
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { keycloakSpec } from './engines.ts';
import { formatElapsed, type Progress } from './progress.ts';

const run = promisify(execFile);

/** Where `mvn dependency:get` leaves the tar.gz: Maven's default local repository. */
function localArchive(maven: string, version: string): string {
  const [group, artifact] = maven.split(':') as [string, string];
  return join(
    homedir(),
    '.m2',
    'repository',
    ...group.split('.'),
    artifact,
    version,
    `${artifact}-${version}.tar.gz`,
  );
}

/** Unpacks the distribution whose start script is `kcsh` (<dir>/bin/kc.sh), from scratch. */
export async function buildKeycloak(kcsh: string, progress: Progress): Promise<void> {
  const { maven, version } = keycloakSpec();
  const dir = dirname(dirname(kcsh));
  const started = Date.now();
  progress.phase(`mvn dependency:get ${maven}:${version}:tar.gz`);
  await run(
    'mvn',
    ['-q', '-B', 'dependency:get', `-Dartifact=${maven}:${version}:tar.gz`, '-Dtransitive=false'],
    { maxBuffer: 16 * 1024 * 1024 },
  ).catch((err: Error & { stdout?: string }) => {
    throw new Error(`mvn could not fetch ${maven}:${version}: ${err.message}\n${err.stdout ?? ''}`);
  });
  progress.phase('unpacking');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await run('tar', ['-xzf', localArchive(maven, version), '-C', dir, '--strip-components=1']);
  // Written last: the distribution counts as installed only once it is whole.
  writeFileSync(join(dir, 'installed.json'), `${JSON.stringify({ maven, version })}\n`);
  progress.log(`keycloak: ${version} in ${formatElapsed(Date.now() - started)} -> ${dir}`);
}
