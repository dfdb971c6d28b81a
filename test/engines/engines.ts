// Where the test engines live. Shared by `npm run engines` (build.ts), which
// builds them, and by the test harnesses, which only look them up: tests never
// build an engine themselves.
import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const engineNames = [
  'kube-apiserver',
  'kube-controller-manager',
  'etcd',
  'pulumi',
  'pulumi-language-nodejs',
  'pulumi-resource-pulumi-nodejs',
  'helm',
  'pulumi-resource-kubernetes',
  // Language hosts of the provider plugin's programs (README "Pulumi provider for every language"), and what they run.
  'pulumi-language-yaml',
  'pulumi-language-python',
  'pulumi-language-python-exec',
  'pulumi-python',
  'pulumi-language-go',
  // A node (test/harness/node.ts): kubelet and the rest of a cluster, containerd, cluster DNS.
  'kubelet',
  'kube-scheduler',
  'kube-proxy',
  'kubectl',
  'containerd',
  'containerd-shim-runc-v2',
  'ctr',
  'coredns',
  // Alerts and dashboards (README "Observability"): a real Prometheus, and promtool for the rule tests.
  'prometheus',
  'promtool',
  // Traces (README "Observability"): a real OTLP receiver that keeps traces and answers queries.
  'jaeger',
  // The OpenID provider of the single sign-on tests (test/harness/keycloak.ts): Keycloak's bin/kc.sh.
  'keycloak',
  // The introspection benchmark's comparison (npm run bench:hydra): Ory Hydra.
  'hydra',
] as const;
export type EngineName = (typeof engineNames)[number];

/**
 * Engines that are not a Go build of their own: the dynamic-provider shim ships
 * with @pulumi/pulumi, the Python host's exec script comes with its build
 * (`besideFiles`), `pulumi-python` is a venv with PyPI's `pulumi` (python.ts) and
 * `keycloak` Maven Central's server distribution, unpacked (keycloak.ts).
 */
const notGo = [
  'pulumi-resource-pulumi-nodejs',
  'pulumi-language-python-exec',
  'pulumi-python',
  'keycloak',
] as const;

/** Engines built from a Go module. */
export type GoEngineName = Exclude<EngineName, (typeof notGo)[number]>;

/** One entry of versions.json. */
export interface GoEngineSpec {
  /** Go module that holds the main package. */
  module: string;
  /** Version of that module (tag or pseudo-version). */
  version: string;
  /** Import path of the main package. */
  package: string;
  /** Built in the wrapper module of that engine, from its module and version (versions.json gives only `package`). */
  sameModuleAs?: GoEngineName;
  /** Installed beside the `pulumi` CLI, where it looks for its plugins. */
  besidePulumi?: boolean;
  /** `-X` variable that receives `version`, so that `--version` tells the truth. */
  versionVariable?: string;
  /**
   * Modules held at these versions by `replace` (a local replace of the upstream
   * go.mod is mapped here instead of to the upstream's own version).
   */
  replaceVersions?: Record<string, string>;
  /** Files of the upstream module copied into the wrapper module (by base name) for its own `main` to embed. */
  moduleFiles?: string[];
  /** Why a failed build of this engine only warns (the suites that need it then fail on their own). */
  optional?: string;
  /** Recorded when the module proxy has no origin for this version. */
  commit?: string;
  /** Files of the upstream module installed beside the binary (an engine of their own, by base name). */
  besideFiles?: string[];
  /** Build tags (`go build -tags`); engines built `sameModuleAs` another take its tags. */
  tags?: string[];
}

export type Versions = Record<GoEngineName, GoEngineSpec>;

export const enginesDir = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(enginesDir, '..', '..');

export function readVersions(): Versions {
  const raw = JSON.parse(readFileSync(join(enginesDir, 'versions.json'), 'utf8')) as Record<
    string,
    GoEngineSpec
  >;
  delete raw.$comment;
  delete raw['pulumi-python'];
  delete raw.keycloak;
  for (const spec of Object.values(raw)) {
    const base = spec.sameModuleAs ? raw[spec.sameModuleAs] : undefined;
    if (base) Object.assign(spec, { module: base.module, version: base.version, tags: base.tags });
  }
  return raw as unknown as Versions;
}

/** Per-user cache: $TOKENPLANE_ENGINES_CACHE, else $XDG_CACHE_HOME/tokenplane/engines, else ~/.cache/tokenplane/engines. */
export function cacheRoot(): string {
  const explicit = process.env.TOKENPLANE_ENGINES_CACHE;
  if (explicit) return explicit;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'tokenplane', 'engines');
}

/** The engine whose wrapper module builds `name` (itself, or the one it shares a module with). */
export function wrapperOf(name: GoEngineName, versions: Versions = readVersions()): GoEngineName {
  return versions[name].sameModuleAs ?? name;
}

