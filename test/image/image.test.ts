/**
 * `npm run image` (deploy/image/build.ts): the archive holds an OCI layout and
 * Docker's manifest over the same blobs, each blob's name is its digest, the
 * image runs as a non-root user with no shell, the runtime and application
 * layers are the same bytes when built twice, and the image's own files run
 * `tokenplane serve` (a chroot of its layers, as its user, on loopback) with
 * every TypeScript module from the compile cache built into it.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuiltImage, buildImage, IMAGES } from '../../deploy/image/build.ts';
import { NODE_PATH, RUNTIME_UID } from '../../deploy/image/rootfs.ts';
import { freePort } from '../harness/ports.ts';

const work = mkdtempSync(join(tmpdir(), 'tokenplane-image-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Descriptor = { digest: string; annotations?: Record<string, string> };
type Layout = {
  index: { manifests: Descriptor[] };
  manifest: { config: Descriptor; layers: Descriptor[] };
  config: {
    config: { User: string; Env: string[]; Entrypoint: string[] };
    rootfs: { diff_ids: string[] };
  };
  layers: string[];
  dir: string;
};

function unpack(archive: string, dir: string): Layout {
  mkdirSync(dir, { recursive: true });
  execFileSync('tar', ['-xf', archive, '-C', dir]);
  const read = (path: string) => JSON.parse(readFileSync(join(dir, path), 'utf8'));
  const index = read('index.json');
  const manifest = read(`blobs/sha256/${index.manifests[0].digest.slice(7)}`);
  const config = read(`blobs/sha256/${manifest.config.digest.slice(7)}`);
  return {
    index,
    manifest,
    config,
    layers: manifest.layers.map((l: Descriptor) => l.digest),
    dir,
  };
}

const sha256 = (file: string) =>
  `sha256:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;

describe('npm run image (as root, like CI)', () => {
  let first: BuiltImage;
  let image: Layout;
  beforeAll(() => {
    first = buildImage(IMAGES.tokenplane, join(work, 'a'));
    image = unpack(first.archive, join(work, 'a/unpacked'));
  }, 600_000);

  it('writes an OCI layout and a Docker manifest over the same blobs, tagged tokenplane:<version>', () => {
    const { version } = JSON.parse(
      readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8'),
    );
    expect(first.archive).toMatch(new RegExp(`tokenplane-${version}\\.tar$`));
    expect(image.index.manifests[0].annotations?.['io.containerd.image.name']).toBe(
      `docker.io/library/tokenplane:${version}`,
    );
    const docker = JSON.parse(readFileSync(join(image.dir, 'manifest.json'), 'utf8'));
    expect(docker[0].RepoTags).toEqual([`tokenplane:${version}`]);
    expect(docker[0].Layers).toEqual(image.layers.map((d) => `blobs/sha256/${d.slice(7)}`));
    for (const digest of [...image.layers, image.manifest.config.digest, first.digest]) {
      expect(sha256(join(image.dir, 'blobs/sha256', digest.slice(7)))).toBe(digest);
    }
    expect(image.config.rootfs.diff_ids).toEqual(image.layers);
  });

  it('runs as the non-root user with no shell in the image', () => {
    expect(image.config.config.User).toBe(`${RUNTIME_UID}:${RUNTIME_UID}`);
    expect(image.config.config.Entrypoint).toEqual([NODE_PATH, 'bin/tokenplane.js']);
    const entries = image.layers.flatMap((d) =>
      execFileSync('tar', ['-tf', join(image.dir, 'blobs/sha256', d.slice(7))], {
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      }).split('\n'),
    );
    expect(entries.filter((e) => /^(usr\/)?bin\/(ba|da)?sh$/.test(e))).toEqual([]);
    expect(entries).toContain('nodejs/bin/node');
  });

  it('gives the runtime and application layers the same bytes when built again', () => {
    const again = unpack(
      buildImage(IMAGES.tokenplane, join(work, 'b')).archive,
      join(work, 'b/unpacked'),
    );
    // The third layer is V8's code cache, whose bytes differ from run to run.
    expect(again.layers.slice(0, 2)).toEqual(image.layers.slice(0, 2));
  }, 600_000);

  it("serves from the image's own files, as its user, with every module from the compile cache", async () => {
    const root = join(work, 'root');
    mkdirSync(root);
    for (const digest of image.layers)
      execFileSync('tar', ['-xf', join(image.dir, 'blobs/sha256', digest.slice(7)), '-C', root]);
    mkdirSync(join(root, 'data'));
    chownSync(join(root, 'data'), RUNTIME_UID, RUNTIME_UID);
    const port = await freePort();
    const imageEnv = Object.fromEntries(image.config.config.Env.map((e) => e.split('=')));
    const env = {
      ...imageEnv,
      // The host's PATH after the image's, so that chroot itself is found.
      PATH: `${imageEnv.PATH}:${process.env.PATH}`,
      NODE_DEBUG_NATIVE: 'COMPILE_CACHE',
    };
    const server = spawn(
      'chroot',
      [
        `--userspec=${RUNTIME_UID}:${RUNTIME_UID}`,
        root,
        NODE_PATH,
        '/app/bin/tokenplane.js',
        'serve',
        '--port',
        String(port),
        '--data-dir',
        '/data',
        '--log-format',
        'json',
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let log = '';
    server.stdout.on('data', (c) => (log += c));
    server.stderr.on('data', (c) => (log += c));
    try {
      let status = 0;
      for (let i = 0; i < 100 && status !== 200; i++) {
        status = await fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.status,
          () => 0,
        );
        if (status !== 200) await new Promise((r) => setTimeout(r, 200));
      }
      expect(status, log).toBe(200);
      const stripped = log.split('\n').filter((l) => l.includes('for StrippedTypeScript'));
      expect(stripped.length).toBeGreaterThan(20);
      expect(stripped.filter((l) => l.includes('reading cache') && !l.includes('success'))).toEqual(
        [],
      );
      expect(existsSync(join(root, 'data/admin-key'))).toBe(true);
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
  }, 120_000);

  it('builds the example application image the same way', () => {
    const example = buildImage(IMAGES.example, join(work, 'example'));
    const layout = unpack(example.archive, join(work, 'example/unpacked'));
    expect(layout.config.config.Entrypoint).toEqual([NODE_PATH, '/app/reporting.js']);
    expect(layout.config.config.User).toBe(`${RUNTIME_UID}:${RUNTIME_UID}`);
    // Same runtime layer as tokenplane's: one copy on a node.
    expect(layout.layers[0]).toBe(image.layers[0]);
    const run = spawnSync('chroot', [join(work, 'root'), NODE_PATH, '--version'], {
      encoding: 'utf8',
    });
    expect(run.stdout.trim()).toBe(process.version);
  }, 120_000);
});
