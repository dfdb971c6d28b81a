import { defineConfig } from 'vitest/config';

// Every suite runs against real engines (loopback HTTP, SQLite, PostgreSQL,
// kube-apiserver + etcd, the pulumi CLI), so timeouts are generous and files
// run in parallel only as far as two cores allow.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
