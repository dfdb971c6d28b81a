// `npm run demo` as a person runs it, on a terminal: it brings up the platform,
// a control plane with the operator, the Kubernetes and Pulumi examples, prints
// a summary (no secret in it), and Ctrl-C leaves no process and no file behind.
import { existsSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { descendants } from '../../demo/processes.ts';
import { repoRoot } from '../engines/engines.ts';
import { type RunningCli, runCommand } from '../harness/cli.ts';

let demo: RunningCli | undefined;

afterAll(async () => {
  if (demo && demo.child.exitCode === null) {
    demo.interrupt();
    await demo.done;
  }
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

it('npm run demo: everything up, a summary, and Ctrl-C leaves nothing running', async () => {
  demo = runCommand(['npm', 'run', 'demo'], { tty: true, cwd: repoRoot });
  await demo.waitFor(/Press Ctrl-C to stop everything/, 600_000);
  const out = demo.output();
  const [, dir] = /tokenplane demo in (\S+)/.exec(out) ?? [];

  // The platform holds both examples' entities, with tokens shown by hint only.
  for (const name of [
    'ACME Reseller',
    'Initech',
    'Globex',
    'Northwind Resale',
    'Contoso',
    'Fabrikam',
  ])
    expect(out).toContain(name);
  expect(out).toMatch(/Tiers\n\s+lite\s+rank 0, 1 token/);
  expect(out).toMatch(/· ci tpt_…\w{4} \(active/);
  expect(out).toMatch(/acme\/initech-ci \(endpoint, entityId, token, tokenId\b/);
  expect(out).toMatch(/acme\/globex-token/);
  expect(out).toMatch(/Where to look next[\s\S]*operator\.log/);
  expect(out).not.toMatch(/tpt_[0-9A-Za-z]{20,}/);

  // What runs now: npm, the demo, platform, operator, etcd, kube-apiserver (and the harness's watchdog).
  const running = descendants(demo.child.pid as number);
  expect(running.length).toBeGreaterThanOrEqual(6);

  demo.interrupt();
  // `npm run` answers Ctrl-C with 130 whatever its script does.
  expect([0, 130]).toContain(await demo.done);
  const deadline = Date.now() + 20_000;
  while (running.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  expect(running.filter(alive)).toEqual([]);
  expect(dir && existsSync(dir)).toBe(false);
}, 900_000);
