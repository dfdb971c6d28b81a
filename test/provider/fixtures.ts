// Shared set-up of the provider suites: a real platform server, a real pulumi
// CLI environment (file backend, isolated home), and a client to look at the
// platform from the outside.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OutputMap } from '@pulumi/pulumi/automation/index.js';
import { afterAll, beforeAll } from 'vitest';
import { TokenplaneClient } from '../../core/client/index.ts';
import { startServer } from '../../platform/main.ts';
import { Entity } from '../../provider/index.ts';
import { type PulumiTestEnv, type PulumiTestEnvOptions, pulumiTestEnv } from '../harness/pulumi.ts';

/** An advanced customer without a default token, for stacks that declare their own tokens. */
export const advancedCustomer = (name = 'shop', displayName = 'Shop') =>
  new Entity(name, { displayName, kind: 'customer', tier: 'advanced', defaultToken: false });

export type Fixture = {
  server: Awaited<ReturnType<typeof startServer>>;
  env: PulumiTestEnv;
  client: TokenplaneClient;
  close(): Promise<void>;
};

export async function fixture(opts: PulumiTestEnvOptions = {}): Promise<Fixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tokenplane-provider-'));
  const server = await startServer({ port: 0, dataDir, logger: false, env: {} });
  const env = await pulumiTestEnv(opts);
  const client = new TokenplaneClient({ endpoint: server.url, apiKey: server.adminKey });
  return {
    server,
    env,
    client,
    async close() {
      await client.close();
      await env.cleanup();
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** One fixture for the whole file, started before its tests and closed after them. */
export function useFixture(opts: PulumiTestEnvOptions = {}): () => Fixture {
  let f: Fixture | undefined;
  beforeAll(async () => {
    f = await fixture(opts);
  }, 180_000);
  afterAll(async () => {
    await f?.close();
  });
  return () => f as Fixture;
}

/** Secret outputs of an `up`, in plain text (the Automation API decrypts them). */
export function secretValues(outputs: OutputMap): string[] {
  const values: string[] = [];
  for (const output of Object.values(outputs)) {
    if (output.secret) collectStrings(output.value, values);
  }
  return values;
}

function collectStrings(value: unknown, into: string[]): void {
  if (typeof value === 'string') into.push(value);
  else if (Array.isArray(value)) for (const v of value) collectStrings(v, into);
  else if (value && typeof value === 'object')
    for (const v of Object.values(value)) collectStrings(v, into);
}

/** Every file below `dir` that contains one of `needles`, with the needle's index. */
export function filesContaining(dir: string, needles: readonly string[]): string[] {
  const hits: string[] = [];
  const walk = (path: string) => {
    for (const name of readdirSync(path)) {
      const full = join(path, name);
      const st = statSync(full, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) {
        // The node_modules link of the work directory is the repository's own.
        if (name !== 'node_modules') walk(full);
      } else if (st.isFile()) {
        const text = readFileSync(full).toString('latin1');
        needles.forEach((needle, i) => {
          if (text.includes(needle)) hits.push(`${full} contains secret #${i}`);
        });
      }
    }
  };
  walk(dir);
  return hits;
}

/** Every entity on the platform, and every token of each. */
export async function platformSnapshot(client: TokenplaneClient) {
  // Without parentId the administrator lists every entity.
  const entities = await client.listAllEntities();
  const tokens = (await Promise.all(entities.map((e) => client.listAllTokens(e.id)))).flat();
  return { entities, tokens };
}
