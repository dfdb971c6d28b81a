// The server's one mutation path (platform/server/mutation.ts): the effects it
// hands storage write the audit event, the revocation notice and the outbox
// rows inside the change's transaction; after the commit the request is marked
// audited, the verification cache dropped, the sender woken and the metric
// counted. A replay is audited and nothing else; a failed write does nothing.
// The real-engine side is in test/platform (webhooks, token-leaks, revocation).
import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { PlatformContext } from '../../platform/server/context.ts';
import { mutate, tokenEvent } from '../../platform/server/mutation.ts';
import type { SqlTx } from '../../platform/storage/sql.ts';

const TOKEN = {
  id: 't1',
  entityId: 'e1',
  name: 'ci',
  value: 'tpt_not-a-real-value',
} as unknown as Parameters<typeof tokenEvent>[1];

function fakes() {
  const after: string[] = [];
  const sql: { text: string; params: readonly unknown[] }[] = [];
  const tx: SqlTx = {
    query: async (text, params = []) => {
      sql.push({ text, params });
      // the webhooks of the entity and its ancestors: one subscribed to everything
      return text.includes('FROM webhooks')
        ? ([{ id: 'w1', events: JSON.stringify(['token.rotated', 'token.exposed']) }] as never[])
        : [];
    },
    run: async (text, params = []) => {
      sql.push({ text, params });
      return 1;
    },
  };
  const ctx = {
    store: { db: { dialect: 'postgres' }, clock: () => Date.parse('2026-01-01T00:00:00Z') },
    verifier: {
      invalidateToken: (id: string) => after.push(`token ${id}`),
      invalidateEntity: (id: string) => after.push(`entity ${id}`),
    },
    usage: { release: (id: string) => after.push(`usage ${id}`) },
    sender: { wake: () => after.push('wake') },
  } as unknown as PlatformContext;
  const request = {
    id: 'req-1',
    principal: { type: 'admin', id: null, role: 'admin', scope: null },
    audit: { action: 'token.rotate', targetType: 'token', targetId: 't1', entityId: null },
  } as unknown as FastifyRequest;
  const statements = () =>
    sql.map(({ text }) =>
      text.includes('audit_events')
        ? 'audit'
        : text.includes('pg_notify')
          ? 'notify'
          : text.includes('webhook_events')
            ? 'event'
            : text.includes('webhook_deliveries')
              ? 'delivery'
              : 'webhooks',
    );
  return { ctx, request, tx, sql, after, statements };
}

describe('mutate', () => {
  it('writes audit, notice and outbox in the transaction; invalidates, wakes and counts after it', async () => {
    const f = fakes();
    let counted = 0;
    const out = await mutate(f.ctx, f.request, {
      write: async (effects) => {
        const result = { result: TOKEN, replayed: false };
        await effects(f.tx, result.result, false);
        expect(f.after).toEqual([]);
        return result;
      },
      describe: (token) => ({ entityId: token.entityId, detail: 'gracePeriodSeconds=0' }),
      invalidates: () => [{ tokenId: 't1', usage: true }],
      announces: (token) => [tokenEvent('token.rotated', token)],
      counts: () => counted++,
    });
    expect(out.result.id).toBe('t1');
    expect(f.statements()).toEqual(['audit', 'notify', 'webhooks', 'event', 'delivery']);
    const audit = f.sql[0]?.params ?? [];
    expect(audit.slice(2)).toEqual([
      'admin',
      null,
      'token.rotate',
      'token',
      't1',
      'e1',
      'success',
      'req-1',
      'gracePeriodSeconds=0',
      null, // the actor's email: only a member's personal key has one
    ]);
    expect(f.sql[1]?.params).toEqual(['tokenplane_revocations', 'token:t1']);
    const payload = String(f.sql[3]?.params[3]);
    expect(JSON.parse(payload).data.token).toMatchObject({ id: 't1', name: 'ci' });
    expect(payload).not.toContain('tpt_');
    expect(f.after).toEqual(['token t1', 'usage t1', 'wake']);
    expect(counted).toBe(1);
  });

  it('records one audit event per touched object beside its own', async () => {
    const f = fakes();
    await mutate(f.ctx, f.request, {
      write: async (effects) => {
        await effects(f.tx, { n: 2 }, false);
        return { n: 2 };
      },
      records: ({ n }) =>
        Array.from({ length: n }, (_, i) => ({
          action: 'token.expose',
          targetType: 'token' as const,
          targetId: `t${i}`,
          entityId: 'e1',
          detail: 'current value found',
        })),
      invalidates: () => [],
    });
    expect(f.statements()).toEqual(['audit', 'audit', 'audit']);
    expect(f.sql.map(({ params }) => params[4])).toEqual([
      'token.rotate',
      'token.expose',
      'token.expose',
    ]);
    expect(f.after).toEqual([]);
  });

  it('a replay is audited as one and changes nothing else', async () => {
    const f = fakes();
    await mutate(f.ctx, f.request, {
      write: async (effects) => {
        await effects(f.tx, TOKEN, true);
        return { result: TOKEN, replayed: true };
      },
      invalidates: () => [{ entityId: 'e1' }],
      announces: (token) => [tokenEvent('token.rotated', token)],
    });
    expect(f.statements()).toEqual(['audit']);
    expect(f.sql[0]?.params[10]).toBe('idempotent-replay');
    expect(f.after).toEqual([]);
  });

  it('a failed write leaves the audit to the failure hook and changes nothing', async () => {
    const f = fakes();
    await expect(
      mutate(f.ctx, f.request, {
        write: async () => Promise.reject(new Error('quota')),
        invalidates: () => [{ tokenId: 't1' }],
      }),
    ).rejects.toThrow('quota');
    expect(f.after).toEqual([]);
  });
});
