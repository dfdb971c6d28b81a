/**
 * The credential a console session holds for a person signed in by single
 * sign-on (README "Members and single sign-on"): the member's id and an expiry,
 * signed with the server's look-up key. It never leaves the server (the
 * browser holds a session cookie only); the console's client sends it to the
 * API like an access key. Each request reads the membership again, so a
 * removed member, or a changed role, takes effect at once.
 */
import { constantTimeEqual } from '../../core/crypto/keys.ts';
import { memberById } from '../storage/members.ts';
import type { PlatformContext, Principal } from './context.ts';

const PREFIX = 'tpms_';

function mac(ctx: PlatformContext, memberId: string, expiresAt: number): string {
  return ctx.box.digest(`member-session\n${memberId}\n${expiresAt}`);
}

/** A credential acting as the member until `expiresAt` (ms since the epoch). */
export function memberCredential(
  ctx: PlatformContext,
  memberId: string,
  expiresAt: number,
): string {
  return `${PREFIX}${memberId}.${expiresAt}.${mac(ctx, memberId, expiresAt)}`;
}

export function isMemberCredential(credential: string): boolean {
  return credential.startsWith(PREFIX);
}

/** The member a credential acts as, or null: forged, expired, or no longer a member. */
export async function memberPrincipal(
  ctx: PlatformContext,
  credential: string,
): Promise<Principal | null> {
  const [memberId, expires, signature] = credential.slice(PREFIX.length).split('.');
  if (!memberId || !expires || !signature || !/^\d{1,16}$/.test(expires)) return null;
  const expiresAt = Number(expires);
  if (!constantTimeEqual(signature, mac(ctx, memberId, expiresAt))) return null;
  if (ctx.clock() >= expiresAt) return null;
  const member = await memberById(ctx.store.db, memberId);
  if (!member) return null;
  return {
    type: 'member',
    id: member.id,
    role: member.role,
    scope: member.entityId,
    email: member.email,
  };
}
