// `npm run engines [-- name…]`: builds the test engines that are missing from
// the per-user cache (all of them by default), then prints one
// `name=absolute-path` line per engine on stdout. Progress goes to stderr.
//
// `npm run -s engines -- --pulumi-bin-dir [name…]` builds the Pulumi CLI, its
// Node.js plugins and any engine named (pulumi-resource-kubernetes), and prints
// only their directory, for a shell's PATH:
//   export PATH="$PWD/node_modules/.bin:$(npm run -s engines -- --pulumi-bin-dir):$PATH"
import { type EngineName, engineNames, isExecutable, pulumiBinDir } from './engines.ts';
import { ensureEngines } from './ensure.ts';

const pulumiEngines: EngineName[] = [
  'pulumi',
  'pulumi-language-nodejs',
  'pulumi-resource-pulumi-nodejs',
];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const binDir = args.includes('--pulumi-bin-dir');
  const requested = args.filter((a) => !a.startsWith('-')) as EngineName[];
  const unknown = requested.filter((n) => !engineNames.includes(n));
  if (unknown.length > 0)
    throw new Error(`unknown engine ${unknown.join(', ')}; known: ${engineNames.join(', ')}`);
  const wanted = binDir
    ? [...pulumiEngines, ...requested]
    : requested.length > 0
      ? requested
      : [...engineNames];
  const paths = await ensureEngines(wanted);
  if (binDir) process.stdout.write(`${pulumiBinDir()}\n`);
  // An optional engine that failed to build has no line.
  else
    for (const name of wanted)
      if (isExecutable(paths[name])) process.stdout.write(`${name}=${paths[name]}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`[engines] error: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
