/**
 * `npm run image` — the images, without a Docker engine and without a base
 * image to pull (deploy/Dockerfile describes the same `tokenplane` image for
 * users with Docker):
 *
 *   dist/image/tokenplane-<version>.tar          `tokenplane serve` and `tokenplane operator`
 *   dist/image/tokenplane-example-<version>.tar  examples/kubernetes/app/reporting.js
 *
 * Each is tagged `<name>:<version>` and loads with `ctr images import` or
 * `podman load`. Layers: the Node runtime (deploy/image/rootfs.ts), the
 * application, and for tokenplane its compile cache, filled by running the
 * image's own Node as the runtime user in a chroot of the image's files — so
 * a container starts without Node's type stripper (deploy/compile-cache.js),
 * and the build has proved that the image's Node runs. Reproducible: entries'
 * times are the last commit's (or SOURCE_DATE_EPOCH), owners and order fixed.
 * Needs root (chroot), GNU tar, strip and ldd.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { type ImageSpec, writeImageArchive } from './archive.ts';
import { layOutRuntime, NODE_PATH, RUNTIME_UID } from './rootfs.ts';

const repo = join(import.meta.dirname, '../..');
const { version } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };

function sourceEpoch(): number {
  if (process.env.SOURCE_DATE_EPOCH) return Number(process.env.SOURCE_DATE_EPOCH);
  return Number(execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: repo, encoding: 'utf8' }).trim());
}

const labels = (title: string) => ({
  'org.opencontainers.image.title': title,
  'org.opencontainers.image.version': version,
  'org.opencontainers.image.licenses': 'Apache-2.0',
});

/**
 * The application's files under `<root>/app`, production dependencies from the
 * lockfile — less @pulumi/pulumi, which only the Pulumi provider (not in the
 * image) loads: it and its dependencies are half of them.
 */
function layOutTokenplane(root: string): void {
  const app = join(root, 'app');
  mkdirSync(app, { recursive: true });
  for (const entry of ['package-lock.json', 'bin', 'core', 'platform', 'operator', 'crds', 'deploy/compile-cache.js']) {
    cpSync(join(repo, entry), join(app, entry), { recursive: true });
  }
  const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
  const npm = (...args: string[]) =>
    execFileSync('npm', [...args, '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: app,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
  npm('ci');
  delete manifest.dependencies['@pulumi/pulumi'];
  writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
  npm('prune');
  rmSync(join(app, 'package-lock.json'));
  // npm's own bookkeeping differs between runs and is of no use at run time.
  rmSync(join(app, 'node_modules/.package-lock.json'), { force: true });
}

/**
 * Runs deploy/compile-cache.js with the image's Node, as the runtime user, in a
 * chroot of the image's files: the cache holds /app paths and the user's id,
 * exactly as a container will look them up.
 */
function fillCompileCache(root: string): void {
  const cache = join(root, 'app/.compile-cache');
  mkdirSync(cache);
  chownSync(cache, RUNTIME_UID, RUNTIME_UID);
  execFileSync(
    'chroot',
    [`--userspec=${RUNTIME_UID}:${RUNTIME_UID}`, root, NODE_PATH, '/app/deploy/compile-cache.js'],
    // PATH finds chroot here; inside, Node is named by its path.
    { env: { PATH: process.env.PATH, NODE_COMPILE_CACHE: '/app/.compile-cache', HOME: '/home/nonroot' }, stdio: 'inherit' },
  );
}

function tokenplaneImage(root: string, epoch: number): ImageSpec {
  const runtime = layOutRuntime(root);
  layOutTokenplane(root);
  fillCompileCache(root);
  const appEntries = ['package.json', 'bin', 'core', 'platform', 'operator', 'crds', 'deploy', 'node_modules'].map((e) => `app/${e}`);
  return onRuntime(root, runtime, {
    name: 'tokenplane',
    epoch,
    layers: [
      { root, paths: appEntries, owner: 0, createdBy: 'tokenplane and its production dependencies' },
      { root, paths: ['app/.compile-cache'], owner: RUNTIME_UID, createdBy: 'compile cache (deploy/compile-cache.js)' },
    ],
    env: ['NODE_ENV=production', 'NODE_COMPILE_CACHE=/app/.compile-cache'],
    entrypoint: 'bin/tokenplane.js',
    title: 'tokenplane',
  });
}

function exampleImage(root: string, epoch: number): ImageSpec {
  const runtime = layOutRuntime(root);
  mkdirSync(join(root, 'app'), { recursive: true });
  cpSync(join(repo, 'examples/kubernetes/app/reporting.js'), join(root, 'app/reporting.js'));
  return onRuntime(root, runtime, {
    name: 'tokenplane-example',
    epoch,
    layers: [{ root, paths: ['app/reporting.js'], owner: 0, createdBy: 'examples/kubernetes/app/reporting.js' }],
    env: [],
    entrypoint: '/app/reporting.js',
    title: 'tokenplane example application',
  });
}

/** An image of the Node runtime layer and then `layers`, run by RUNTIME_UID from /app. */
function onRuntime(
  root: string,
  runtime: string[],
  o: { name: string; epoch: number; layers: ImageSpec['layers']; env: string[]; entrypoint: string; title: string },
): ImageSpec {
  return {
    name: o.name,
    tag: version,
    epoch: o.epoch,
    layers: [
      { root, paths: runtime, owner: 0, createdBy: `Node ${process.versions.node} runtime (deploy/image/rootfs.ts)` },
      ...o.layers,
    ],
    config: {
      User: `${RUNTIME_UID}:${RUNTIME_UID}`,
      Env: ['PATH=/nodejs/bin', ...o.env],
      Entrypoint: [NODE_PATH, o.entrypoint],
      WorkingDir: '/app',
      Labels: labels(o.title),
    },
  };
}

export type BuiltImage = { reference: string; archive: string; digest: string; bytes: number; seconds: number };

export function buildImage(
  make: (root: string, epoch: number) => ImageSpec,
  outDir: string,
  epoch = sourceEpoch(),
): BuiltImage {
  const started = process.hrtime.bigint();
  const work = mkdtempSync(join(tmpdir(), 'tokenplane-image-'));
  try {
    const root = join(work, 'rootfs');
    mkdirSync(root);
    const spec = make(root, epoch);
    mkdirSync(outDir, { recursive: true });
    const archive = join(outDir, `${spec.name}-${spec.tag}.tar`);
    const digest = writeImageArchive(spec, join(work, 'archive'), archive);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { reference: `${spec.name}:${spec.tag}`, archive, digest, bytes: statSync(archive).size, seconds };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export const IMAGES = { tokenplane: tokenplaneImage, example: exampleImage } as const;

if (import.meta.main) {
  if (process.getuid?.() !== 0) {
    process.stderr.write('npm run image: run as root (the compile cache is filled in a chroot as the runtime user)\n');
    process.exit(2);
  }
  const outDir = join(repo, 'dist/image');
  for (const make of Object.values(IMAGES)) {
    const built = buildImage(make, outDir);
    process.stdout.write(
      `${built.reference} ${built.digest} ${relative(process.cwd(), built.archive)} ` +
        `${(built.bytes / 1048576).toFixed(1)} MiB in ${built.seconds.toFixed(1)} s\n`,
    );
  }
}
