import { z } from 'zod';
import { Id, Name, StoredName, Timestamp } from './common.ts';

export const Role = z.enum(['admin', 'viewer']);
export type Role = z.infer<typeof Role>;

export const AccessKey = z.object({
  id: Id,
  entityId: Id,
  name: StoredName,
  role: Role,
  createdAt: Timestamp,
});
export type AccessKey = z.infer<typeof AccessKey>;

export const CreateAccessKeyRequest = z.strictObject({ name: Name, role: Role });
export type CreateAccessKeyRequest = z.infer<typeof CreateAccessKeyRequest>;

export const AccessKeyWithKey = AccessKey.extend({
  key: z.string().meta({ description: 'The secret access key; shown only once' }),
});
export type AccessKeyWithKey = z.infer<typeof AccessKeyWithKey>;

export const AccessKeyList = z.object({ items: z.array(AccessKey) });
