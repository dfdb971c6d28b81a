/**
 * `npm run cluster -- --kubeconfig PATH` (as root): a local one-node cluster
 * from the test engines (test/harness/node.ts) in a network namespace of its
 * own, with the images of `npm run image` imported (built first when missing).
 * Writes an administrator kubeconfig to PATH (the API server through a relay on
 * this machine's loopback), prints `cluster ready`, and runs until SIGINT or
 * SIGTERM, then removes everything it made.
 *
 *   npm run cluster -- --kubeconfig /tmp/kubeconfig &
 *   helm install tokenplane deploy/helm/tokenplane --kubeconfig /tmp/kubeconfig \
 *     --set image.repository=tokenplane --set image.tag=0.1.0 --set image.pullPolicy=Never --wait
 */
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildImage, IMAGES } from '../deploy/image/build.ts';
import { ensureEngines } from '../test/engines/ensure.ts';
import { NODE_ENGINES, startCluster } from '../test/harness/node.ts';

const { values } = parseArgs({ options: { kubeconfig: { type: 'string' } } });
if (!values.kubeconfig) {
  process.stderr.write('usage: npm run cluster -- --kubeconfig PATH\n');
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  process.stderr.write('npm run cluster: run as root (network namespace, containerd, kubelet)\n');
  process.exit(2);
}
await ensureEngines(['kube-apiserver', 'kube-controller-manager', 'etcd', ...NODE_ENGINES]);
const { version } = await import('../package.json', { with: { type: 'json' } }).then(
  (m) => m.default,
);
const images = Object.entries(IMAGES).map(([name, make]) => {
  const archive = join(
    import.meta.dirname,
    '../dist/image',
    `${name === 'tokenplane' ? 'tokenplane' : `tokenplane-${name}`}-${version}.tar`,
  );
  if (!existsSync(archive))
    process.stdout.write(
      `built ${buildImage(make, join(import.meta.dirname, '../dist/image')).reference}\n`,
    );
  return archive;
});
const cluster = await startCluster({ images });
copyFileSync(cluster.kubeconfigPath, values.kubeconfig);
process.stdout.write(
  `cluster ready (node Ready in ${(cluster.readyMs / 1000).toFixed(1)} s); kubeconfig: ${values.kubeconfig}\n`,
);
// Ctrl-C or SIGTERM: the harness puts the host back (atProcessEnd), then this exits.
await new Promise<void>((resolve) => {
  process.once('SIGINT', resolve);
  process.once('SIGTERM', resolve);
});
await cluster.stop();
process.stdout.write('cluster stopped, everything removed\n');
