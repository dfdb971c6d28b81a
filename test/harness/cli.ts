// `bin/tokenplane.js` as a person runs it: on a terminal (a pseudo-terminal made
// by util-linux `script`) or with stdout a pipe. Ctrl-C on the terminal is the
// ^C byte, which the pseudo-terminal turns into SIGINT for the command.
import { type ChildProcess, spawn } from 'node:child_process';
import { atProcessEnd } from './cleanup.ts';

const BIN = new URL('../../bin/tokenplane.js', import.meta.url).pathname;

export type RunningCli = {
  child: ChildProcess;
  /** Everything printed so far (stdout and stderr), colours, CRs and the terminal's echo of ^C removed. */
  output(): string;
  lines(): string[];
  /** The output as printed, colours and all. */
  raw(): string;
  /** What the command wrote to stderr (behind a pipe; on a terminal it is in `output`). */
  stderr(): string;
  /** Resolves with the first match of `pattern` in the output; rejects if the command exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Ctrl-C: ^C on a terminal, SIGINT otherwise. */
  interrupt(): void;
  /** Exit code (for a terminal, the command's own, through `script -e`). */
  done: Promise<number | null>;
};

// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal colour sequences
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;
const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

type RunOptions = {
  tty: boolean;
  /** Added to this process's environment; with `inherit: false`, the whole environment. */
  env?: Record<string, string | undefined>;
  inherit?: boolean;
  cwd?: string;
};

/** `tokenplane <args>` (bin/tokenplane.js on this Node). */
export function runCli(args: string[], opts: RunOptions): RunningCli {
  return runCommand([process.execPath, BIN, ...args], opts);
}

/** Any command, on a terminal or behind a pipe. */
export function runCommand(argv: string[], opts: RunOptions): RunningCli {
  const env = opts.inherit === false ? opts.env : { ...process.env, ...opts.env };
  const child = opts.tty
    ? // `exec`: whatever $SHELL script starts (dash does not exec a lone
      // command), ^C must reach the command alone, not a shell waiting on it.
      spawn('script', ['-qefc', `exec ${argv.map(quote).join(' ')}`, '/dev/null'], {
        env,
        cwd: opts.cwd,
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      })
    : spawn(argv[0] as string, argv.slice(1), {
        env,
        cwd: opts.cwd,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
  // Never outlive the test run, whatever happens to it.
  const unregister = atProcessEnd(() => {
    if (child.pid && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }
  });
  let raw = '';
  let stderr = '';
  const append = (d: Buffer) => {
    raw += d.toString('utf8');
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  const done = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      unregister();
      resolve(code);
    }),
  );
  const output = () => raw.replace(ANSI, '').replaceAll('\r', '').replaceAll('^C', '');
  let exited = false;
  void done.then(() => {
    exited = true;
  });
  return {
    child,
    output,
    lines: () => output().split('\n').filter(Boolean),
    raw: () => raw,
    stderr: () => stderr,
    done,
    interrupt() {
      if (opts.tty) child.stdin?.write('\x03');
      else child.kill('SIGINT');
    },
    async waitFor(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = pattern.exec(output());
        if (m) return m;
        if (exited) throw new Error(`command exited before printing ${pattern}:\n${output()}`);
        if (Date.now() > deadline)
          throw new Error(`no ${pattern} after ${timeoutMs} ms:\n${output().slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

/** Whether a line is one of pino's JSON lines. */
export function isJsonLine(line: string): boolean {
  try {
    const value = JSON.parse(line) as { level?: unknown; msg?: unknown };
    return typeof value.level === 'number' && typeof value.msg === 'string';
  } catch {
    return false;
  }
}
