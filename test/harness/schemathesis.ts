/**
 * schemathesis (PyPI) for the suites: installed on first use into a cached
 * virtual environment, ~/.cache/tokenplane/schemathesis-<version>, with the
 * machine's python3 — so a fresh machine needs nothing but Python 3 with venv.
 * A marker file is written last: a half-finished install is redone, not used.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const SCHEMATHESIS_VERSION = '4.32.5';

const DIR = join(homedir(), '.cache', 'tokenplane', `schemathesis-${SCHEMATHESIS_VERSION}`);
const MARKER = join(DIR, '.installed');

/** The schemathesis executable, installing it first when needed. */
export async function ensureSchemathesis(): Promise<string> {
  const bin = join(DIR, 'bin', 'schemathesis');
  if (existsSync(MARKER) && existsSync(bin)) return bin;
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(join(DIR, '..'), { recursive: true });
  try {
    await run('python3', ['-m', 'venv', DIR]);
    await run(join(DIR, 'bin', 'pip'), [
      'install',
      '--quiet',
      '--disable-pip-version-check',
      `schemathesis==${SCHEMATHESIS_VERSION}`,
    ]);
  } catch (error) {
    throw new Error(
      `could not install schemathesis ${SCHEMATHESIS_VERSION} into ${DIR} (needs python3 with ` +
        `the venv module, e.g. Debian's python3-venv, and access to PyPI): ${(error as Error).message}`,
    );
  }
  writeFileSync(MARKER, `${SCHEMATHESIS_VERSION}\n`);
  return bin;
}

export type SchemathesisRun = { code: number | null; output: string };

/** `schemathesis --config-file <config> run <args>`; never rejects, the caller judges the code. */
export async function schemathesis(config: string, args: string[]): Promise<SchemathesisRun> {
  const bin = await ensureSchemathesis();
  try {
    const { stdout, stderr } = await run(bin, ['--config-file', config, 'run', ...args], {
      maxBuffer: 64 * 1024 * 1024,
      // its cache directory (.schemathesis/) lands in the working directory: not the checkout
      cwd: tmpdir(),
      env: { ...process.env, NO_COLOR: '1', SCHEMATHESIS_TELEMETRY: 'false' },
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? null, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}
