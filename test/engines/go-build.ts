// Builds one engine from its Go module, in a wrapper module.
//
// Each engine has a small wrapper module in test/engines/go/<name>/ (module
// line only). The build copies it to <cache>/.work/<name>-<version>/ and adds
// what versions.json pins: the `require` of the upstream module, its `go` and
// `godebug` lines, and one `replace` for every local (`./…`, `../…`) replace
// of the upstream go.mod, mapped to the published version of that module —
// derived from the upstream go.mod itself, never a hand-written list. Engines
// with `sameModuleAs` are built in the wrapper of that engine.
//
// Phases, reported to a Progress: resolving the module, downloading the
// modules the package needs (`go list -deps`, which also counts the packages),
// compiling (`go build -v`, one line per package compiled; packages already in
// Go's build cache are skipped).
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  buildRecordPath,
  cacheRoot,
  enginesDir,
  type GoEngineName,
  type GoEngineSpec,
  type Versions,
  wrapperOf,
} from './engines.ts';
import { parseGoMod, siblingVersion } from './gomod.ts';
import { formatElapsed, type Progress } from './progress.ts';

const MIN_GO = [1, 26] as const;

const goEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  GOTOOLCHAIN: process.env.GOTOOLCHAIN || 'local',
  GOFLAGS: '-mod=mod',
  CGO_ENABLED: process.env.CGO_ENABLED ?? '0',
});

/** The Go version on PATH; throws saying what to install when it is missing or too old. */
export function checkGo(): string {
  const res = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8', env: goEnv() });
  if (res.error || res.status !== 0) {
    throw new Error(
      `Go is needed to build the test engines and was not found on PATH (${res.error?.message ?? res.stderr.trim()}).\n` +
        `Install Go ${MIN_GO.join('.')} or newer (for example the official tarball unpacked to /usr/local/go, ` +
        "then PATH=/usr/local/go/bin:$PATH); Debian's golang-go package is too old. " +
        'Alternatively set KUBEBUILDER_ASSETS to a directory holding kube-apiserver and etcd.',
    );
  }
  const version = res.stdout.trim();
  const m = /^go(\d+)\.(\d+)/.exec(version);
  if (!m || Number(m[1]) < MIN_GO[0] || (Number(m[1]) === MIN_GO[0] && Number(m[2]) < MIN_GO[1])) {
    throw new Error(
      `Go ${MIN_GO.join('.')} or newer is needed to build the test engines; found ${version}.`,
    );
  }
  return version;
}

/** Runs `go …`, handing each output line to `onLine`; on failure the error carries the output's tail. */
function go(
  args: string[],
  cwd: string,
  onLine: (line: string) => void = () => {},
): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('go', args, { cwd, env: goEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const out: string[] = [];
    const tail: string[] = [];
    const read = (stream: NodeJS.ReadableStream, keep: boolean): void => {
      createInterface({ input: stream }).on('line', (line) => {
        if (keep) out.push(line);
        tail.push(line);
        if (tail.length > 60) tail.shift();
        onLine(line);
      });
    };
    read(child.stdout, true);
    read(child.stderr, false);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(out);
      else
        reject(
          new Error(
            `\`go ${args.join(' ')}\` failed (${signal ?? `exit ${code}`}) in ${cwd}:\n${tail.join('\n')}`,
          ),
        );
    });
  });
}

