/**
 * The V8 heap bound of `tokenplane serve` (no imports: the command line reads
 * it before it loads the server).
 *
 * Left to its defaults, V8 sizes a heap from the machine's memory (about 4 GB
 * on an 8 GB+ machine) and grows it lazily: under many concurrent requests
 * its young generation grew from 32 to 128 MB and its old space kept garbage
 * up to 111 MB, so the process went from 140 to 350–440 MB RSS and stayed
 * there, although a collection left 27 MB live (README, "Memory under load"). The caches
 * are bounded by entry count; these flags bound the heap they live in:
 *
 * - `--max-semi-space-size=16`: a young generation of at most 3 × 16 MB
 *   (V8's default lets it grow to 3 × 64 MB; 8 MB cost about 1.6× the CPU
 *   per request under a flood of 500 connections, 16 MB about 1.3×, and
 *   neither anything measurable at 50).
 * - `--max-old-space-size=128`: over twice the live set under such a flood
 *   (35–60 MB after a run), caches included.
 *
 * The heap limit is then 176 MB, and RSS stays below it plus the 80–90 MB
 * outside the heap (Node, SQLite, code).
 *
 * A flag already given (on the command line or in NODE_OPTIONS) is kept.
 */
export const SERVE_HEAP_FLAGS = ['--max-semi-space-size=16', '--max-old-space-size=128'] as const;

/** The flags of `wanted` whose option name appears in neither `execArgv` nor NODE_OPTIONS. */
export function missingNodeFlags(
  wanted: readonly string[],
  execArgv: readonly string[],
  nodeOptions = '',
): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)].map(optionName);
  return wanted.filter((flag) => !given.includes(optionName(flag)));
}

/** `--max-old-space-size=160` → `max_old_space_size` (V8 takes - and _ alike). */
function optionName(flag: string): string {
  return (flag.split('=')[0] ?? '').replace(/^-+/, '').replaceAll('-', '_');
}
