// Where the test engines live. Shared by `npm run engines` (build.ts), which
// builds them, and by the test harnesses, which only look them up: tests never
// build an engine themselves.
import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const engineNames = [
  'kube-apiserver',
  'etcd',
  'pulumi',
  'pulumi-language-nodejs',
  'pulumi-resource-pulumi-nodejs',
] as const;
export type EngineName = (typeof engineNames)[number];

/** Engines built from a Go module (the dynamic-provider shim ships with @pulumi/pulumi). */
export type GoEngineName = Exclude<EngineName, 'pulumi-resource-pulumi-nodejs'>;

export interface GoEngineSpec {
  /** Go module that holds the main package. */
  module: string;
  /** Version of that module (tag or pseudo-version). */
  version: string;
  /** Import path of the main package. */
  package: string;
  commit?: string;
  cliVersion?: string;
  /** Why a failed build of this engine only warns. */
  optional?: string;
}

export type Versions = Record<GoEngineName, GoEngineSpec>;

export const enginesDir = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(enginesDir, '..', '..');

export function readVersions(): Versions {
  const raw = JSON.parse(readFileSync(join(enginesDir, 'versions.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  delete raw.$comment;
  return raw as unknown as Versions;
}

/** Per-user cache: $TOKENPLANE_ENGINES_CACHE, else $XDG_CACHE_HOME/tokenplane/engines, else ~/.cache/tokenplane/engines. */
export function cacheRoot(): string {
  const explicit = process.env.TOKENPLANE_ENGINES_CACHE;
  if (explicit) return explicit;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'tokenplane', 'engines');
}

/** Directory of one engine build, keyed by version: `<cache>/<name>-<version>/`. */
export function engineDir(name: GoEngineName, versions: Versions = readVersions()): string {
  // The Pulumi CLI, its language host and the dynamic-provider shim share one
  // directory: the CLI looks for its plugins beside its own executable.
  if (name === 'pulumi-language-nodejs') return engineDir('pulumi', versions);
  return join(cacheRoot(), `${name}-${versions[name].version}`);
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where each engine is expected. `kube-apiserver` and `etcd` come from
 * $KUBEBUILDER_ASSETS when that directory holds them (as with envtest).
 */
export function expectedPaths(versions: Versions = readVersions()): Record<EngineName, string> {
  const assets = process.env.KUBEBUILDER_ASSETS;
  const kube = (name: 'kube-apiserver' | 'etcd'): string => {
    if (assets && isExecutable(join(assets, name))) return join(assets, name);
    return join(engineDir(name, versions), name);
  };
  // <root>/bin/pulumi is the layout the Automation API's PulumiCommand.get({ root }) expects.
  const pulumiBin = join(engineDir('pulumi', versions), 'bin');
  return {
    'kube-apiserver': kube('kube-apiserver'),
    etcd: kube('etcd'),
    pulumi: join(pulumiBin, 'pulumi'),
    'pulumi-language-nodejs': join(pulumiBin, 'pulumi-language-nodejs'),
    'pulumi-resource-pulumi-nodejs': join(pulumiBin, 'pulumi-resource-pulumi-nodejs'),
  };
}

/** Paths of the requested engines; throws a message that says what to run when one is missing. */
export function requireEngines<N extends EngineName>(...names: N[]): Record<N, string> {
  const all = expectedPaths();
  const missing = names.filter((n) => !isExecutable(all[n]));
  if (missing.length > 0) {
    throw new Error(
      `test engine(s) not built: ${missing.map((n) => `${n} (expected at ${all[n]})`).join(', ')}. ` +
        'Run `npm run engines` first (it builds them from Go modules into the per-user cache).',
    );
  }
  return Object.fromEntries(names.map((n) => [n, all[n]])) as Record<N, string>;
}
