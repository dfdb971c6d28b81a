/**
 * `tokenplane <command> [options]`: a registry of commands, each a module
 * exporting `run(argv)` loaded only when its command is called (so `serve` never
 * loads Kubernetes libraries, and the operator never loads fastify).
 *
 * To add a command, add one line to COMMANDS.
 */
import { createRequire } from 'node:module';
import { missingNodeFlags, SERVE_HEAP_FLAGS } from '../platform/heap-flags.ts';

export type Command = {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<unknown> }>;
  /** Node flags the command's process runs with unless already given (see withNodeFlags). */
  nodeFlags?: readonly string[];
};

export const COMMANDS: Record<string, Command> = {
  serve: {
    summary:
      'Run the platform API (SQLite in the data dir, or PostgreSQL with TOKENPLANE_DATABASE_URL)',
    load: () => import('../platform/serve.ts'),
    nodeFlags: SERVE_HEAP_FLAGS,
  },
  operator: {
    summary: 'Run the Kubernetes operator (TOKENPLANE_ENDPOINT, TOKENPLANE_API_KEY, --kubeconfig)',
    load: () => import('../operator/main.ts'),
  },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(
    ([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`,
  );
  return [
    'Usage: tokenplane <command> [options]',
    '',
    'API tokens as declarative infrastructure.',
    '',
    'Commands:',
    ...lines,
    '',
    'Run "tokenplane <command> --help" for the options of a command.',
  ].join('\n');
}

/**
 * Gives the command's process its Node flags: when some are missing, the
 * process replaces itself (same pid and stdio, POSIX execve) with one started
 * with them; where execve is unavailable it runs on without. Called by the
 * bin only — the process it replaces is always the command's own.
 */
export function withNodeFlags(argv: readonly string[]): void {
  const flags = COMMANDS[argv[0] ?? '']?.nodeFlags;
  if (!flags || typeof process.execve !== 'function') return;
  const missing = missingNodeFlags(flags, process.execArgv, process.env.NODE_OPTIONS);
  if (missing.length === 0) return;
  process.execve(
    process.execPath,
    [process.execPath, ...missing, ...process.execArgv, ...process.argv.slice(1)],
    process.env,
  );
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 1 : 0;
  }
  if (name === '--version' || name === '-v') {
    // By package name, not '../package.json': the same from the sources and from
    // the build in dist/ (and tsc does not copy package.json into dist/).
    const pkg = createRequire(import.meta.url)('tokenplane/package.json') as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`tokenplane: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  const module = await command.load();
  const code = await module.run(rest);
  return typeof code === 'number' ? code : 0;
}
