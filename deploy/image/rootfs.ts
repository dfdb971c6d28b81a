/**
 * The files of an image, laid out in a folder: the Node runtime (the binary of
 * the npm `node` package this checkout runs on, stripped of symbols, plus the
 * shared libraries it links — no shell, no package manager) and a non-root
 * user, then an application's files beside it.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The user every image runs as (distroless' `nonroot`, as deploy/Dockerfile). */
export const RUNTIME_UID = 65532;
export const NODE_PATH = '/nodejs/bin/node';

export function nodeBinary(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('node/package.json')), 'bin/node');
}

/** `/lib/…/libc.so.6`-style paths of every library `ldd` says the binary loads, the loader included. */
export function sharedLibraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const paths = new Set<string>();
  for (const line of out.split('\n')) {
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (match) paths.add(match[1]);
  }
  if (paths.size === 0) throw new Error(`ldd found no library for ${binary}: is it a dynamic ELF binary?`);
  return [...paths].sort();
}

function place(root: string, path: string, from: string): void {
  const target = join(root, path);
  mkdirSync(dirname(target), { recursive: true });
  // The real file, not a link: the image has no other copy to point at.
  copyFileSync(from, target);
}

/** Lays out the runtime under `root`; returns its top-level entries. */
export function layOutRuntime(root: string): string[] {
  const binary = nodeBinary();
  const node = join(root, NODE_PATH);
  mkdirSync(dirname(node), { recursive: true });
  execFileSync('strip', ['--strip-all', binary, '-o', node]);
  chmodSync(node, 0o755);
  for (const library of sharedLibraries(binary)) place(root, library, library);
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc/passwd'), `root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:${RUNTIME_UID}:${RUNTIME_UID}:nonroot:/home/nonroot:/sbin/nologin\n`);
  writeFileSync(join(root, 'etc/group'), `root:x:0:\nnonroot:x:${RUNTIME_UID}:\n`);
  mkdirSync(join(root, 'home/nonroot'), { recursive: true });
  return ['etc', 'home', 'lib', 'lib64', 'nodejs', 'usr'].filter((entry) => existsSync(join(root, entry)));
}
