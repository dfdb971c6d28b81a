import { defineConfig } from 'vitest/config';

// Every suite runs against real engines (loopback HTTP, SQLite, PostgreSQL,
// kube-apiserver + etcd, the pulumi CLI), so timeouts are generous and files
// run in parallel only as far as two cores allow.
//
// Three projects (`vitest run --project kube` runs one):
// - kube:   suites that need a Kubernetes control plane. One etcd +
//           kube-apiserver + kube-controller-manager is started for the whole run by
//           test/harness/kube-global-setup.ts; tests get it with
//           `inject('kubeconfig')` etc. (see test/engines/README.md).
// - pulumi: suites that drive the pulumi CLI (test/harness/pulumi.ts).
// - unit:   everything else under test/.
// The kube and pulumi global setups build missing engines first (same cache
// and pins as `npm run engines`, progress on stderr; nothing to do when cached).
const kube = [
  'test/kube/**/*.test.ts',
  'test/operator/**/*.test.ts',
  'test/node/**/*.test.ts',
  // promtool, helm and a real Prometheus scraping a real operator (engines built by the global setup)
  'test/observability/**/*.test.ts',
];
const pulumi = ['test/pulumi/**/*.test.ts', 'test/provider/**/*.test.ts', 'test/demo/**/*.test.ts'];

export default defineConfig({
  // `import 'tokenplane'` (examples/pulumi) resolves to the TypeScript sources
  // through the package's "tokenplane-source" export condition (see
  // tsconfig.build.json); the rest are Vitest's default server conditions.
  ssr: { resolve: { conditions: ['tokenplane-source', 'node', 'development|production'] } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['**/node_modules/**', ...kube, ...pulumi],
        },
      },
      {
        extends: true,
        test: { name: 'kube', include: kube, globalSetup: ['test/harness/kube-global-setup.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'pulumi',
          // Each step is a pulumi run (CLI, plugins, program): headroom for a busy machine.
          testTimeout: 180_000,
          include: pulumi,
          globalSetup: ['test/harness/pulumi-global-setup.ts'],
        },
      },
    ],
  },
});
