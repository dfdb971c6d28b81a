import { z } from 'zod';
import { Id, PageQuery, page, Timestamp } from './common.ts';

export const AuditEvent = z.object({
  id: Id,
  at: Timestamp,
  actor: z.object({
    type: z.enum(['admin', 'access-key', 'member', 'secret-scanner']),
    id: z.string().nullable().meta({
      description:
        'Access key id; member id; the signing key of a signed leak report; null for the administrator',
    }),
    email: z.string().optional().meta({
      description:
        "The member's email, when a member or its personal access key acted (README: Members and single sign-on)",
    }),
  }),
  action: z.string().meta({ description: 'e.g. entity.create, token.rotate, token.reveal' }),
  targetType: z.enum(['entity', 'token', 'access-key', 'webhook', 'member']),
  targetId: z.string().nullable(),
  entityId: Id.nullable(),
  outcome: z.enum(['success', 'failure']),
  requestId: z.string(),
  detail: z.string().nullable().meta({ description: 'Problem slug or note; never a secret' }),
});
export type AuditEvent = z.infer<typeof AuditEvent>;

export const AuditQuery = PageQuery.extend({ entityId: Id.optional() });
export const AuditPage = page(AuditEvent);
export type AuditPage = z.infer<typeof AuditPage>;