/** Directory of one engine build, keyed by version: `<cache>/<wrapper>-<version>/`. */
export function engineDir(name: GoEngineName, versions: Versions = readVersions()): string {
  const wrapper = wrapperOf(name, versions);
  return join(cacheRoot(), `${wrapper}-${versions[wrapper].version}`);
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The directory of the `pulumi` CLI and its plugins: the one to put on PATH for a shell `pulumi up`. */
export function pulumiBinDir(versions: Versions = readVersions()): string {
  // <root>/bin/pulumi is the layout the Automation API's PulumiCommand.get({ root }) expects.
  return join(engineDir('pulumi', versions), 'bin');
}

/**
 * Where each engine is expected. `kube-apiserver` and `etcd` come from
 * $KUBEBUILDER_ASSETS when that directory holds them (as with envtest).
 */
export function expectedPaths(versions: Versions = readVersions()): Record<EngineName, string> {
  const assets = process.env.KUBEBUILDER_ASSETS;
  const path = (name: GoEngineName): string => {
    if (versions[name].besidePulumi || name === 'pulumi') return join(pulumiBinDir(versions), name);
    if (assets && isExecutable(join(assets, name))) return join(assets, name);
    return join(engineDir(name, versions), name);
  };
  const goPaths = Object.fromEntries(
    engineNames.filter(isGoEngine).map((n) => [n, path(n)]),
  ) as Record<GoEngineName, string>;
  return {
    ...goPaths,
    'pulumi-resource-pulumi-nodejs': join(pulumiBinDir(versions), 'pulumi-resource-pulumi-nodejs'),
    'pulumi-language-python-exec': join(pulumiBinDir(versions), 'pulumi-language-python-exec'),
    'pulumi-python': pythonVenvPython(),
    keycloak: keycloakScript(),
  };
}

export function isGoEngine(name: EngineName): name is GoEngineName {
  return !(notGo as readonly string[]).includes(name);
}

/** The PyPI `pulumi` the Python programs run on (versions.json `pulumi-python`). */
export function pythonPulumiVersion(): string {
  return pythonSpec().version;
}

/** What the venv holds: `pulumi==<version>` and the packages `with` it. */
export function pythonRequirements(): string[] {
  const spec = pythonSpec();
  return [`pulumi==${spec.version}`, ...(spec.with ?? [])];
}

function pythonSpec(): { version: string; with?: string[] } {
  const raw = JSON.parse(readFileSync(join(enginesDir, 'versions.json'), 'utf8')) as {
    'pulumi-python': { version: string; with?: string[] };
  };
  return raw['pulumi-python'];
}

/** The Go engine that installs a non-Go engine beside itself (`besideFiles`), if any. */
export function besideOwner(
  name: EngineName,
  versions: Versions = readVersions(),
): GoEngineName | undefined {
  return engineNames
    .filter(isGoEngine)
    .find((n) => (versions[n].besideFiles ?? []).some((f) => basename(f) === name));
}

/** Whether the venv at `python` finished installing (python.ts writes the record last). */
export function pythonVenvReady(python: string): boolean {
  try {
    const record = JSON.parse(readFileSync(join(dirname(python), '..', 'installed.json'), 'utf8'));
    return JSON.stringify(record.requirements) === JSON.stringify(pythonRequirements());
  } catch {
    return false;
  }
}

/** The venv's interpreter; its `bin` goes first on PATH for the Python host (python.ts). */
export function pythonVenvPython(): string {
  return join(cacheRoot(), `pulumi-python-${pythonPulumiVersion()}`, 'bin', 'python3');
}

/** The Maven artifact and version of Keycloak's server distribution (versions.json `keycloak`). */
export function keycloakSpec(): { maven: string; version: string } {
  const raw = JSON.parse(readFileSync(join(enginesDir, 'versions.json'), 'utf8')) as {
    keycloak: { maven: string; version: string };
  };
  return raw.keycloak;
}

/** Keycloak's start script, `<cache>/keycloak-<version>/bin/kc.sh`. */
export function keycloakScript(): string {
  return join(cacheRoot(), `keycloak-${keycloakSpec().version}`, 'bin', 'kc.sh');
}

/** Whether the distribution at `kcsh` finished unpacking (keycloak.ts writes the record last). */
export function keycloakReady(kcsh: string): boolean {
  try {
    const record = JSON.parse(readFileSync(join(dirname(kcsh), '..', 'installed.json'), 'utf8'));
    return record.version === keycloakSpec().version;
  } catch {
    return false;
  }
}

/** The record a build leaves beside the binary (`<name>.build.json`). */
export function buildRecordPath(name: GoEngineName, binary: string): string {
  return join(dirname(binary), `${name}.build.json`);
}

/**
 * Whether the engine at `path` is there and built from the pinned module,
 * version and package (engines that share a directory, such as the Pulumi
 * plugins beside the CLI, are rebuilt when only their own pin moves). A binary
 * without a build record (KUBEBUILDER_ASSETS) is taken as it is.
 */
export function isCurrent(
  name: EngineName,
  path: string,
  versions: Versions = readVersions(),
): boolean {
  if (!isExecutable(path)) return false;
  if (name === 'pulumi-python') return pythonVenvReady(path);
  if (name === 'keycloak') return keycloakReady(path);
  if (!isGoEngine(name)) return true;
  const beside = (versions[name].besideFiles ?? []).map((f) => join(dirname(path), basename(f)));
  if (!beside.every(isExecutable)) return false;
  let record: Partial<GoEngineSpec>;
  try {
    record = JSON.parse(readFileSync(buildRecordPath(name, path), 'utf8')) as Partial<GoEngineSpec>;
  } catch {
    return true;
  }
  const spec = versions[name];
  return (
    record.module === spec.module &&
    record.version === spec.version &&
    record.package === spec.package
  );
}

/** Paths of the requested engines; throws a message that says what to run when one is missing. */
export function requireEngines<N extends EngineName>(...names: N[]): Record<N, string> {
  const all = expectedPaths();
  const missing = names.filter((n) => !isCurrent(n, all[n]));
  if (missing.length > 0) {
    throw new Error(
      `test engine(s) not built: ${missing.map((n) => `${n} (expected at ${all[n]})`).join(', ')}. ` +
        'Run `npm run engines` first (it builds them from Go modules into the per-user cache).',
    );
  }
  return Object.fromEntries(names.map((n) => [n, all[n]])) as Record<N, string>;
}
