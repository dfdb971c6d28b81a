import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { RefIndex } from '../../operator/controllers/ref-index.ts';
import { viewSecret } from '../../operator/controllers/secret.ts';
import { EventRecorder } from '../../operator/events.ts';
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
    const wanted = {
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
    };
    const served = structuredClone({
      ...wanted,
      metadata: {
        ...wanted.metadata,
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{…}' },
        creationTimestamp: new Date(),
        managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: {} }],
      },
    });
    expect(keepCustomObject(served)).toEqual(wanted);
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

describe('bounded per-object memory', () => {
  it('the dependents index follows re-pointed and deleted references', () => {
    const index = new RefIndex();
    index.set('ns', 'a', 'acme');
    index.set('ns', 'b', 'acme');
    index.set('other', 'c', 'acme');
    expect(index.of('ns', 'acme').sort()).toEqual(['a', 'b']);
    index.set('ns', 'b', 'globex');
    index.set('ns', 'a', undefined);
    expect(index.of('ns', 'acme')).toEqual([]);
    expect(index.of('ns', 'globex')).toEqual(['b']);
    expect(index.of('other', 'acme')).toEqual(['c']);
  });

  it('the Event recorder de-duplicates, and forgets the oldest past its bound', async () => {
    const sent: string[] = [];
    const api = {
      createNamespacedEvent: async ({ body }: { body: { regarding: { name: string } } }) => {
        sent.push(body.regarding.name);
      },
    };
    const events = new EventRecorder({
      api: api as never,
      instance: 'test',
      log: pino({ level: 'silent' }),
    });
    const obj = (name: string) => ({
      kind: 'ApiToken',
      metadata: { name, namespace: 'ns', uid: name },
    });
    events.normal(obj('first'), 'Created', 'Created platform token.');
    events.normal(obj('first'), 'Created', 'Created platform token.');
    await events.flush();
    expect(sent).toEqual(['first']);
    for (let i = 0; i < 10_000; i++) {
      events.normal(obj(`t${i}`), 'Created', 'Created platform token.');
      if (i % 500 === 0) await events.flush();
    }
    events.normal(obj('first'), 'Created', 'Created platform token.');
    await events.flush();
    expect(sent.filter((n) => n === 'first')).toHaveLength(2);
    events.normal(obj('t9999'), 'Created', 'Created platform token.');
    await events.flush();
    expect(sent.filter((n) => n === 't9999')).toHaveLength(1);
  });

  it('the Event recorder sends eight at a time, queues 1,000 and drops (and counts) the rest', async () => {
    const answers: Array<() => void> = [];
    let sent = 0;
    const api = {
      createNamespacedEvent: () =>
        new Promise<void>((resolve) => {
          sent++;
          answers.push(resolve);
        }),
    };
    let dropped = 0;
    const events = new EventRecorder({
      api: api as never,
      instance: 'test',
      log: pino({ level: 'silent' }),
      onDropped: () => dropped++,
    });
    for (let i = 0; i < 1500; i++)
      events.normal(
        { kind: 'ApiToken', metadata: { name: `t${i}`, namespace: 'ns', uid: `u${i}` } },
        'Created',
        'Created platform token.',
      );
    // The API server has answered nothing yet: eight requests out, a thousand waiting.
    expect(sent).toBe(8);
    expect(dropped).toBe(492);
    const flushed = events.flush();
    while (answers.length > 0) {
      for (const answer of answers.splice(0)) answer();
      await new Promise((r) => setImmediate(r));
    }
    await flushed;
    expect(sent).toBe(1008);
  });
});
