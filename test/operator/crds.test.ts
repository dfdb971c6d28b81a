// The CRDs on a real API server: structural schemas, defaults and the CEL rules
// refuse invalid objects with messages a person understands.
import { execFileSync } from 'node:child_process';
import { ApiException } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestNamespace, sharedControlPlane } from '../harness/kube.ts';
import { installCrds, resources } from './helpers.ts';

let ns = '';
let r: ReturnType<typeof resources>;
const uuid = '00000000-0000-4000-8000-000000000001';

beforeAll(async () => {
  await installCrds();
  ns = await createTestNamespace('op-crds');
  r = resources(ns);
});

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    const body = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
    expect(err.code).toBe(422);
    return String(body.message);
  }
  throw new Error('the API server accepted an invalid object');
}

describe('Entity CRD', () => {
  it('defaults tier, defaultToken and deletionPolicy', async () => {
    await r.entity('defaults', { kind: 'Customer', parentId: uuid });
    const e = await r.getEntity('defaults');
    expect(e?.spec).toMatchObject({ tier: 'Lite', defaultToken: true, deletionPolicy: 'Delete' });
  });

  it('refuses unknown enums, both parents, and a changed kind', async () => {
    expect(await refusal(r.entity('bad-tier', { kind: 'Customer', tier: 'Gold' }))).toMatch(
      /spec.tier.*Unsupported value: "Gold".*"Lite", "Advanced"/,
    );
    expect(
      await refusal(
        r.entity('two-parents', { kind: 'Customer', parentId: uuid, parentRef: { name: 'x' } }),
      ),
    ).toContain('set at most one of parentRef and parentId');
    await r.entity('fixed-kind', { kind: 'Reseller' });
    expect(await refusal(r.patchSpec('entities', 'fixed-kind', { kind: 'Customer' }))).toContain(
      'kind is immutable',
    );
    expect(
      await refusal(r.patchSpec('entities', 'fixed-kind', { parentRef: { name: 'someone' } })),
    ).toContain('the parent is immutable');
  });
});

describe('ApiToken CRD', () => {
  it('requires exactly one of entityRef and entityId', async () => {
    expect(await refusal(r.apiToken('none', {}))).toContain('set exactly one of entityRef');
    expect(
      await refusal(r.apiToken('both', { entityRef: { name: 'a' }, entityId: uuid })),
    ).toContain('set exactly one of entityRef');
  });

  it('refuses expiresAt with lifetime, renewBefore without or longer than lifetime, bad durations', async () => {
    const ref = { entityRef: { name: 'a' } };
    expect(
      await refusal(
        r.apiToken('both-expiry', { ...ref, expiresAt: '2030-01-01T00:00:00Z', lifetime: '720h' }),
      ),
    ).toContain('set at most one of expiresAt');
    expect(await refusal(r.apiToken('renew-only', { ...ref, renewBefore: '1h' }))).toContain(
      'renewBefore needs lifetime',
    );
    expect(
      await refusal(r.apiToken('renew-long', { ...ref, lifetime: '1h', renewBefore: '2h' })),
    ).toContain('renewBefore must be shorter than lifetime');
    expect(await refusal(r.apiToken('bad-duration', { ...ref, lifetime: '30 days' }))).toContain(
      'spec.lifetime',
    );
    expect(
      await refusal(r.apiToken('adopt-both', { ...ref, adoptDefaultToken: true, tokenId: uuid })),
    ).toContain('set at most one of adoptDefaultToken and tokenId');
    for (const target of [
      { kind: 'Deployment' },
      { kind: 'Deployment', name: 'web', selector: { matchLabels: { app: 'web' } } },
    ]) {
      expect(
        await refusal(r.apiToken('restart-target', { ...ref, rolloutRestartTargets: [target] })),
      ).toContain('set exactly one of name and selector');
    }
  });

  it('keeps the entity reference immutable', async () => {
    await r.apiToken('fixed-ref', { entityRef: { name: 'a' } });
    expect(
      await refusal(r.patchSpec('apitokens', 'fixed-ref', { entityRef: { name: 'b' } })),
    ).toContain('entityRef is immutable');
  });
});

describe.runIf(hasKubectl())('kubectl', () => {
  const kubectl = (...args: string[]) =>
    execFileSync('kubectl', ['--kubeconfig', sharedControlPlane().kubeconfigPath, ...args], {
      encoding: 'utf8',
    });

  it('`kubectl explain` describes the fields', () => {
    expect(kubectl('explain', 'apitoken.spec.renewBefore')).toContain(
      'Rotate this long before expiry',
    );
    expect(kubectl('explain', 'entity.spec.tier')).toContain('token quota');
  });

  it('`kubectl get` shows the printer columns and short names', () => {
    const header = kubectl('get', 'tptoken', '-n', ns).split('\n')[0] ?? '';
    for (const column of ['READY', 'ENTITY', 'SECRET', 'EXPIRES', 'AGE'])
      expect(header).toContain(column);
    expect(kubectl('get', 'tpent', '-n', ns).split('\n')[0]).toMatch(
      /READY\s+KIND\s+TIER\s+TOKENS\s+QUOTA\s+AGE/,
    );
  });
});

function hasKubectl(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
