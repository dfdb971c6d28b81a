// The real Pulumi engine for tests: the CLI built by `npm run engines`,
// driven through the Automation API (LocalWorkspace), on a file backend in a
// temporary directory, with an isolated PULUMI_HOME, offline settings and the
// passphrase secrets provider.
//
//   const env = await pulumiTestEnv();
//   const stack = await env.inlineStack({ projectName: 'p', stackName: 'dev', program: async () => { … } });
//   await stack.up();
//   …
//   await env.cleanup();
//
// Programs are inline (a function in the test file, TypeScript run by Node 24).
// Their dynamic providers run in `pulumi-resource-pulumi-nodejs`, which the CLI
// finds beside itself and which runs `node` from PATH: PATH starts with the
// engines' directory and the repository's node_modules/.bin (Node 24).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import {
  type InlineProgramArgs,
  LocalWorkspace,
  type LocalWorkspaceOptions,
  PulumiCommand,
  type Stack,
} from '@pulumi/pulumi/automation/index.js';
import { repoRoot, requireEngines } from '../engines/engines.ts';
import { atProcessEnd } from './cleanup.ts';

export const TEST_PASSPHRASE = 'tokenplane-test-passphrase';

export interface PulumiTestEnv {
  /** Temporary directory holding everything below; removed by cleanup(). */
  readonly dir: string;
  /** file:// URL of the state backend. */
  readonly backendUrl: string;
  readonly pulumiHome: string;
  /** Project directory the CLI and plugins run in (node_modules links to the repository's). */
  readonly workDir: string;
  /** Environment the CLI and its plugins run with. */
  readonly envVars: Record<string, string>;
  readonly pulumiCommand: PulumiCommand;
  /** Creates (or selects) a stack for an inline program in this environment. */
  inlineStack(args: InlineProgramArgs, opts?: LocalWorkspaceOptions): Promise<Stack>;
  /**
   * The stack's state as `pulumi stack export` prints it, secrets left encrypted
   * (the Automation API's `stack.exportStack()` passes --show-secrets).
   */
  exportState(stackName: string): Promise<{
    version: number;
    deployment: { resources?: StateResource[] } & Record<string, unknown>;
  }>;
  /** Runs the CLI in this environment; resolves with stdout. */
  cli(args: string[]): Promise<string>;
  /** Removes the temporary directory. */
  cleanup(): Promise<void>;
}

export interface StateResource {
  urn: string;
  type: string;
  id?: string;
  custom?: boolean;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
}

/** The marker of a secret value in Pulumi state and RPC: `{ [SECRET_SIG]: SECRET_SIG_VALUE, ciphertext | plaintext }`. */
export const SECRET_SIG = '4dabf18193072939515e22adb298388d';
export const SECRET_SIG_VALUE = '1b47061264138c4ac30d75fd1eb44270';

export interface PulumiTestEnvOptions {
  passphrase?: string;
  /** Extra environment for the CLI and plugins. */
  envVars?: Record<string, string>;
  /** Keep the directory after cleanup (also TOKENPLANE_KEEP_PULUMI_DIR=1). */
  keepDir?: boolean;
}

export async function pulumiTestEnv(opts: PulumiTestEnvOptions = {}): Promise<PulumiTestEnv> {
  const engines = requireEngines('pulumi', 'pulumi-resource-pulumi-nodejs');
  const binDir = dirname(engines.pulumi);
  const dir = mkdtempSync(join(tmpdir(), 'tokenplane-pulumi-'));
  const pulumiHome = join(dir, 'home');
  const stateDir = join(dir, 'state');
  const workDir = join(dir, 'work');
  for (const d of [pulumiHome, stateDir, workDir]) mkdirSync(d);
  // The dynamic-provider plugin resolves @pulumi/pulumi from its working directory.
  symlinkSync(join(repoRoot, 'node_modules'), join(workDir, 'node_modules'), 'dir');
  const backendUrl = `file://${stateDir}`;
  const envVars: Record<string, string> = {
    PATH: [binDir, join(repoRoot, 'node_modules', '.bin'), process.env.PATH ?? ''].join(delimiter),
    PULUMI_HOME: pulumiHome,
    PULUMI_BACKEND_URL: backendUrl,
    PULUMI_CONFIG_PASSPHRASE: opts.passphrase ?? TEST_PASSPHRASE,
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
    PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: 'true',
    PULUMI_SKIP_CONFIRMATIONS: 'true',
    PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: 'true',
    ...opts.envVars,
  };
  const pulumiCommand = await PulumiCommand.get({ root: dirname(binDir), skipVersionCheck: true });
  const cli = async (args: string[]): Promise<string> => {
    const { stdout } = await promisify(execFile)(engines.pulumi, [...args, '--non-interactive'], {
      cwd: workDir,
      env: { ...process.env, ...envVars },
      maxBuffer: 64 << 20,
    });
    return stdout;
  };
  const keep = opts.keepDir ?? process.env.TOKENPLANE_KEEP_PULUMI_DIR === '1';
  const removeDir = (): void => {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  };
  // Also when the test process ends without calling cleanup().
  const unregister = atProcessEnd(removeDir);

  return {
    dir,
    backendUrl,
    pulumiHome,
    workDir,
    envVars,
    pulumiCommand,
    inlineStack: (args, wsOpts = {}) =>
      LocalWorkspace.createOrSelectStack(args, {
        workDir,
        pulumiHome,
        pulumiCommand,
        secretsProvider: 'passphrase',
        ...wsOpts,
        envVars: { ...envVars, ...wsOpts.envVars },
        projectSettings: {
          name: args.projectName,
          runtime: 'nodejs',
          backend: { url: backendUrl },
          ...wsOpts.projectSettings,
        },
      }),
    cli,
    exportState: async (stackName) =>
      JSON.parse(await cli(['stack', 'export', '--stack', stackName])),
    cleanup: async () => {
      unregister();
      removeDir();
    },
  };
}
