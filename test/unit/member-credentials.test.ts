// The console's member credential (platform/server/member-credentials.ts): it
// acts as the member until it expires, and only as long as the membership
// exists; a changed id, expiry or signature, or another server key, is nothing.
import { describe, expect, it } from 'vitest';
import { SecretBox } from '../../core/crypto/cipher.ts';
import { redactSecretText } from '../../core/logging.ts';
import type { PlatformContext } from '../../platform/server/context.ts';
import { memberCredential, memberPrincipal } from '../../platform/server/member-credentials.ts';

const MEMBER = {
  id: '0190d7a4-0000-7000-8000-000000000001',
  entity_id: '0190d7a4-0000-7000-8000-0000000000e1',
  email: 'ada@example.test',
  role: 'viewer',
  created_at: '2026-12-05T00:00:00.000Z',
};

function context(opts: { now: number; members?: (typeof MEMBER)[]; key?: string }) {
  const members = opts.members ?? [MEMBER];
  return {
    box: new SecretBox(opts.key ?? 'an-encryption-key-for-the-tests-0001'),
    clock: () => opts.now,
    store: {
      db: { query: async (_sql: string, [id]: unknown[]) => members.filter((m) => m.id === id) },
    },
  } as unknown as PlatformContext;
}

describe('member credentials', () => {
  const now = 1_800_000_000_000;

  it('act as the member, with its current role and scope, until they expire', async () => {
    const credential = memberCredential(context({ now }), MEMBER.id, now + 60_000);
    expect(await memberPrincipal(context({ now }), credential)).toEqual({
      type: 'member',
      id: MEMBER.id,
      role: 'viewer',
      scope: MEMBER.entity_id,
      email: MEMBER.email,
    });
    expect(await memberPrincipal(context({ now: now + 60_000 }), credential)).toBeNull();
  });

  it('are nothing once the membership is gone', async () => {
    const credential = memberCredential(context({ now }), MEMBER.id, now + 60_000);
    expect(await memberPrincipal(context({ now, members: [] }), credential)).toBeNull();
  });

  it('are nothing when changed, or signed with another server key', async () => {
    const ctx = context({ now });
    const credential = memberCredential(ctx, MEMBER.id, now + 60_000);
    const [id, expires, signature] = credential.slice('tpms_'.length).split('.') as [
      string,
      string,
      string,
    ];
    const variants = [
      `tpms_${id}.${Number(expires) + 1}.${signature}`,
      `tpms_${id.replace(/1$/, '2')}.${expires}.${signature}`,
      `tpms_${id}.${expires}.${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`,
      `tpms_${id}.${expires}`,
      'tpms_',
    ];
    for (const forged of variants) expect(await memberPrincipal(ctx, forged), forged).toBeNull();
    const otherServer = context({ now, key: 'another-encryption-key-for-tests-0002' });
    expect(await memberPrincipal(otherServer, credential)).toBeNull();
  });

  it('lose their signature in any log line', () => {
    const credential = memberCredential(context({ now }), MEMBER.id, now + 60_000);
    const signature = credential.split('.').pop() as string;
    const line = redactSecretText(`GET /v1/entities authorization=Bearer ${credential}`);
    expect(line).not.toContain(signature);
  });
});
