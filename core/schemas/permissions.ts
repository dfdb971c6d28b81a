/**
 * The token permission and limit fields of README "Token permissions and limits": one zod source for request
 * validation, the Token type, the OpenAPI document (and, later, the CRD and the
 * provider's inputs). The rules live in core/domain/permissions.ts.
 */
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import {
  ORIGIN_PATTERN,
  originProblem,
  permissionProblems,
  SCOPES,
  scopeProblem,
} from '../domain/permissions.ts';
import { Timestamp } from './common.ts';

export const TokenType = z.enum(['secret', 'publishable']).meta({
  description:
    'secret (default; value `tpt_…`) or publishable (value `tpp_…`, for web pages: needs allowedOrigins, cannot sign). Fixed at creation.',
});
export type TokenType = z.infer<typeof TokenType>;

/**
 * An enum of every accepted scope, so that the OpenAPI document and the CRD say
 * exactly what the server takes; a refusal says why (unknown shape, or no such
 * metric) through `scopeProblem`.
 */
export const TokenScope = z
  .enum(SCOPES, {
    // Only a string is worth a message of its own (String() of a deep array recursed).
    error: (issue) => (typeof issue.input === 'string' ? scopeProblem(issue.input) : undefined),
  })
  .meta({
    description:
      'metrics:read (everything the tier includes), metrics:core:read, metrics:premium:read or metric:<name>:read',
  });

export const Scopes = z.array(TokenScope).max(50).meta({
  description:
    'What the token may read; default secret ["metrics:read"], publishable ["metrics:core:read"]; [] reads nothing',
});

/** One check, so that a refusal carries one message: the one `originProblem` gives. */
export const AllowedOrigin = z
  .string()
  .max(300)
  .regex(ORIGIN_PATTERN, { error: (issue) => originProblem(String(issue.input)) ?? undefined });

export const AllowedOrigins = z.array(AllowedOrigin).max(20).meta({
  description:
    'Web origins (https://host[:port] or https://*.domain) whose pages may use the token; [] = any',
});

/** True for an IPv4/IPv6 address or CIDR range that ipaddr.js parses. */
export function isAddressOrRange(value: string): boolean {
  return value.includes('/') ? ipaddr.isValidCIDR(value) : ipaddr.isValid(value);
}

const IP_MESSAGE =
  'must be an IPv4 or IPv6 address or CIDR range, e.g. 203.0.113.7, 10.0.0.0/8, ::1';

/**
 * An address or range: zod's four shapes give the JSON Schema (anyOf of
 * patterns, so the OpenAPI document refuses what the server refuses); ipaddr.js,
 * which the matcher uses, has the last word.
 */
export const AllowedIp = z
  .union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()], { error: IP_MESSAGE })
  .refine(isAddressOrRange, { message: IP_MESSAGE });

export const AllowedIps = z
  .array(AllowedIp)
  .max(50)
  .meta({ description: 'Client addresses and CIDR ranges the token may be used from; [] = any' });

export const RateLimit = z
  .strictObject({
    requests: z.number().int().min(1).max(1_000_000),
    perSeconds: z.number().int().min(1).max(86_400),
  })
  .nullable()
  .meta({
    description:
      'At most `requests` analytics requests per `perSeconds`, per server process; null = none',
  });

export const UsagePeriod = z.enum(['day', 'month', 'total']);

export const UsageLimit = z
  .strictObject({ limit: z.number().int().min(0).max(1_000_000_000_000), period: UsagePeriod })
  .nullable()
  .meta({
    description:
      'At most `limit` served analytics requests per UTC day, UTC month or in total; null = none',
  });

export const Usage = z
  .object({
    used: z.number().int(),
    limit: z.number().int(),
    period: UsagePeriod,
    resetsAt: Timestamp.nullable().meta({
      description: 'Start of the next period; null for total',
    }),
  })
  .nullable()
  .meta({
    description: 'Consumption of the current period (read-only); null without a usage limit',
  });

export const RequireSignedRequests = z.boolean().meta({
  description:
    'Secret tokens only: every analytics request is signed per RFC 9421 (hmac-sha256, keyid = token id) instead of sending the value',
});

/** The permission fields of every Token answer. */
export const TokenPermissions = z.object({
  type: TokenType,
  scopes: z.array(z.string()),
  allowedOrigins: z.array(z.string()),
  allowedIps: z.array(z.string()),
  rateLimit: RateLimit,
  usageLimit: UsageLimit,
  usage: Usage,
  requireSignedRequests: z.boolean(),
});
export type TokenPermissions = z.infer<typeof TokenPermissions>;

/** The permission fields a PATCH may change (all but `type`). */
export const PermissionChanges = z.object({
  scopes: Scopes.optional(),
  allowedOrigins: AllowedOrigins.optional(),
  allowedIps: AllowedIps.optional(),
  rateLimit: RateLimit.optional(),
  usageLimit: UsageLimit.optional(),
  requireSignedRequests: RequireSignedRequests.optional(),
});
export type PermissionChanges = z.infer<typeof PermissionChanges>;

/**
 * `permissionRules` in JSON Schema, for the OpenAPI document of a create: a
 * publishable token names at least one allowed origin and does not require
 * signed requests.
 */
export const PUBLISHABLE_RULES = {
  if: { properties: { type: { const: 'publishable' } }, required: ['type'] },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword; never awaited
  then: {
    properties: { allowedOrigins: { minItems: 1 }, requireSignedRequests: { const: false } },
    required: ['allowedOrigins'],
  },
};

/** The rules between fields of a create (publishable needs origins, cannot sign), as zod issues. */
export function permissionRules(
  value: {
    type?: TokenType | undefined;
    allowedOrigins?: string[] | undefined;
    requireSignedRequests?: boolean | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  for (const p of permissionProblems({
    type: value.type ?? 'secret',
    allowedOrigins: value.allowedOrigins ?? [],
    requireSignedRequests: value.requireSignedRequests ?? false,
  })) {
    ctx.addIssue({ code: 'custom', path: [p.path], message: p.message });
  }
}