function ldflags(spec: GoEngineSpec, commit: string | undefined): string {
  const flags = ['-s', '-w'];
  if (spec.versionVariable) flags.push(`-X ${spec.versionVariable}=${spec.version}`);
  if (spec.module === 'k8s.io/kubernetes') {
    const [major, minor] = spec.version.replace(/^v/, '').split('.');
    const v = 'k8s.io/component-base/version';
    flags.push(
      `-X ${v}.gitVersion=${spec.version}`,
      `-X ${v}.gitMajor=${major}`,
      `-X ${v}.gitMinor=${minor}`,
      `-X ${v}.gitTreeState=clean`,
      ...(commit ? [`-X ${v}.gitCommit=${commit}`] : []),
      `-X ${v}.buildDate=${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
    );
  } else if (spec.module === 'go.etcd.io/etcd/server/v3' && commit) {
    flags.push(`-X go.etcd.io/etcd/api/v3/version.GitSHA=${commit.slice(0, 9)}`);
  }
  return flags.join(' ');
}

/** Copies the wrapper module into the cache's work area and pins it to the upstream module (idempotent). */
async function prepareWrapper(
  name: GoEngineName,
  versions: Versions,
  progress: Progress,
): Promise<{ work: string; commit: string | undefined; moduleDir: string }> {
  const wrapper = wrapperOf(name, versions);
  const spec = versions[wrapper];
  const work = join(cacheRoot(), '.work', `${wrapper}-${spec.version}`);
  mkdirSync(work, { recursive: true });
  // go.mod, and the wrapper's own main where it has one.
  const wrapperDir = join(enginesDir, 'go', wrapper);
  for (const file of readdirSync(wrapperDir))
    copyFileSync(join(wrapperDir, file), join(work, file));

  progress.phase(`resolving ${spec.module}@${spec.version}`);
  const json = await go(['mod', 'download', '-json', `${spec.module}@${spec.version}`], work);
  const info = JSON.parse(json.join('\n')) as {
    GoMod: string;
    Dir: string;
    Origin?: { Hash?: string };
  };
  for (const file of spec.moduleFiles ?? [])
    copyFileSync(join(info.Dir, file), join(work, basename(file)));
  const upstream = parseGoMod(readFileSync(info.GoMod, 'utf8'));
  const sibling = siblingVersion(spec);
  const held = spec.replaceVersions ?? {};
  const edits = [`-require=${spec.module}@${spec.version}`];
  if (upstream.go) edits.push(`-go=${upstream.go}`);
  for (const d of upstream.godebug) edits.push(`-godebug=${d}`);
  let mapped = 0;
  for (const from of upstream.localReplaces) {
    // Replaces of modules the upstream does not require (etcd's FORBIDDEN_DEPENDENCY guards) do not matter.
    if (!upstream.requires.has(from) || from in held) continue;
    edits.push(`-replace=${from}=${from}@${sibling}`);
    mapped++;
  }
  for (const r of upstream.moduleReplaces) edits.push(`-replace=${r}`);
  for (const [module, version] of Object.entries(held))
    edits.push(`-replace=${module}=${module}@${version}`);
  progress.log(
    `${name}: wrapper module maps ${mapped} local replace(s) to ${sibling}, keeps ${upstream.moduleReplaces.length} module replace(s)` +
      (Object.keys(held).length > 0 ? `, holds ${Object.keys(held).join(', ')}` : ''),
  );
  await go(['mod', 'edit', ...edits], work);
  // The commit the module proxy records for this version (absent for some versions).
  return { work, commit: info.Origin?.Hash ?? spec.commit, moduleDir: info.Dir };
}

/** Builds `name` into `out` (atomically: a failed build leaves nothing behind) and writes its build record. */
export async function buildGoEngine(
  name: GoEngineName,
  versions: Versions,
  out: string,
  progress: Progress,
): Promise<void> {
  const spec = versions[name];
  const started = Date.now();
  const { work, commit, moduleDir } = await prepareWrapper(name, versions, progress);

  progress.phase('downloading modules');
  let downloads = 0;
  const deps = await go(['list', '-deps', '-f', '{{.ImportPath}}', spec.package], work, (line) => {
    if (line.startsWith('go: downloading ')) progress.detail(`(${++downloads} modules)`);
  });

  progress.phase('compiling');
  const tmp = `${out}.tmp-${process.pid}`;
  mkdirSync(dirname(out), { recursive: true });
  const args = ['build', '-v', '-trimpath', '-ldflags', ldflags(spec, commit), '-o', tmp];
  if (spec.tags) args.push('-tags', spec.tags.join(','));
  args.push(spec.package);
  let compiled = 0;
  try {
    await go(args, work, (line) => {
      if (!line.startsWith('go: '))
        // Packages already in Go's build cache are not compiled (nor printed) again.
        progress.detail(`${++compiled} packages compiled, ${deps.length} needed`);
    });
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  renameSync(tmp, out);
  for (const file of spec.besideFiles ?? []) {
    const to = join(dirname(out), basename(file));
    copyFileSync(join(moduleDir, file), to);
    chmodSync(to, 0o755); // the module cache's copy is read-only
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  writeFileSync(
    buildRecordPath(name, out),
    `${JSON.stringify({ name, ...spec, seconds, builtAt: new Date().toISOString(), go: checkGo() }, null, 2)}\n`,
  );
  progress.log(
    `${name}: built in ${formatElapsed(seconds * 1000)} (${(statSync(out).size / 1e6).toFixed(0)} MB) -> ${out}`,
  );
}
