import { z } from 'zod';
import { Role } from './access-key.ts';
import { Id, PageQuery, page, Timestamp } from './common.ts';

/**
 * An email address, kept in lower case so that one person is one member per
 * entity. A pattern rather than `format: email`, so that the OpenAPI document
 * refuses exactly what the server refuses (validators differ on that format).
 */
export const Email = z
  .string()
  .max(254)
  .regex(z.regexes.email, 'must be an email address such as ada@example.com')
  .transform((email) => email.toLowerCase())
  .meta({ description: 'Email address (kept in lower case)' });

export const Member = z.object({
  id: Id,
  email: z.string(),
  role: Role,
  entityId: Id,
  createdAt: Timestamp,
});
export type Member = z.infer<typeof Member>;

export const CreateMemberRequest = z.strictObject({ email: Email, role: Role });
export type CreateMemberRequest = z.infer<typeof CreateMemberRequest>;

export const UpdateMemberRequest = z.strictObject({ role: Role });
export type UpdateMemberRequest = z.infer<typeof UpdateMemberRequest>;

export const MemberListQuery = PageQuery;
export const MemberPage = page(Member);
export type MemberPage = z.infer<typeof MemberPage>;
