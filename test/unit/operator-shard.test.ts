import { describe, expect, it } from 'vitest';
import { viewSecret } from '../../operator/controllers/secret.ts';
import { allOf, selectorKeys, shardLabels, shardLeaseName } from '../../operator/runtime/shard.ts';
import { keepCustomObject } from '../../operator/runtime/transforms.ts';

describe('shard selectors', () => {
  it('names the label keys of equality, set-based and existence requirements', () => {
    expect(selectorKeys('tokenplane.dev/shard=a')).toEqual(['tokenplane.dev/shard']);
    expect(selectorKeys('a=x, b!=y,c in (1,2),!d,e')).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('ANDs selectors and leaves out empty ones', () => {
    expect(allOf('app.kubernetes.io/managed-by=tokenplane', 'shard=a')).toBe(
      'app.kubernetes.io/managed-by=tokenplane,shard=a',
    );
    expect(allOf('m=t', undefined, ' ')).toBe('m=t');
    expect(allOf()).toBeUndefined();
  });

  it('gives each shard its own Lease, and the plain name without a shard', () => {
    expect(shardLeaseName('tokenplane-operator', undefined)).toBe('tokenplane-operator');
    const a = shardLeaseName('tokenplane-operator', 'tokenplane.dev/shard=a');
    expect(a).toBe('tokenplane-operator-tokenplane-dev-shard-a');
    expect(shardLeaseName('tokenplane-operator', 'tokenplane.dev/shard=b')).not.toBe(a);
  });

  it('carries only the shard keys the ApiToken has', () => {
    expect(shardLabels({ shard: 'a', team: 'x' }, ['shard', 'zone'])).toEqual({ shard: 'a' });
    expect(shardLabels(undefined, ['shard'])).toEqual({});
  });
});

describe('what the caches keep', () => {
  it('an object without managedFields, annotations or timestamps', () => {
    const kept = keepCustomObject<Record<string, unknown>>({
      apiVersion: 'tokenplane.dev/v1alpha1',
      kind: 'ApiToken',
      metadata: {
        name: 'ci',
        namespace: 'ns',
        uid: 'u',
        generation: 2,
        resourceVersion: '7',
        finalizers: ['tokenplane.dev/finalizer'],
        labels: { shard: 'a' },
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{…}' },
        creationTimestamp: new Date(),
        managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: {} }],
      },
      spec: { entityRef: { name: 'acme' } },
      status: { tokenId: 't' },
    } as never);
    expect(kept).toEqual({
      apiVersion: 'tokenplane.dev/v1alpha1',
      kind: 'ApiToken',
      metadata: {
        name: 'ci',
        namespace: 'ns',
        uid: 'u',
        generation: 2,
        resourceVersion: '7',
        finalizers: ['tokenplane.dev/finalizer'],
        labels: { shard: 'a' },
      },
      spec: { entityRef: { name: 'acme' } },
      status: { tokenId: 't' },
    });
  });

  it('a Secret as metadata and value digests, never the value', () => {
    const value = 'tpt_live_secretvalue';
    const view = viewSecret({
      metadata: { name: 's', namespace: 'ns', managedFields: [{ manager: 'op' }] },
      data: { token: Buffer.from(value).toString('base64') },
    });
    expect(Object.keys(view.metadata)).not.toContain('managedFields');
    expect(JSON.stringify(view)).not.toContain(value);
    expect(JSON.stringify(view)).not.toContain(Buffer.from(value).toString('base64'));
    expect(view.digests.token).toMatch(/^[0-9a-f]{16}$/);
  });
});
