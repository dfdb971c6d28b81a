/**
 * `npm run plugin`: the provider plugin in dist/plugin/ (README "Pulumi provider for every language"):
 * - `pulumi-resource-tokenplane.mjs`, the plugin bundled into one file
 *   (main.ts and everything it imports, @pulumi/pulumi and gRPC included);
 * - `pulumi-resource-tokenplane`, the executable the engine starts: a launcher
 *   that runs the bundle on the `node` of PATH (Node ≥ 22), so that
 *   `PATH=$PWD/dist/plugin:$PATH` is enough for the CLI to find it;
 * - `pulumi-resource-tokenplane-v<version>-linux-amd64.tar.gz` holding both, for
 *   `pulumi plugin install resource tokenplane <version> --file <tarball>`.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { packageVersion } from './version.ts';

export const PLUGIN = 'pulumi-resource-tokenplane';
const BUNDLE = `${PLUGIN}.mjs`;
const MIN_NODE = 22;

const LAUNCHER = `#!/bin/sh
# The tokenplane Pulumi provider plugin: runs the bundle beside this file on Node >= ${MIN_NODE}.
exec node "$(dirname "$(readlink -f "$0")")/${BUNDLE}" "$@"
`;

// Before anything else runs: an older Node says what to install instead of failing obscurely.
const NODE_CHECK = `if (Number(process.versions.node.split('.')[0]) < ${MIN_NODE}) {
  console.error('${PLUGIN} needs Node.js ${MIN_NODE} or newer on PATH; found ' + process.version);
  process.exit(1);
}`;

// The bundle is ESM; the CommonJS packages it holds call require() for Node's modules.
const REQUIRE = `import { createRequire as __tokenplaneRequire } from 'node:module';
const require = __tokenplaneRequire(import.meta.url);`;

/**
 * The ES module build of OpenTelemetry's gRPC exporter loads @grpc/grpc-js
 * with a `require` made at run time, which finds nothing beside a bundle; its
 * CommonJS build requires it plainly, so the bundle holds it.
 */
const grpcExporterAsCommonJs: Plugin = {
  name: 'otlp-grpc-exporter-as-commonjs',
  setup(b) {
    b.onResolve({ filter: /^@opentelemetry\/otlp-grpc-exporter-base$/ }, (args) =>
      args.kind === 'require-call'
        ? undefined
        : b.resolve(args.path, { kind: 'require-call', resolveDir: args.resolveDir }),
    );
  },
};

export type PluginBuild = { dir: string; version: string; executable: string; tarball: string };

export async function buildPlugin(dir: string): Promise<PluginBuild> {
  const version = packageVersion();
  mkdirSync(dir, { recursive: true });
  await build({
    entryPoints: [fileURLToPath(new URL('./main.ts', import.meta.url))],
    outfile: join(dir, BUNDLE),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: `node${MIN_NODE}`,
    define: { TOKENPLANE_VERSION: JSON.stringify(version) },
    // @pulumi/pulumi loads TypeScript only to serialize functions, which a plugin never does.
    external: ['typescript'],
    plugins: [grpcExporterAsCommonJs],
    banner: { js: `${NODE_CHECK}\n${REQUIRE}` },
    legalComments: 'none',
    logLevel: 'warning',
  });
  const executable = join(dir, PLUGIN);
  writeFileSync(executable, LAUNCHER);
  chmodSync(executable, 0o755);
  const tarball = join(dir, `${PLUGIN}-v${version}-linux-amd64.tar.gz`);
  // Reproducible: sorted, no owners, no times.
  execFileSync('tar', [
    '--sort=name',
    '--mtime=@0',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--use-compress-program=gzip -n',
    '-cf',
    tarball,
    '-C',
    dir,
    PLUGIN,
    BUNDLE,
  ]);
  return { dir, version, executable, tarball };
}

if (import.meta.main) {
  const started = Date.now();
  const out = await buildPlugin(fileURLToPath(new URL('../../dist/plugin/', import.meta.url)));
  process.stdout.write(
    `${out.executable}\n${out.tarball}\n(version ${out.version}, ${Date.now() - started} ms)\n`,
  );
}
