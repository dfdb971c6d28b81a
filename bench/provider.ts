// `npm run bench:provider`: wall time of `pulumi up` for a program with 100
// ApiTokens (one Entity of a 100-token tier) against the same program made of a
// no-op dynamic resource, with the real CLI, file backend and a real platform.
// Target: ratio ≤ 1.5×. Rounds alternate so that machine noise hits both sides;
// the figures are medians (the machine is shared), also of each round's own ratio.
// CPU seconds are printed too, being less sensitive to other load than wall time:
// of the pulumi CLI and its plugins (reaped children, Linux /proc), and of this
// process (the inline program and the platform server).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { startServer } from '../platform/server/app.ts';
import { ApiToken, Entity } from '../provider/index.ts';
import { pulumiTestEnv } from '../test/harness/pulumi.ts';

const TOKENS = Number(process.env.BENCH_TOKENS ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const noop: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    return { id: `${inputs.name}-${Date.now()}`, outs: inputs };
  },
};

class Noop extends pulumi.dynamic.Resource {
  constructor(name: string, props: Record<string, unknown>) {
    super(noop, name, { name, ...props }, {}, 'bench', 'Noop');
  }
}

const dataDir = mkdtempSync(join(tmpdir(), 'tokenplane-bench-'));
const server = await startServer({
  port: 0,
  dataDir,
  logger: false,
  env: {},
  tiers: [
    { name: 'lite', rank: 0, tokenQuota: 1 },
    { name: 'advanced', rank: 1, tokenQuota: 5 },
    { name: 'bulk', rank: 2, tokenQuota: TOKENS },
  ],
});
const env = await pulumiTestEnv({
  envVars: { TOKENPLANE_ENDPOINT: server.url, TOKENPLANE_API_KEY: server.adminKey },
});

const programs = {
  noop: async () => {
    const entity = new Noop('entity', { displayName: 'Bench', kind: 'reseller', tier: 'bulk' });
    for (let i = 0; i < TOKENS; i++) {
      new Noop(`token-${i}`, { entityId: entity.id, displayName: `token ${i}` });
    }
  },
  tokenplane: async () => {
    const entity = new Entity('entity', {
      displayName: 'Bench',
      kind: 'reseller',
      tier: 'bulk',
      defaultToken: false,
    });
    for (let i = 0; i < TOKENS; i++) {
      new ApiToken(`token-${i}`, { entityId: entity.entityId, displayName: `token ${i}` });
    }
  },
};

/** CPU seconds of terminated, waited-for children (cutime + cstime), where /proc has them. */
function childrenCpu(): number {
  if (!existsSync('/proc/self/stat')) return Number.NaN;
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

const times: Record<keyof typeof programs, number[]> = { noop: [], tokenplane: [] };
const cpu: Record<keyof typeof programs, number[]> = { noop: [], tokenplane: [] };
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of ['noop', 'tokenplane'] as const) {
      const stack = await env.inlineStack({
        projectName: 'bench',
        stackName: `${kind}-${round}`,
        program: programs[kind],
      });
      const children = childrenCpu();
      const self = process.cpuUsage();
      const start = performance.now();
      const result = await stack.up();
      const seconds = (performance.now() - start) / 1000;
      if (result.summary.result !== 'succeeded') throw new Error(`${kind} up failed`);
      const pulumiCpu = childrenCpu() - children;
      const used = process.cpuUsage(self);
      const selfCpu = (used.user + used.system) / 1e6;
      times[kind].push(seconds);
      cpu[kind].push(pulumiCpu + selfCpu);
      console.log(
        `round ${round + 1} ${kind.padEnd(10)} up of ${TOKENS + 1} resources: ${seconds.toFixed(2)} s ` +
          `(CPU: pulumi and plugins ${pulumiCpu.toFixed(2)} s, program and platform ${selfCpu.toFixed(2)} s)`,
      );
      await stack.destroy();
    }
  }
  const median = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2
      ? (sorted[mid] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  };
  const noop = median(times.noop);
  const tokenplane = median(times.tokenplane);
  const paired = median(times.tokenplane.map((t, i) => t / (times.noop[i] as number)));
  console.log(
    `median of ${ROUNDS} rounds: noop ${noop.toFixed(2)} s, tokenplane ${tokenplane.toFixed(2)} s, ` +
      `ratio ${(tokenplane / noop).toFixed(2)}×; median of the rounds' ratios ${paired.toFixed(2)}× ` +
      '(target ≤ 1.5×)',
  );
  const cpuNoop = median(cpu.noop);
  const cpuTokenplane = median(cpu.tokenplane);
  console.log(
    `median CPU: noop ${cpuNoop.toFixed(2)} s, tokenplane ${cpuTokenplane.toFixed(2)} s, ` +
      `ratio ${(cpuTokenplane / cpuNoop).toFixed(2)}×`,
  );
} finally {
  await env.cleanup();
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}
