/**
 * schemathesis 4 (every check: response conformance, negative data,
 * use-after-free, resource availability, missing headers, ignored auth,
 * unsupported methods…) against a platform of its own — its stateful phase
 * creates and deletes objects — once with the administrator key on the
 * management routes, once with an API token on the analytics routes. A fixed
 * seed and a bounded number of examples keep each run to a minute or two.
 * Settings (and why each expected status is expected) in schemathesis.toml.
 *
 * The fuzzer invents webhook URLs: the platform runs, as every test server
 * does, with webhook egress `allowlist` and loopback alone (README "Lifecycle events, leak response, revocation across servers"), in this
 * process, where the last test checks that it looked no name up and connected
 * to nothing outside loopback (test/harness/egress.ts).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Egress, observeEgress } from '../harness/egress.ts';
import { ensureSchemathesis, schemathesis } from '../harness/schemathesis.ts';
import { type Platform, startPlatform } from './helpers.ts';

const CONFIG = join(import.meta.dirname, 'schemathesis.toml');
// Every check is on by default (schemathesis.toml adjusts a few, per operation).
const COMMON = ['--seed', '42', '--max-examples', '15', '--workers', '1'];

describe('schemathesis finds nothing', () => {
  let p: Platform;
  let token: string;
  let egress: Egress;
  beforeAll(async () => {
    await ensureSchemathesis();
    egress = observeEgress();
    p = await startPlatform('sqlite', { logLevel: 'warn' });
    const e = await p.api.post('/v1/entities', {
      name: 'Fuzzed',
      kind: 'reseller',
      tier: 'advanced',
    });
    token = e.body.defaultToken.value;
  }, 900_000);
  afterAll(async () => {
    egress?.stop();
    await p?.close();
  });

  it('with the administrator key on the management routes', async () => {
    const run = await schemathesis(CONFIG, [
      `${p.server.url}/openapi.json`,
      ...COMMON,
      '--header',
      `Authorization: Bearer ${p.server.adminKey}`,
      '--exclude-path-regex',
      '^/(v1/analytics/.*|metrics|healthz|readyz|openapi\\.json)$',
    ]);
    expect(run.output).not.toContain(p.server.adminKey);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/No issues found|passed/);
  }, 600_000);

  it('with an API token on the analytics routes', async () => {
    const run = await schemathesis(CONFIG, [
      `${p.server.url}/openapi.json`,
      ...COMMON,
      '--header',
      `Authorization: Bearer ${token}`,
      '--include-path-regex',
      '^/v1/analytics/',
    ]);
    expect(run.output).not.toContain(token);
    expect(run.code, run.output).toBe(0);
  }, 600_000);

  it('reaching nothing outside the machine: no name looked up, no connection beyond loopback', () => {
    expect(egress.lookups()).toEqual([]);
    expect(egress.outside()).toEqual([]);
    expect(egress.connections()).toContain(`127.0.0.1:${p.server.port}`);
  });
});
