/**
 * The command line: `tokenplane --help` lists the commands; `tokenplane serve`
 * starts on the embedded default in a data dir and shuts down cleanly on SIGTERM.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVE_HEAP_FLAGS } from '../../platform/heap-flags.ts';
import { type RunningCli, runCli } from '../harness/cli.ts';

/** `tokenplane <args>` behind a pipe, without the database or admin key of this shell. */
const run = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, {
    tty: false,
    env: { TOKENPLANE_DATABASE_URL: '', TOKENPLANE_ADMIN_KEY: '', ...env },
  });

/** The URL `serve` logs once it listens. */
const listening = async (r: RunningCli) =>
  (await r.waitFor(/listening on (http:\/\/[^"\s]+)/))[1] as string;

/** The heap limit (MB) of a `serve` started with this NODE_OPTIONS, from its /metrics. */
async function serveHeapLimitMb(nodeOptions: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'tokenplane-cli-'));
  const r = run(['serve', '--port', '0', '--data-dir', dir], { NODE_OPTIONS: nodeOptions });
  try {
    const metrics = await (await fetch(`${await listening(r)}/metrics`)).text();
    return Number(/^tokenplane_heap_limit_bytes (\d+)$/m.exec(metrics)?.[1]) / 2 ** 20;
  } finally {
    r.child.kill('SIGTERM');
    await r.done;
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('tokenplane CLI', () => {
  it('--help lists serve and operator', async () => {
    const r = run(['--help']);
    expect(await r.done).toBe(0);
    expect(r.output()).toMatch(/serve/);
    expect(r.output()).toMatch(/operator/);
    const bad = run(['frobnicate']);
    expect(await bad.done).toBe(2);
    expect(bad.stderr()).toMatch(/unknown command/);
  });

  it('serve starts in a data dir, answers, and stops on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokenplane-cli-'));
    try {
      const r = run(['serve', '--port', '0', '--data-dir', dir]);
      const url = await listening(r);
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      r.child.kill('SIGTERM');
      expect(await r.done).toBe(0);
      expect(r.output()).toMatch(/shutting down/);
      expect(r.output()).toContain(join(dir, 'admin-key'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serve bounds its heap (issue 13.11), and keeps a size given in NODE_OPTIONS', async () => {
    // The limit is the old space plus a young generation of 3 semi-spaces;
    // V8's own default on this kind of machine is several GB.
    const size = (name: string) =>
      Number(SERVE_HEAP_FLAGS.find((f) => f.startsWith(`--${name}=`))?.split('=')[1]);
    const young = 3 * size('max-semi-space-size');
    const bounded = await serveHeapLimitMb('');
    expect(bounded).toBeGreaterThanOrEqual(size('max-old-space-size'));
    expect(bounded).toBeLessThanOrEqual(size('max-old-space-size') + young + 4);
    const chosen = await serveHeapLimitMb('--max-old-space-size=300');
    expect(chosen).toBeGreaterThanOrEqual(300);
    expect(chosen).toBeLessThanOrEqual(300 + young + 4);
  });

  it('an operational failure is one line and exit code 1', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const dir = mkdtempSync(join(tmpdir(), 'tokenplane-cli-'));
    try {
      const r = run(['serve', '--port', String(port), '--data-dir', dir]);
      expect(await r.done).toBe(1);
      expect(r.stderr()).toMatch(/^tokenplane: listen EADDRINUSE.*\n$/);
    } finally {
      blocker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serve refuses bad options with usage', async () => {
    const r = run(['serve', '--port', 'eighty']);
    expect(await r.done).toBe(2);
    const u = run(['serve', '--colour']);
    expect(await u.done).toBe(2);
    expect(u.stderr()).toMatch(/Usage: tokenplane serve/);
  });
});
