// Fakes for the reconcilers and their stages (after Crossplane's tests: fakes
// are object literals): an in-memory platform behind the real externals and
// planners, a Kubernetes that records each call, caches that are plain maps.
import type { V1Secret } from '@kubernetes/client-node';
import pino from 'pino';
import {
  IdempotencyGoneError,
  NotFoundError,
  type TokenplaneClient,
} from '../../core/client/index.ts';
import { TierTable } from '../../core/domain/index.ts';
import { problemType } from '../../core/domain/problems.ts';
import { EntityExternal, TokenExternal } from '../../core/external/index.ts';
import type { Entity, Token } from '../../core/schemas/index.ts';
import type { Context } from '../../operator/controllers/context.ts';
import { viewSecret } from '../../operator/controllers/secret.ts';
import { Triggers } from '../../operator/controllers/triggers.ts';
import type { ApiTokenObject, EntityObject } from '../../operator/crds/schemas.ts';
import { createMetrics } from '../../operator/runtime/metrics.ts';
import { tokenBody } from '../client/loopback.ts';

export const NS = 'ns';
export const ENTITY = '00000000-0000-4000-8000-0000000000e1';
export const OTHER = '00000000-0000-4000-8000-0000000000e2';
export const at = '2026-01-01T00:00:00.000Z';

const notFound = (path: string) =>
  new NotFoundError({
    status: 404,
    problem: { type: problemType('not-found'), title: 'Not Found', status: 404 },
    method: 'GET',
    path,
  });

/** The platform's 410 to a replayed create or rotation whose result is gone. */
export const gone = (extensions: Record<string, string>) =>
  new IdempotencyGoneError({
    status: 410,
    problem: {
      type: problemType('idempotency-gone'),
      title: 'Gone',
      status: 410,
      detail: 'gone since',
      ...extensions,
    },
    method: 'POST',
    path: '/v1/…',
  });

