/**
 * An engine run as a process of its own for a test (Prometheus, Jaeger,
 * Keycloak): its output in a log file of a temporary directory, ready once
 * `ready` says so (else it is killed and the error carries the log's tail),
 * stopped with SIGTERM then SIGKILL after `graceMs`, and killed and cleaned up
 * at process end whatever happens.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atProcessEnd } from './cleanup.ts';
import { waitFor } from './wait.ts';

export type EngineProcess = {
  child: ChildProcess;
  log(): string;
  stop(): Promise<void>;
};

export type EngineProcessOptions = {
  /** Names the temporary directory and the log file. */
  name: string;
  /** The command and its arguments, given the temporary directory (for its config files). */
  command(
    dir: string,
  ): Promise<{ file: string; args: string[] }> | { file: string; args: string[] };
  env?: NodeJS.ProcessEnv;
  /** Run in a process group of its own, ended whole (a script that execs its engine). */
  group?: boolean;
  /** What is awaited, and the probe that says it is there. */
  readyWhat: string;
  ready(): Promise<boolean>;
  readyTimeoutMs?: number;
  readyIntervalMs?: number;
  /** How long SIGTERM is given before SIGKILL. */
  graceMs?: number;
  /** Further files to remove at stop. */
  cleanup?(): void;
};

export async function startEngineProcess(o: EngineProcessOptions): Promise<EngineProcess> {
  const dir = mkdtempSync(join(tmpdir(), `tokenplane-${o.name}-`));
  const { file, args } = await o.command(dir);
  const logFile = join(dir, `${o.name}.log`);
  const logFd = openSync(logFile, 'a');
  const child = spawn(file, args, {
    stdio: ['ignore', logFd, logFd],
    detached: o.group ?? false,
    env: o.env ?? process.env,
  });
  const signal = (name: NodeJS.Signals) => {
    try {
      if (o.group && child.pid) process.kill(-child.pid, name);
      else child.kill(name);
    } catch {
      // already gone
    }
  };
  const cleanup = () => {
    o.cleanup?.();
    rmSync(dir, { recursive: true, force: true });
  };
  const unregister = atProcessEnd(() => {
    signal('SIGKILL');
    cleanup();
  });
  const log = () => readFileSync(logFile, 'utf8');
  try {
    await waitFor(
      o.readyWhat,
      async () => {
        if (child.exitCode !== null) throw new Error(`${o.name} exited ${child.exitCode}`);
        return o.ready();
      },
      o.readyTimeoutMs ?? 60_000,
      o.readyIntervalMs ?? 100,
    );
  } catch (err) {
    signal('SIGKILL');
    const tail = log().slice(-3000);
    unregister();
    cleanup();
    throw new Error(`${(err as Error).message}\n${tail}`);
  }
  return {
    child,
    log,
    async stop() {
      unregister();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      if (child.exitCode === null) signal('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, o.graceMs ?? 5000))]);
      signal('SIGKILL');
      cleanup();
    },
  };
}
