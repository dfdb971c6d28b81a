// The README's Pulumi example, run the way a person runs it: its shell lines,
// taken from README.md, each through bash in the repository root — PATH set by
// the README's own line (so Node 24 and the pulumi CLI with its Node.js
// language host come from where the README says), `pulumi login --local`,
// `stack init`, `config set`, a plain `pulumi up` of the root Pulumi.yaml,
// `stack output --show-secrets`, `pulumi destroy` — against a platform started
// with `npm start`'s command. The token printed must work.
//
// Only what a test must change is changed, and each change is checked to apply:
// the platform's port and data directory, a unique stack name, the local
// backend's directory (`--local` means the user's home, taken from the passwd
// entry, not $HOME), a private PULUMI_HOME, no confirmation prompts.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TokenplaneClient } from '../../core/client/index.ts';
import { repoRoot } from '../engines/engines.ts';
import { freePort } from '../harness/ports.ts';

const run = promisify(execFile);

/** The sh block after "**The example.**" in README.md, one command per line. */
function readmeLines(): string[] {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('**The example.**'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README.md: no sh block after "**The example.**"');
  return block
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
}

function substitute(line: string, from: string, to: string): string {
  return line.split(from).join(to);
}

let home = '';
let dataDir = '';
let platform: ChildProcess | undefined;
let port = 0;
const stack = `readme-${process.pid}`;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'tokenplane-readme-home-'));
  dataDir = mkdtempSync(join(tmpdir(), 'tokenplane-readme-data-'));
  port = await freePort();
  // `npm start`, with the test's port and data directory.
  platform = spawn('npm', ['start', '--', '--port', String(port), '--data-dir', dataDir], {
    cwd: repoRoot,
    stdio: 'ignore',
    detached: true,
  });
  for (let i = 0; ; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (i > 300) throw new Error('the platform started by `npm start` did not answer /healthz');
    await sleep(200);
  }
}, 120_000);

afterAll(async () => {
  if (platform?.pid) process.kill(-platform.pid, 'SIGTERM');
  rmSync(join(repoRoot, `Pulumi.${stack}.yaml`), { force: true });
  rmSync(home, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

it('runs the README example with a shell `pulumi up` and prints a working token', async () => {
  const lines = readmeLines();
  expect(lines).toContain('npm start &');
  const edits: [string, string][] = [
    ['http://127.0.0.1:8080', `http://127.0.0.1:${port}`],
    ['.data/admin-key', join(dataDir, 'admin-key')],
    ['stack init dev', `stack init ${stack}`],
    ['pulumi login --local', `pulumi login file://${home}`],
  ];
  for (const [from] of edits)
    expect(
      lines.some((l) => l.includes(from)),
      from,
    ).toBe(true);
  const script = lines
    .filter((l) => l !== 'npm start &') // started above, on the test's port
    .map((l) => edits.reduce((acc, [from, to]) => substitute(acc, from, to), l));

  // A shell as a user has it: no node_modules/.bin on PATH (the system's node may be older).
  const userPath = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((p) => !p.includes('node_modules'))
    .join(delimiter);
  // Nor Pulumi settings of the test run's own (a backend URL would override the login).
  const userEnv = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('PULUMI_')),
  );
  const env = {
    ...userEnv,
    PATH: userPath,
    PULUMI_HOME: join(home, '.pulumi'),
    PULUMI_SKIP_CONFIRMATIONS: 'true',
    PULUMI_SKIP_UPDATE_CHECK: 'true',
  };
  const exports = script.filter((l) => l.startsWith('export '));
  const outputs: string[] = [];
  for (const line of script.filter((l) => !l.startsWith('export '))) {
    const { stdout } = await run('bash', ['-c', [...exports, line].join('\n')], {
      cwd: repoRoot,
      env,
      maxBuffer: 64 << 20,
    }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(
        `\`${line}\` failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`,
      );
    });
    outputs.push(stdout);
    if (line.startsWith('pulumi stack output')) {
      const token = stdout.trim();
      const adminKey = readFileSync(join(dataDir, 'admin-key'), 'utf8').trim();
      const client = new TokenplaneClient({
        endpoint: `http://127.0.0.1:${port}`,
        apiKey: adminKey,
      });
      try {
        expect(await client.introspect(token)).toMatchObject({ active: true });
      } finally {
        await client.close();
      }
    }
  }
  expect(outputs.find((o) => o.includes('Resources:'))).toMatch(/\+ 8 created/);
  expect(outputs.at(-1)).toMatch(/8 deleted/);
}, 600_000);
