// Wall and CPU time of `pulumi up` for two inline programs, measured in the same
// run (bench:provider, bench:pulumi-k8s). Rounds alternate so that machine noise
// hits both sides; the figures are medians (the machine is shared), also of each
// round's own ratio. CPU seconds are printed too, being less sensitive to other
// load than wall time: of the pulumi CLI and its plugins (reaped children, Linux
// /proc), and of this process (the inline program and the platform server).
// Each round's stacks are destroyed after they are measured.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PulumiFn, Stack } from '@pulumi/pulumi/automation/index.js';
import { startServer } from '../platform/main.ts';
import type { PulumiTestEnv } from '../test/harness/pulumi.ts';

/** A platform in a temporary directory whose `bulk` tier holds `tokens` tokens; close() removes it. */
export async function benchPlatform(tokens: number) {
  const dataDir = mkdtempSync(join(tmpdir(), 'tokenplane-bench-'));
  const server = await startServer({
    port: 0,
    dataDir,
    logger: false,
    env: {},
    tiers: [
      { name: 'lite', rank: 0, tokenQuota: 1 },
      { name: 'advanced', rank: 1, tokenQuota: 5 },
      { name: 'bulk', rank: 2, tokenQuota: tokens },
    ],
  });
  return {
    url: server.url,
    adminKey: server.adminKey,
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type Comparison = {
  /** The program measured against, and the program of interest. */
  baseline: { name: string; program: PulumiFn };
  subject: { name: string; program: PulumiFn };
  rounds: number;
  /** What one up does, for the log lines: "up of 101 resources". */
  describe: string;
  /** Printed with the ratio: "(target ≤ 1.5×)". */
  target?: string;
  /** Settings of each new stack (stack config). */
  configure?: (stack: Stack) => Promise<void>;
};

/** CPU seconds of terminated, waited-for children (cutime + cstime), where /proc has them. */
function childrenCpu(): number {
  if (!existsSync('/proc/self/stat')) return Number.NaN;
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export async function compareUps(env: PulumiTestEnv, c: Comparison): Promise<void> {
  const sides = [c.baseline, c.subject];
  const width = Math.max(...sides.map((s) => s.name.length)) + 1;
  const times = sides.map(() => [] as number[]);
  const cpu = sides.map(() => [] as number[]);
  for (let round = 0; round < c.rounds; round++) {
    for (const [i, side] of sides.entries()) {
      const stack = await env.inlineStack({
        projectName: 'bench',
        stackName: `${side.name}-${round}`,
        program: side.program,
      });
      await c.configure?.(stack);
      const children = childrenCpu();
      const self = process.cpuUsage();
      const start = performance.now();
      const result = await stack.up();
      const seconds = (performance.now() - start) / 1000;
      if (result.summary.result !== 'succeeded') throw new Error(`${side.name} up failed`);
      const pulumiCpu = childrenCpu() - children;
      const used = process.cpuUsage(self);
      const selfCpu = (used.user + used.system) / 1e6;
      times[i]?.push(seconds);
      cpu[i]?.push(pulumiCpu + selfCpu);
      console.log(
        `round ${round + 1} ${side.name.padEnd(width)} ${c.describe}: ${seconds.toFixed(2)} s ` +
          `(CPU: pulumi and plugins ${pulumiCpu.toFixed(2)} s, program and platform ${selfCpu.toFixed(2)} s)`,
      );
      await stack.destroy();
    }
  }
  const [baseTimes = [], subjectTimes = []] = times;
  const [baseCpu = [], subjectCpu = []] = cpu;
  const base = median(baseTimes);
  const seconds = median(subjectTimes);
  const paired = median(subjectTimes.map((t, i) => t / (baseTimes[i] as number)));
  console.log(
    `median of ${c.rounds} rounds: ${c.baseline.name} ${base.toFixed(2)} s, ${c.subject.name} ` +
      `${seconds.toFixed(2)} s, ratio ${(seconds / base).toFixed(2)}×; median of the rounds' ratios ` +
      `${paired.toFixed(2)}×${c.target ? ` ${c.target}` : ''}`,
  );
  const cpuBase = median(baseCpu);
  const cpuSubject = median(subjectCpu);
  console.log(
    `median CPU: ${c.baseline.name} ${cpuBase.toFixed(2)} s, ${c.subject.name} ` +
      `${cpuSubject.toFixed(2)} s, ratio ${(cpuSubject / cpuBase).toFixed(2)}×`,
  );
}
