/**
 * An image archive without a Docker engine: layers are tar files written by
 * GNU tar with fixed order, times and owners (so the same inputs give the same
 * digests), and the archive holds both an OCI image layout (`index.json`,
 * `blobs/sha256/…`, what `ctr images import` reads) and Docker's
 * `manifest.json` pointing at the same blobs (what `podman load` and
 * `docker load` read).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type LayerSpec = {
  /** Folder whose `paths` become the layer's entries (relative names). */
  root: string;
  paths: string[];
  /** Numeric owner of every entry: 0 for the system, the runtime user for what it writes. */
  owner: number;
  /** One line for the image's history. */
  createdBy: string;
};

export type ImageSpec = {
  name: string;
  tag: string;
  layers: LayerSpec[];
  /** Seconds since the epoch for every entry's mtime and the config's `created`. */
  epoch: number;
  config: {
    User: string;
    Env: string[];
    Entrypoint: string[];
    Cmd?: string[];
    WorkingDir: string;
    Labels: Record<string, string>;
  };
};

type Blob = { digest: string; size: number; file: string };

/** GNU tar with everything that varies between machines pinned. */
function tarArgs(epoch: number, owner: number): string[] {
  return [
    '--create',
    '--sort=name',
    '--format=posix',
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
    `--mtime=@${epoch}`,
    '--clamp-mtime',
    `--owner=${owner}`,
    `--group=${owner}`,
    '--numeric-owner',
    // The umask of the machine that built the tree must not show.
    '--mode=u+rwX,go+rX,go-w',
  ];
}

function writeBlob(blobs: string, data: Buffer): Blob {
  const digest = createHash('sha256').update(data).digest('hex');
  const file = join(blobs, digest);
  writeFileSync(file, data);
  return { digest: `sha256:${digest}`, size: data.length, file: `blobs/sha256/${digest}` };
}

function writeLayer(blobs: string, layer: LayerSpec, epoch: number): Blob {
  const tmp = join(blobs, 'layer.tar');
  execFileSync('tar', [
    ...tarArgs(epoch, layer.owner),
    '--file',
    tmp,
    '--directory',
    layer.root,
    ...layer.paths,
  ]);
  const data = readFileSync(tmp);
  const digest = createHash('sha256').update(data).digest('hex');
  renameSync(tmp, join(blobs, digest));
  return { digest: `sha256:${digest}`, size: data.length, file: `blobs/sha256/${digest}` };
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

/** `tokenplane:1` → `docker.io/library/tokenplane:1`, as a container runtime spells a short name. */
export function qualified(reference: string): string {
  const [first, ...rest] = reference.split('/');
  if (rest.length > 0 && (/[.:]/.test(first ?? '') || first === 'localhost')) return reference;
  return rest.length > 0 ? `docker.io/${reference}` : `docker.io/library/${reference}`;
}

/** Writes `out` (a .tar) and returns the manifest's digest. */
export function writeImageArchive(spec: ImageSpec, staging: string, out: string): string {
  const blobs = join(staging, 'blobs/sha256');
  mkdirSync(blobs, { recursive: true });
  const layers = spec.layers.map((layer) => writeLayer(blobs, layer, spec.epoch));
  const created = new Date(spec.epoch * 1000).toISOString();
  const config = writeBlob(
    blobs,
    json({
      created,
      architecture: 'amd64',
      os: 'linux',
      config: spec.config,
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      history: spec.layers.map((l) => ({ created, created_by: l.createdBy })),
    }),
  );
  const manifest = writeBlob(
    blobs,
    json({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
      layers: layers.map((l) => ({
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        digest: l.digest,
        size: l.size,
      })),
    }),
  );
  const reference = `${spec.name}:${spec.tag}`;
  writeFileSync(join(staging, 'oci-layout'), json({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(staging, 'index.json'),
    json({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: manifest.digest,
          size: manifest.size,
          annotations: {
            // containerd names the image after this, fully qualified.
            'io.containerd.image.name': qualified(reference),
            'org.opencontainers.image.ref.name': spec.tag,
          },
        },
      ],
    }),
  );
  writeFileSync(
    join(staging, 'manifest.json'),
    json([{ Config: config.file, RepoTags: [reference], Layers: layers.map((l) => l.file) }]),
  );
  execFileSync('tar', [
    ...tarArgs(spec.epoch, 0),
    '--file',
    out,
    '--directory',
    staging,
    'oci-layout',
    'index.json',
    'manifest.json',
    'blobs',
  ]);
  return manifest.digest;
}
