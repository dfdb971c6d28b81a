// `npm run engines [-- name…]`: builds the test engines that are missing from
// the per-user cache, from Go modules, one at a time, then prints one
// `name=absolute-path` line per engine on stdout. Progress goes to stderr.
//
// Each engine has a small wrapper module in test/engines/go/<name>/ (module
// line only). The build copies it to <cache>/.work/<name>-<version>/ and adds
// what versions.json pins: the `require` of the upstream module, its `go` and
// `godebug` lines, and one `replace` for every local (`./…`, `../…`) replace
// of the upstream go.mod, mapped to the published version of that module —
// derived from the upstream go.mod itself, never a hand-written list.
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  cacheRoot,
  type EngineName,
  enginesDir,
  expectedPaths,
  type GoEngineName,
  type GoEngineSpec,
  isExecutable,
  readVersions,
  repoRoot,
  type Versions,
} from './engines.ts';
import { parseGoMod, siblingVersion } from './gomod.ts';

const MIN_GO = [1, 26] as const;
const goEngines: GoEngineName[] = ['kube-apiserver', 'etcd', 'pulumi', 'pulumi-language-nodejs'];

const log = (msg: string): void => {
  process.stderr.write(`[engines] ${msg}\n`);
};

const goEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  GOTOOLCHAIN: process.env.GOTOOLCHAIN || 'local',
  GOFLAGS: '-mod=mod',
  CGO_ENABLED: process.env.CGO_ENABLED ?? '0',
});

function checkGo(): string {
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

function run(cmd: string, args: string[], cwd: string, label: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(cmd, args, { cwd, env: goEnv(), stdio: ['ignore', 'inherit', 'inherit'] });
    const beat = setInterval(() => {
      log(`${label}: still running, ${Math.round((Date.now() - started) / 1000)} s`);
    }, 60_000);
    child.on('error', (err) => {
      clearInterval(beat);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      clearInterval(beat);
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `${label}: \`${cmd} ${args.join(' ')}\` failed (${signal ?? `exit ${code}`}) in ${cwd}`,
          ),
        );
    });
  });
}

function goJson(args: string[], cwd: string): Record<string, unknown> {
  const res = spawnSync('go', args, { cwd, encoding: 'utf8', env: goEnv(), maxBuffer: 64 << 20 });
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(res.stdout) as Record<string, unknown>;
  } catch {
    // fall through to the error below
  }
  if (res.status !== 0 || parsed.Error) {
    throw new Error(
      `\`go ${args.join(' ')}\` failed: ${String(parsed.Error ?? res.stderr.trim())}`,
    );
  }
  return parsed;
}

function ldflags(name: GoEngineName, spec: GoEngineSpec, commit: string | undefined): string {
  const flags = ['-s', '-w'];
  if (name === 'kube-apiserver') {
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
  } else if (name === 'etcd') {
    if (commit) flags.push(`-X go.etcd.io/etcd/api/v3/version.GitSHA=${commit.slice(0, 9)}`);
  } else if (name === 'pulumi' || name === 'pulumi-language-nodejs') {
    flags.push(
      `-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${spec.cliVersion ?? spec.version}`,
    );
  }
  return flags.join(' ');
}

