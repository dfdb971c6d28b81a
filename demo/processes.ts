// The demo's child processes: `tokenplane serve` and `tokenplane operator`
// logging to files, stopped gracefully; and the sweep that makes sure nothing
// the demo started outlives it.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';

const BIN = new URL('../bin/tokenplane.js', import.meta.url).pathname;

export type Child = { child: ChildProcess; stop(): Promise<void> };

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once('exit', () => resolve()));

/** Runs `tokenplane <args>` with its output appended to `logFile`. */
export function tokenplane(args: string[], env: Record<string, string>, logFile: string): Child {
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, TOKENPLANE_LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  return {
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited(child);
      clearTimeout(timer);
    },
  };
}

/** Every live process below `pid` (from /proc), children first. */
export function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // Field 4 of /proc/PID/stat, after the parenthesised command (which may hold spaces).
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(name), Number(fields[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of parentOf) {
      if (ppid !== parent) continue;
      walk(child);
      found.push(child);
    }
  };
  walk(pid);
  return found;
}

/** Kills whatever is still running below this process (a pulumi plugin interrupted mid-run, …). */
export function killDescendants(): void {
  for (const pid of descendants(process.pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
