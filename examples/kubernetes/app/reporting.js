// The example application of examples/kubernetes/app.yaml: every INTERVAL_SECONDS
// it reads the token and endpoint the operator mounted (a Secret volume, so a
// rotation reaches the file without a restart), calls the platform, and logs the
// status with the token's hint — the platform's own `tpt_…abcd`, never the value.
import { readFileSync } from 'node:fs';

const dir = process.env.TOKEN_DIR ?? '/var/run/tokenplane';
const interval = Number(process.env.INTERVAL_SECONDS ?? 60) * 1000;

function hint(value) {
  return `${value.slice(0, value.indexOf('_') + 1)}…${value.slice(-4)}`;
}

async function call() {
  const token = readFileSync(`${dir}/token`, 'utf8').trim();
  const endpoint = readFileSync(`${dir}/endpoint`, 'utf8').trim();
  try {
    const res = await fetch(`${endpoint}/v1/analytics/metrics`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer();
    console.log(`${res.status} ${hint(token)}`);
  } catch (error) {
    console.log(`request failed ${hint(token)}: ${error.cause?.code ?? error.message}`);
  }
}

for (;;) {
  await call();
  await new Promise((resolve) => setTimeout(resolve, interval));
}
