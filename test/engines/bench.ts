// `npm run bench:engines`: how fast the real engines come up. Prints the
// control plane's start-to-ready time (beside etcd + kube-apiserver alone, the
// same run's baseline) and the time of `pulumi up` (plus
// preview and destroy) for a one-resource program. Measurements only; the
// test suites assert no timings.
import * as pulumi from '@pulumi/pulumi';
import { startControlPlane } from '../harness/control-plane.ts';
import { pulumiTestEnv } from '../harness/pulumi.ts';

const runs = Number(process.argv[2] ?? 3);
const ms = (t0: number): number => Math.round(performance.now() - t0);
const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const summary = (xs: number[]): string =>
  `min ${Math.min(...xs)} ms, median ${median(xs)} ms, max ${Math.max(...xs)} ms`;

// Baseline in the same run: etcd + kube-apiserver alone (what the control
// plane was before kube-controller-manager), interleaved with the full one.
const baseline: number[] = [];
const apiReady: number[] = [];
const ready: number[] = [];
const stop: number[] = [];
for (let i = 0; i < runs; i++) {
  const bare = await startControlPlane({ controllerManager: false });
  baseline.push(bare.startupMs);
  await bare.stop();
  const cp = await startControlPlane();
  apiReady.push(cp.apiServerReadyMs);
  ready.push(cp.startupMs);
  const t0 = performance.now();
  await cp.stop();
  stop.push(ms(t0));
}
console.log(
  `etcd + kube-apiserver alone, start-to-ready (${runs} runs, baseline): ${summary(baseline)}`,
);
console.log(
  `kube-apiserver start-to-ready, full control plane (${runs} runs): ${summary(apiReady)}`,
);
console.log(
  `control plane start-to-ready, controller manager's garbage collector at work (${runs} runs): ${summary(ready)}; stop: ${summary(stop)}`,
);
console.log(
  `full control plane vs baseline: ${(median(ready) / median(baseline)).toFixed(2)}× (+${median(ready) - median(baseline)} ms median)`,
);

const provider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: { n: number }) {
    return { id: `thing-${inputs.n}`, outs: inputs };
  },
};
class Thing extends pulumi.dynamic.Resource {}
const times: Record<string, number[]> = { up: [], preview: [], destroy: [] };
for (let i = 0; i < runs; i++) {
  const env = await pulumiTestEnv();
  try {
    const stack = await env.inlineStack({
      projectName: 'bench',
      stackName: 'dev',
      program: async () => {
        new Thing(provider, 'thing', { n: 1 });
      },
    });
    let t0 = performance.now();
    await stack.up();
    times.up?.push(ms(t0));
    t0 = performance.now();
    await stack.preview();
    times.preview?.push(ms(t0));
    t0 = performance.now();
    await stack.destroy();
    times.destroy?.push(ms(t0));
  } finally {
    await env.cleanup();
  }
}
for (const [op, xs] of Object.entries(times)) {
  console.log(`pulumi ${op}, one dynamic resource (${runs} runs): ${summary(xs)}`);
}