/** An in-memory platform: the calls the externals make, and a record of them. */
export function fakePlatform() {
  const tokens = new Map<string, Token & { value: string }>();
  const entities = new Map<string, Entity>();
  const calls: string[] = [];
  let n = 0;
  const newToken = (entityId: string, name: string, over: Partial<Token> = {}) => {
    const id = `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
    const token = {
      ...(tokenBody({ id, entityId, name, hint: `tpt_…${n}` }) as Token),
      expiresAt: '2027-01-01T00:00:00.000Z',
      value: `tpt_value_${n}`,
      ...over,
    };
    tokens.set(id, token);
    return token;
  };
  const plain = ({ value: _, ...token }: Token & { value: string }): Token => token;
  const client = {
    async getToken(id: string) {
      calls.push('getToken');
      const t = tokens.get(id);
      if (!t) throw notFound(`/v1/tokens/${id}`);
      return plain(t);
    },
    async listAllTokens(entityId: string) {
      calls.push('listAllTokens');
      return [...tokens.values()].filter((t) => t.entityId === entityId).map(plain);
    },
    async createToken(entityId: string, req: { name: string }, opts: { idempotencyKey: string }) {
      calls.push(`createToken ${opts.idempotencyKey}`);
      return { ...newToken(entityId, req.name) };
    },
    async updateToken(id: string, patch: Partial<Token>) {
      calls.push(`updateToken ${Object.keys(patch).join(',')}`);
      const t = { ...(tokens.get(id) as Token & { value: string }), ...patch };
      tokens.set(id, t);
      return plain(t);
    },
    async rotateToken(id: string, _req: object, opts: { idempotencyKey: string }) {
      calls.push(`rotateToken ${opts.idempotencyKey}`);
      const t = tokens.get(id) as Token & { value: string };
      const rotated = { ...t, value: `${t.value}-rotated`, hint: `${t.hint}r` };
      tokens.set(id, rotated);
      return { ...rotated };
    },
    async revealToken(id: string) {
      calls.push('revealToken');
      return (tokens.get(id) as { value: string }).value;
    },
    async getEntity(id: string) {
      calls.push('getEntity');
      const e = entities.get(id);
      if (!e) throw notFound(`/v1/entities/${id}`);
      return e;
    },
    async createEntity(req: {
      name: string;
      kind: Entity['kind'];
      tier: string;
      parentId?: string;
    }) {
      calls.push('createEntity');
      const e: Entity = {
        id: ENTITY,
        name: req.name,
        kind: req.kind,
        parentId: req.parentId ?? null,
        tier: req.tier,
        tokenQuota: 5,
        tokenCount: 0,
        createdAt: at,
        updatedAt: at,
      };
      entities.set(e.id, e);
      return e;
    },
  };
  return { tokens, calls, newToken, client: client as unknown as TokenplaneClient };
}

export const meta = (name: string) => ({
  name,
  namespace: NS,
  uid: `uid-${name}`,
  generation: 1,
  resourceVersion: '1',
  finalizers: ['tokenplane.dev/finalizer'],
});
export const ready = [
  { type: 'Ready', status: 'True' as const, reason: 'Available', lastTransitionTime: at },
];
export const entityObj: EntityObject = {
  apiVersion: 'tokenplane.dev/v1alpha1',
  kind: 'Entity',
  metadata: meta('acme'),
  spec: { kind: 'Reseller', tier: 'Advanced', defaultToken: true, deletionPolicy: 'Delete' },
  status: { id: ENTITY, tier: 'advanced', conditions: ready },
};
export const tokenObj = (spec: Partial<ApiTokenObject['spec']> = {}): ApiTokenObject => ({
  apiVersion: 'tokenplane.dev/v1alpha1',
  kind: 'ApiToken',
  metadata: meta('ci'),
  spec: {
    entityRef: { name: 'acme' },
    type: 'Secret',
    status: 'Active',
    adoptDefaultToken: false,
    deletionPolicy: 'Delete',
    ...spec,
  },
});

/** A context over maps; `kube` records every call, in order. */
export function fakeContext(
  objects: (EntityObject | ApiTokenObject)[],
  over: Partial<Context> = {},
) {
  const platform = fakePlatform();
  const kubeCalls: string[] = [];
  const statuses: Record<string, unknown>[] = [];
  const secrets = new Map<string, V1Secret>();
  const events: string[] = [];
  const find = <T extends EntityObject | ApiTokenObject>(kind: T['kind']) => ({
    get: (name: string) => objects.find((o): o is T => o.kind === kind && o.metadata.name === name),
  });
  // The operator's own index of who belongs to which entity, fed as the watch feeds it.
  const index = new Triggers({ enqueueEntity: () => {}, enqueueToken: () => {} });
  for (const o of objects) if (o.kind === 'ApiToken') index.token.add?.(o);
  const ctx: Context = {
    kube: {
      async setFinalizers() {
        kubeCalls.push('setFinalizers');
      },
      async patchStatus(_plural, _ns, _name, status) {
        kubeCalls.push('patchStatus');
        statuses.push(status as Record<string, unknown>);
      },
      async readSecret(_ns, name) {
        kubeCalls.push('readSecret');
        return secrets.get(name);
      },
      async applySecret(secret) {
        kubeCalls.push('applySecret');
        secrets.set(secret.metadata.name, secret);
        return secret;
      },
      async deleteSecret() {
        kubeCalls.push('deleteSecret');
      },
      async restartWorkload() {
        kubeCalls.push('restartWorkload');
      },
      async listWorkloads() {
        kubeCalls.push('listWorkloads');
        return [];
      },
    },
    // debounced restarts have their own tests (operator-restarts.test.ts)
    restarts: { request: async () => {} },
    events: {
      normal: (_obj, reason, note) => events.push(`Normal ${reason}: ${note}`),
      warning: (_obj, reason, note) => events.push(`Warning ${reason}: ${note}`),
    },
    entities: new EntityExternal(platform.client),
    tokens: new TokenExternal(platform.client),
    tiers: async () => new TierTable(),
    log: pino({ level: 'silent' }),
    metrics: createMetrics(),
    endpoint: 'http://platform',
    resyncMs: 60_000,
    shardLabelKeys: [],
    entityCache: find<EntityObject>('Entity'),
    tokenCache: find<ApiTokenObject>('ApiToken'),
    // Only our Secrets are in the informer's cache.
    secretCache: {
      get: (name) => {
        const s = secrets.get(name);
        return s?.metadata?.labels?.['app.kubernetes.io/managed-by'] ? viewSecret(s) : undefined;
      },
    },
    tokensOf: (namespace, entity) => index.tokensOf(namespace, entity),
    reconcileTimeoutMs: 60_000,
    enqueueEntity: () => {},
    enqueueToken: () => {},
    now: () => new Date('2026-06-01T00:00:00Z'),
    ...over,
  };
  return { ctx, platform, kubeCalls, statuses, secrets, events };
}

export const condition = (status: Record<string, unknown> | undefined, type = 'Ready') =>
  (status?.conditions as { type: string; reason: string; message: string }[] | undefined)?.find(
    (c) => c.type === type,
  );
export const secretValue = (s: V1Secret | undefined) =>
  Buffer.from(s?.data?.token ?? '', 'base64').toString('utf8');

export const cacheOf = (obj: ApiTokenObject) => ({
  get: (name: string) => (name === obj.metadata.name ? obj : undefined),
});
