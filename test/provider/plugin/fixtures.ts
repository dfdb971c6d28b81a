// Shared set-up of the provider plugin suites: a real platform, the plugin built
// from the sources, the real pulumi CLI with its language hosts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { TokenplaneClient } from '../../../core/client/index.ts';
import { startServer } from '../../../platform/main.ts';
import { type PluginTestEnv, pluginTestEnv } from '../../harness/plugin.ts';

export type PluginFixture = {
  server: Awaited<ReturnType<typeof startServer>>;
  env: PluginTestEnv;
  client: TokenplaneClient;
  settings: { endpoint: string; apiKey: string };
};

/** One fixture for the whole file, started before its tests and closed after them. */
export function usePluginFixture(): () => PluginFixture {
  let f: PluginFixture | undefined;
  let dataDir = '';
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tokenplane-plugin-platform-'));
    const server = await startServer({ port: 0, dataDir, logger: false, env: {} });
    const env = await pluginTestEnv();
    const client = new TokenplaneClient({ endpoint: server.url, apiKey: server.adminKey });
    f = { server, env, client, settings: { endpoint: server.url, apiKey: server.adminKey } };
  }, 180_000);
  afterAll(async () => {
    await f?.client.close();
    await f?.env.cleanup();
    await f?.server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return () => f as PluginFixture;
}
