// The README's TokenSecret example, run the way a person runs it: its shell
// block, taken from README.md, through one bash — PATH from the README's own
// line (Node 24, the pulumi CLI with its Node.js language host and the
// Kubernetes provider plugin), `pulumi login --local`, a plain `pulumi up` in
// examples/pulumi-kubernetes/token-secrets, `pulumi destroy` — against a real
// platform and control plane. Only what a test must change is changed, and each
// change is checked to apply: the platform's address and admin key file, the
// kubeconfig, a unique stack name, a private HOME (the engines' cache is the
// suite's); the platform is the
// fixture's rather than `npm start &`, and the Secret is read with the client
// rather than kubectl.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cacheRoot, repoRoot } from '../../engines/engines.ts';
import { type KubeFixture, kubeFixture } from './fixtures.ts';

const run = promisify(execFile);
const SECTION = '### Tokens into Kubernetes Secrets with Pulumi';
const EXAMPLE = join(repoRoot, 'examples/pulumi-kubernetes/token-secrets');

/** The sh block of the section, one command per line, comments dropped. */
function readmeLines(): string[] {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(SECTION));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error(`README.md: no sh block after "${SECTION}"`);
  return block
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
}

let f: KubeFixture;
let home = '';
const stack = `readme-${process.pid}`;

beforeAll(async () => {
  f = await kubeFixture();
  home = mkdtempSync(join(tmpdir(), 'tokenplane-readme-k8s-'));
}, 180_000);

afterAll(async () => {
  rmSync(join(EXAMPLE, `Pulumi.${stack}.yaml`), { force: true });
  rmSync(home, { recursive: true, force: true });
  await f?.close();
});

it('runs the TokenSecret example with a shell `pulumi up` and `pulumi destroy`', async () => {
  const lines = readmeLines();
  const keyFile = join(home, 'admin-key');
  writeFileSync(keyFile, f.server.adminKey, { mode: 0o600 });
  const edits: [string, string][] = [
    ['http://127.0.0.1:8080', f.server.url],
    ['../../../.data/admin-key', keyFile],
    ['~/.kube/config', f.cp.kubeconfigPath],
    ['stack init dev', `stack init ${stack}`],
  ];
  for (const [from] of edits)
    expect(
      lines.some((l) => l.includes(from)),
      from,
    ).toBe(true);
  const script = lines.map((l) => edits.reduce((acc, [from, to]) => acc.split(from).join(to), l));
  expect(script).toContain('npm start &');
  const kubectl = script.findIndex((l) => l.startsWith('kubectl '));
  const up = script.indexOf('pulumi up');
  expect(kubectl).toBe(up + 1);

  // A shell as a user has it: no node_modules/.bin on PATH (the system's node may be older).
  const env = {
    ...process.env,
    PATH: (process.env.PATH ?? '')
      .split(delimiter)
      .filter((p) => !p.includes('node_modules'))
      .join(delimiter),
    HOME: home,
    // The engines the suite already built: a private HOME would rebuild them
    // from nothing, for many minutes.
    TOKENPLANE_ENGINES_CACHE: cacheRoot(),
    PULUMI_HOME: join(home, '.pulumi'),
    PULUMI_BACKEND_URL: '',
    PULUMI_SKIP_CONFIRMATIONS: 'true',
    PULUMI_SKIP_UPDATE_CHECK: 'true',
  };
  const bash = async (commands: string[]) => {
    const text = ['set -euo pipefail', ...commands].join('\n');
    return run('bash', ['-c', text], { cwd: repoRoot, env, maxBuffer: 64 << 20 }).catch(
      (err: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
      },
    );
  };
  const setup = script.slice(0, script.indexOf('npm start &'));
  const before = script.slice(script.indexOf('npm start &') + 1, kubectl);
  const { stdout: upOutput } = await bash([...setup, ...before]);
  expect(upOutput).toMatch(/Resources:\s+\+ \d+ created/);

  const secret = await f.core.readNamespacedSecret({ name: 'shop-web', namespace: 'shop' });
  const token = Buffer.from(secret.data?.token ?? '', 'base64').toString();
  expect(await f.client.introspect(token)).toMatchObject({ active: true });

  const cd = before.filter((l) => l.startsWith('cd '));
  const { stdout: destroyOutput } = await bash([...setup, ...cd, ...script.slice(kubectl + 1)]);
  expect(destroyOutput).toMatch(/\d+ deleted/);
  await expect(
    f.core.readNamespacedSecret({ name: 'shop-web', namespace: 'shop' }),
  ).rejects.toMatchObject({ code: 404 });
}, 900_000);
