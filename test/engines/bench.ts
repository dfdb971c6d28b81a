// `npm run bench:engines`: how fast the real engines come up. Prints the
// control plane's start-to-ready time and the time of `pulumi up` (plus
// preview and destroy) for a one-resource program. Measurements only; the
// test suites assert no timings.
import * as pulumi from '@pulumi/pulumi';
import { startControlPlane } from '../harness/control-plane.ts';
import { pulumiTestEnv } from '../harness/pulumi.ts';

const runs = Number(process.argv[2] ?? 3);
const ms = (t0: number): number => Math.round(performance.now() - t0);
const summary = (xs: number[]): string =>
  `min ${Math.min(...xs)} ms, median ${[...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]} ms, max ${Math.max(...xs)} ms`;

const apiReady: number[] = [];
const ready: number[] = [];
const stop: number[] = [];
for (let i = 0; i < runs; i++) {
  const cp = await startControlPlane();
  apiReady.push(cp.apiServerReadyMs);
  ready.push(cp.startupMs);
  const t0 = performance.now();
  await cp.stop();
  stop.push(ms(t0));
}
console.log(`kube-apiserver start-to-ready (${runs} runs): ${summary(apiReady)}`);
console.log(
  `control plane start-to-ready, controller manager's garbage collector at work (${runs} runs): ${summary(ready)}; stop: ${summary(stop)}`,
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
