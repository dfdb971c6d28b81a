// The provider plugin (README "Pulumi provider for every language") under the real pulumi CLI: the plugin built from
// the sources (provider/plugin/build.ts) into a temporary directory first on
// PATH, as `PATH=$PWD/dist/plugin:$PATH` puts it for a person, and the language
// hosts of `npm run engines` beside the CLI. Projects are directories of their
// own (a YAML, Python or Go program) driven with `pulumi -C <dir>`.
//
//   const env = await pluginTestEnv();
//   const p = await env.project('life', { 'Pulumi.yaml': '…' }, { endpoint, apiKey });
//   await p.run(['up', '--yes']);
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { buildPlugin, type PluginBuild } from '../../provider/plugin/build.ts';
import { repoRoot, requireEngines } from '../engines/engines.ts';
import { type PulumiTestEnv, type PulumiTestEnvOptions, pulumiTestEnv } from './pulumi.ts';

const run = promisify(execFile);

export type PluginProject = {
  dir: string;
  /** Runs `pulumi <args> -C <dir> --stack dev`; resolves with stdout, rejects with stdout and stderr. */
  run(args: string[]): Promise<string>;
  /** Like run, for a command that must fail: resolves with what it printed. */
  fails(args: string[]): Promise<string>;
  /** The stack's outputs, secrets in plain text. */
  outputs(): Promise<Record<string, unknown>>;
  /** Replaces the project's files (the program of the next step). */
  write(files: Record<string, string>): void;
};

export type PluginTestEnv = PulumiTestEnv & {
  plugin: PluginBuild;
  /** `pip install ./sdk/python` where the Python programs of this environment import it from. */
  installPythonSdk(): Promise<void>;
  /**
   * A project in its own directory with its files (or a copy of `from`), stack
   * `dev` selected, the platform settings in its stack config.
   */
  project(
    name: string,
    source: { files: Record<string, string> } | { from: string },
    settings: { endpoint: string; apiKey: string },
  ): Promise<PluginProject>;
};

export async function pluginTestEnv(opts: PulumiTestEnvOptions = {}): Promise<PluginTestEnv> {
  const engines = requireEngines(
    'pulumi',
    'pulumi-language-yaml',
    'pulumi-language-python',
    'pulumi-language-python-exec',
    'pulumi-python',
    'pulumi-language-go',
  );
  const pluginDir = mkdtempSync(join(tmpdir(), 'tokenplane-plugin-'));
  const plugin = await buildPlugin(join(pluginDir, 'bin'));
  // Python programs import the SDK from here (installPythonSdk), beside the venv's pulumi.
  const pythonPath = join(pluginDir, 'python');
  const PATH = [
    plugin.dir,
    // The Python host runs the python3 first on PATH: the venv's, with PyPI's pulumi.
    dirname(engines['pulumi-python']),
    dirname(engines.pulumi),
    join(repoRoot, 'node_modules', '.bin'),
    process.env.PATH ?? '',
  ].join(delimiter);
  const env = await pulumiTestEnv({
    ...opts,
    envVars: { PATH, PYTHONPATH: pythonPath, ...opts.envVars },
  });
  const cleanup = env.cleanup;

  const project: PluginTestEnv['project'] = async (name, source, settings) => {
    const dir = join(env.dir, name);
    mkdirSync(dir, { recursive: true });
    const write = (files: Record<string, string>) => {
      for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
    };
    if ('from' in source) cpSync(source.from, dir, { recursive: true });
    else write(source.files);
    const run = (args: string[]) => env.cli([...args, '-C', dir, '--stack', 'dev']);
    const fails = (args: string[]) =>
      run(args).then(
        (stdout) => {
          throw new Error(`pulumi ${args.join(' ')} succeeded:\n${stdout}`);
        },
        (err: { stdout?: string; stderr?: string }) => `${err.stdout ?? ''}\n${err.stderr ?? ''}`,
      );
    await env.cli(['stack', 'init', 'dev', '-C', dir]);
    await run(['config', 'set', 'tokenplane:endpoint', settings.endpoint]);
    await run(['config', 'set', '--secret', 'tokenplane:apiKey', settings.apiKey]);
    return {
      dir,
      run,
      fails,
      write,
      outputs: async () => JSON.parse(await run(['stack', 'output', '--json', '--show-secrets'])),
    };
  };

  const installPythonSdk = async () => {
    // From a copy: building in place would leave build/ and *.egg-info in sdk/python.
    const source = join(pluginDir, 'sdk-python');
    cpSync(join(repoRoot, 'sdk', 'python'), source, { recursive: true });
    // No build isolation: the venv's setuptools builds it, nothing is fetched.
    await run(engines['pulumi-python'], [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--no-deps',
      '--no-build-isolation',
      '--target',
      pythonPath,
      source,
    ]);
  };

  return {
    ...env,
    plugin,
    installPythonSdk,
    project,
    cleanup: async () => {
      await cleanup();
      rmSync(pluginDir, { recursive: true, force: true });
    },
  };
}
