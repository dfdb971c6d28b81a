import { z } from 'zod';
import { MAX_VALUES_IN_GRACE } from '../domain/rules.ts';
import { Id, Name, PageQuery, page, StoredName, Timestamp } from './common.ts';
import {
  PermissionChanges,
  PUBLISHABLE_RULES,
  permissionRules,
  TokenPermissions,
  TokenType,
} from './permissions.ts';

export const TokenStatus = z.enum(['active', 'disabled']);
export type TokenStatus = z.infer<typeof TokenStatus>;

const ExpiresAt = Timestamp.nullable().meta({
  description: 'Expiry; defaults to 365 days after creation; null means never',
});

export const Token = z.object({
  id: Id,
  entityId: Id,
  name: StoredName,
  status: TokenStatus,
  expiresAt: Timestamp.nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  lastUsedAt: Timestamp.nullable(),
  hint: z
    .string()
    .meta({ description: 'Non-secret fragment that identifies the value to a person' }),
  ...TokenPermissions.shape,
});
export type Token = z.infer<typeof Token>;

export const TokenValue = z.string().meta({ description: 'The secret token value' });

export const TokenWithValue = Token.extend({ value: TokenValue });
export type TokenWithValue = z.infer<typeof TokenWithValue>;

export const CreateTokenRequest = z
  .strictObject({
    name: Name,
    expiresAt: ExpiresAt.optional(),
    status: TokenStatus.optional(),
    type: TokenType.optional(),
    ...PermissionChanges.shape,
  })
  .superRefine(permissionRules)
  .meta(PUBLISHABLE_RULES);
export type CreateTokenRequest = z.infer<typeof CreateTokenRequest>;

/** `type` is fixed at creation; the rules between fields are judged against the stored token. */
export const UpdateTokenRequest = z.strictObject({
  name: Name.optional(),
  expiresAt: ExpiresAt.optional(),
  status: TokenStatus.optional(),
  ...PermissionChanges.shape,
});
export type UpdateTokenRequest = z.infer<typeof UpdateTokenRequest>;

export const RotateTokenRequest = z.strictObject({
  gracePeriodSeconds: z
    .number()
    .int()
    .min(0)
    .max(30 * 24 * 3600)
    .optional()
    .meta({
      description:
        'How long the value being replaced keeps verifying, as a bearer token and as the key of ' +
        'signed requests (default 0, at most 30 days). Values replaced earlier keep their own ' +
        `graces; at most ${MAX_VALUES_IN_GRACE} may be in their grace at once, beyond which a ` +
        'rotation with a grace answers 409 grace-limit. A value reported exposed gets no grace, ' +
        'whatever this says.',
    }),
});
export type RotateTokenRequest = z.infer<typeof RotateTokenRequest>;

export const RevealResponse = z.object({ value: TokenValue });

export const TokenPage = page(Token);
export type TokenPage = z.infer<typeof TokenPage>;
export const TokenListQuery = PageQuery;

export const IntrospectRequest = z.strictObject({
  token: z.string().min(1).max(512),
  token_type_hint: z
    .string()
    .max(64)
    .optional()
    .meta({ description: 'RFC 7662 §2.1; ignored (every token here is an access token)' }),
});
export const IntrospectResponse = z.union([
  z.object({
    active: z.literal(true),
    tokenId: Id,
    entityId: Id,
    tier: z.string(),
    exp: z
      .number()
      .int()
      .nullable()
      .meta({ description: 'Expiry, seconds since the epoch; null = never' }),
    type: TokenType,
    scope: z.string().meta({ description: "The token's scopes, space-separated (RFC 7662)" }),
    allowedOrigins: z.array(z.string()),
    allowedIps: z.array(z.string()),
  }),
  z.object({ active: z.literal(false) }),
]);
export type IntrospectResponse = z.infer<typeof IntrospectResponse>;
