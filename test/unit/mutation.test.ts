// The server's one mutation path (platform/server/mutation.ts): the audit sink
// it hands the repository, the request marked audited only once the write
// succeeded, and the verification cache and metrics after it.
import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { PlatformContext } from '../../platform/server/context.ts';
import { mutate } from '../../platform/server/mutation.ts';

function fakes() {
  const dropped: string[] = [];
  const ctx = {
    verifier: {
      invalidateToken: (id: string) => dropped.push(`token ${id}`),
      invalidateEntity: (id: string) => dropped.push(`entity ${id}`),
    },
    usage: { release: (id: string) => dropped.push(`usage ${id}`) },
  } as unknown as PlatformContext;
  const request = {
    id: 'req-1',
    principal: { type: 'admin', id: null, role: 'admin', scope: null },
    audit: { action: 'token.rotate', targetType: 'token', targetId: 't1', entityId: null },
    auditRecorded: false,
  } as unknown as FastifyRequest;
  return { ctx, request, dropped };
}

describe('mutate', () => {
  it("describes the success with setAudit's words and the result's, then invalidates and counts", async () => {
    const { ctx, request, dropped } = fakes();
    let counted = 0;
    let event: unknown;
    const out = await mutate(ctx, request, {
      write: async (audit) => {
        const result = { result: { entityId: 'e1' }, replayed: false };
        event = audit.describe(result.result, false);
        expect(request.auditRecorded).toBe(false);
        return result;
      },
      describe: (token) => ({ entityId: token.entityId, detail: 'gracePeriodSeconds=0' }),
      invalidates: () => ({ tokenId: 't1', usage: true }),
      counts: () => counted++,
    });
    expect(out.result.entityId).toBe('e1');
    expect(event).toEqual({
      action: 'token.rotate',
      targetType: 'token',
      targetId: 't1',
      entityId: 'e1',
      detail: 'gracePeriodSeconds=0',
    });
    expect(request.auditRecorded).toBe(true);
    expect(dropped).toEqual(['token t1', 'usage t1']);
    expect(counted).toBe(1);
  });

  it('a replay is audited as one; a failed write leaves the audit to the failure hook and changes nothing', async () => {
    const { ctx, request, dropped } = fakes();
    await mutate(ctx, request, {
      write: async (audit) => {
        expect(audit.describe({ entityId: 'e1' }, true).detail).toBe('idempotent-replay');
        return { entityId: 'e1' };
      },
      invalidates: (r) => ({ entityId: r.entityId }),
    });
    expect(dropped).toEqual(['entity e1']);
    const failing = fakes();
    await expect(
      mutate(failing.ctx, failing.request, {
        write: async () => Promise.reject(new Error('quota')),
        invalidates: () => ({ tokenId: 't1' }),
      }),
    ).rejects.toThrow('quota');
    expect(failing.request.auditRecorded).toBe(false);
    expect(failing.dropped).toEqual([]);
  });
});