async function buildGoEngine(name: GoEngineName, versions: Versions, out: string): Promise<void> {
  const spec = versions[name];
  const work = join(cacheRoot(), '.work', `${name}-${spec.version}`);
  mkdirSync(work, { recursive: true });
  copyFileSync(join(enginesDir, 'go', name, 'go.mod'), join(work, 'go.mod'));

  log(`${name}: resolving ${spec.module}@${spec.version}`);
  const info = goJson(['mod', 'download', '-json', `${spec.module}@${spec.version}`], work);
  const upstream = parseGoMod(readFileSync(String(info.GoMod), 'utf8'));
  const sibling = siblingVersion(spec);
  const edits = [`-require=${spec.module}@${spec.version}`];
  if (upstream.go) edits.push(`-go=${upstream.go}`);
  for (const d of upstream.godebug) edits.push(`-godebug=${d}`);
  let mapped = 0;
  for (const from of upstream.localReplaces) {
    // Replaces of modules the upstream does not require (etcd's FORBIDDEN_DEPENDENCY guards) do not matter.
    if (!upstream.requires.has(from)) continue;
    edits.push(`-replace=${from}=${from}@${sibling}`);
    mapped++;
  }
  for (const r of upstream.moduleReplaces) edits.push(`-replace=${r}`);
  log(
    `${name}: wrapper module maps ${mapped} local replace(s) to ${sibling}, keeps ${upstream.moduleReplaces.length} module replace(s)`,
  );
  await run('go', ['mod', 'edit', ...edits], work, `${name} go mod edit`);

  const tmp = `${out}.tmp-${process.pid}`;
  mkdirSync(dirname(out), { recursive: true });
  // The commit the module proxy records for this version (absent for some versions).
  const commit = (info.Origin as { Hash?: string } | undefined)?.Hash ?? spec.commit;
  const args = ['build', '-trimpath', '-ldflags', ldflags(name, spec, commit), '-o', tmp];
  if (name === 'kube-apiserver') args.push('-tags', 'selinux,notest');
  args.push(spec.package);
  log(`${name}: go ${args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}`);
  const started = Date.now();
  try {
    await run('go', args, work, name);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  renameSync(tmp, out);
  const seconds = Math.round((Date.now() - started) / 1000);
  writeFileSync(
    join(dirname(out), `${name}.build.json`),
    `${JSON.stringify({ name, ...spec, seconds, builtAt: new Date().toISOString(), go: checkGo() }, null, 2)}\n`,
  );
  log(`${name}: built in ${seconds} s (${(statSync(out).size / 1e6).toFixed(0)} MB) -> ${out}`);
}

/** The dynamic-provider plugin is a shell script shipped by @pulumi/pulumi; the CLI wants it beside itself. */
function installDynamicProviderShim(out: string): void {
  const require = createRequire(join(repoRoot, 'package.json'));
  const pkgDir = dirname(require.resolve('@pulumi/pulumi/package.json'));
  const src = join(pkgDir, 'pulumi-resource-pulumi-nodejs');
  mkdirSync(dirname(out), { recursive: true });
  const current = isExecutable(out) ? readFileSync(out, 'utf8') : '';
  if (current !== readFileSync(src, 'utf8')) {
    copyFileSync(src, out);
    chmodSync(out, 0o755);
    log(`pulumi-resource-pulumi-nodejs: copied from ${src}`);
  }
}

async function main(): Promise<void> {
  const requested = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const versions = readVersions();
  const paths = expectedPaths(versions);
  const wanted = (requested.length > 0 ? requested : Object.keys(paths)) as EngineName[];
  for (const n of wanted) {
    if (!(n in paths))
      throw new Error(`unknown engine ${n}; known: ${Object.keys(paths).join(', ')}`);
  }
  log(
    `cache: ${cacheRoot()}${process.env.KUBEBUILDER_ASSETS ? `; KUBEBUILDER_ASSETS=${process.env.KUBEBUILDER_ASSETS}` : ''}`,
  );

  const failures: string[] = [];
  let goChecked = false;
  for (const name of goEngines) {
    if (!wanted.includes(name)) continue;
    if (isExecutable(paths[name])) {
      log(`${name}: found ${paths[name]}`);
      continue;
    }
    if (!goChecked) {
      log(`using ${checkGo()}`);
      goChecked = true;
    }
    log(
      `${name}: building ${versions[name].module}@${versions[name].version} (first build downloads modules and compiles; minutes)`,
    );
    try {
      await buildGoEngine(name, versions, paths[name]);
    } catch (err) {
      const optional = versions[name].optional;
      if (optional) {
        log(`${name}: NOT BUILT (optional: ${optional})\n  ${(err as Error).message}`);
      } else {
        failures.push(`${name}: ${(err as Error).message}`);
        log(`${name}: FAILED: ${(err as Error).message}`);
      }
    }
  }
  if (wanted.includes('pulumi-resource-pulumi-nodejs'))
    installDynamicProviderShim(paths['pulumi-resource-pulumi-nodejs']);

  for (const name of wanted) {
    if (isExecutable(paths[name])) process.stdout.write(`${name}=${paths[name]}\n`);
  }
  if (failures.length > 0) {
    log(`failed:\n  ${failures.join('\n  ')}`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  log(`error: ${(err as Error).message}`);
  process.exitCode = 1;
});
