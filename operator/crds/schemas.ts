/**
 * The custom resources' specs and statuses, as zod schemas. One source for the
 * CRDs' openAPIV3Schema (see generate.ts) and the reconcilers' types. The
 * reconcilers do not parse objects again: the API server validates them
 * against that schema (and fills its defaults) before any watch delivers them.
 */
import { z } from 'zod';
import { RotationRules } from '../../core/external/rotation.ts';
import { Duration } from '../../core/schemas/common.ts';
import {
  AllowedIps,
  AllowedOrigins,
  RequireSignedRequests,
  Scopes,
} from '../../core/schemas/permissions.ts';

export const GROUP = 'tokenplane.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

type Rule = { rule: string; message: string; fieldPath?: string; reason?: string };
const rules = (...list: Rule[]) => ({ 'x-kubernetes-validations': list });
const immutable = (what: string): Rule => ({
  rule: 'self == oldSelf',
  message: `${what} is immutable; delete and recreate the object to change it`,
});

const Uuid = z
  .string()
  .max(36)
  .regex(/^[0-9a-fA-F-]{36}$/, 'must be a platform id (UUID)');

const ObjectName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a Kubernetes object name');

export const LocalRef = z
  .strictObject({
    name: ObjectName.meta({ description: 'Name of an object in the same namespace.' }),
  })
  .meta({ description: 'Reference to an object in the same namespace.' });

const DeletionPolicy = z.enum(['Delete', 'Orphan']).default('Delete').meta({
  description:
    'What happens on the platform when this object is deleted: `Delete` removes it there too, `Orphan` leaves it.',
});

const DisplayName = z
  .string()
  .min(1)
  .max(200)
  .meta({ description: 'Name shown on the platform. Defaults to metadata.name.' });

export const EntitySpec = z
  .strictObject({
    displayName: DisplayName.optional(),
    kind: z.enum(['Reseller', 'Customer']).meta({
      description: 'A `Reseller` may have child entities; a `Customer` has none.',
      ...rules(immutable('kind')),
    }),
    // The contract's two tiers, as an enum, although a platform may configure
    // its own table (TOKENPLANE_TIERS): a CRD is installed once per cluster and
    // cannot follow the table of whichever platform an operator talks to, and
    // the enum lets `kubectl apply` refuse a typo at once. The tier is still
    // judged by the platform's table (GET /v1/tiers): a tier that table lacks
    // is refused with InvalidSpec naming the tiers it has.
    tier: z.enum(['Lite', 'Advanced']).default('Lite').meta({
      description:
        "Tier: decides the token quota (with the built-in tier table, Lite 1, Advanced 5). Never above the parent's tier.",
    }),
    parentRef: LocalRef.optional().meta({
      description: 'Parent Entity in the same namespace; this entity waits until it is Ready.',
      ...rules(immutable('parentRef')),
    }),
    parentId: Uuid.optional().meta({
      description: 'Id of a parent entity that exists only on the platform.',
      ...rules(immutable('parentId')),
    }),
    externalId: Uuid.optional().meta({
      description:
        'Adopt this existing platform entity instead of creating one. The platform entity is then updated to match.',
      ...rules(immutable('externalId')),
    }),
    defaultToken: z.boolean().default(true).meta({
      description:
        'Whether the platform issues its `default` token when creating the entity. An ApiToken with `adoptDefaultToken` takes it over.',
    }),
    deletionPolicy: DeletionPolicy,
  })
  .meta({
    description: 'Desired state of a platform entity (a reseller or a customer).',
    ...rules(
      {
        rule: '!(has(self.parentRef) && has(self.parentId))',
        message: 'set at most one of parentRef and parentId',
      },
      {
        rule: 'has(self.parentRef) == has(oldSelf.parentRef) && has(self.parentId) == has(oldSelf.parentId)',
        message: 'the parent is immutable; delete and recreate the Entity to move it',
      },
    ),
  });
export type EntitySpec = z.infer<typeof EntitySpec>;

export const ApiTokenSpec = z
  .strictObject({
    entityRef: LocalRef.optional().meta({
      description: 'The Entity (same namespace) that owns the token.',
      ...rules(immutable('entityRef')),
    }),
    entityId: Uuid.optional().meta({
      description: 'Id of an entity that exists only on the platform.',
      ...rules(immutable('entityId')),
    }),
    displayName: DisplayName.optional(),
    status: z
      .enum(['Active', 'Disabled'])
      .default('Active')
      .meta({ description: 'A `Disabled` token stops verifying but keeps its value.' }),
    expiresAt: z.iso.datetime({ offset: true }).optional().meta({
      description:
        'Fixed expiry (RFC 3339). Without it and `lifetime`, the platform picks 365 days.',
    }),
    lifetime: Duration.optional().meta({
      description:
        'How long each issued value lives (e.g. 720h). The token is rotated `renewBefore` ahead of expiry.',
    }),
    renewBefore: Duration.optional().meta({
      description:
        'Rotate this long before expiry (needs `lifetime`, must be shorter). Default: a third of the lifetime.',
    }),
    rotationGracePeriod: Duration.optional().meta({
      description:
        'How long the previous value keeps verifying after a rotation. Default: `renewBefore` (at most 720h).',
    }),
    secretName: ObjectName.optional().meta({
      description: 'Secret that receives the token. Defaults to the ApiToken name.',
    }),
    secretTemplate: z
      .strictObject({
        labels: z
          .record(z.string(), z.string())
          .optional()
          .meta({ description: 'Labels added to the Secret.' }),
        annotations: z
          .record(z.string(), z.string())
          .optional()
          .meta({ description: 'Annotations added to the Secret.' }),
      })
      .optional()
      .meta({ description: 'Extra metadata for the generated Secret.' }),
    rolloutRestartTargets: z
      .array(
        z
          .strictObject({
            kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet']),
            name: ObjectName.optional().meta({
              description: 'Name of the workload in this namespace.',
            }),
            selector: z
              .strictObject({
                matchLabels: z
                  .record(z.string(), z.string())
                  .meta({ description: 'Labels every selected workload carries.' }),
              })
              .optional()
              .meta({
                description: 'Select the workloads of this kind in this namespace by label.',
              }),
          })
          .meta({
            ...rules({
              rule: 'has(self.name) != has(self.selector)',
              message: 'set exactly one of name and selector',
            }),
          }),
      )
      .max(16)
      .optional()
      .meta({
        description:
          'Workloads in this namespace (by name or label selector) given a rolling restart (like `kubectl rollout restart`) whenever the Secret receives a new token value, e.g. after a rotation. Restarts are debounced: several new values within the operator’s --restart-debounce window restart each workload once.',
      }),
    adoptDefaultToken: z
      .boolean()
      .default(false)
      .meta({
        description:
          "Take over the entity's auto-issued `default` token instead of creating one (fits a Lite entity's quota of 1).",
        ...rules(immutable('adoptDefaultToken')),
      }),
    tokenId: Uuid.optional().meta({
      description: 'Adopt this existing platform token instead of creating one.',
      ...rules(immutable('tokenId')),
    }),
    deletionPolicy: DeletionPolicy,
    // README "Token permissions and limits": what the token may do; each field left out takes its default.
    type: z
      .enum(['Secret', 'Publishable'])
      .default('Secret')
      .meta({
        description:
          '`Secret` (value `tpt_…`) or `Publishable` (`tpp_…`, for web pages: needs allowedOrigins, cannot sign requests). Fixed at creation.',
        ...rules(immutable('type')),
      }),
    scopes: Scopes.optional(),
    allowedOrigins: AllowedOrigins.optional(),
    allowedIps: AllowedIps.optional(),
    rateLimit: z
      .strictObject({
        requests: z
          .number()
          .int()
          .min(1)
          .max(1_000_000)
          .meta({ description: 'Requests allowed in each window.' }),
        per: Duration.meta({ description: 'The window, e.g. 1s, 1m, 1h (at most 24h).' }),
      })
      .optional()
      .meta({
        description: 'At most `requests` analytics requests `per` window, per platform server.',
        ...rules({
          rule: 'duration(self.per) >= duration("1s") && duration(self.per) <= duration("24h")',
          message: 'per must be between 1s and 24h',
        }),
      }),
    usageLimit: z
      .strictObject({
        limit: z
          .number()
          .int()
          .min(0)
          .max(1_000_000_000_000)
          .meta({ description: 'Served requests allowed in each period.' }),
        period: z
          .enum(['Day', 'Month', 'Total'])
          .meta({ description: 'A UTC day, a UTC month, or the token’s whole life.' }),
      })
      .optional()
      .meta({
        description:
          'At most `limit` served analytics requests per UTC day, UTC month or in total.',
      }),
    requireSignedRequests: RequireSignedRequests.optional(),
  })
  .meta({
    description: 'Desired state of a platform API token, delivered to a Secret.',
    ...rules(
      {
        rule: "self.type != 'Publishable' || (has(self.allowedOrigins) && size(self.allowedOrigins) > 0)",
        message:
          'a Publishable token needs at least one allowedOrigins entry (the pages that use it)',
      },
      {
        rule: "self.type != 'Publishable' || !has(self.requireSignedRequests) || !self.requireSignedRequests",
        message: 'a Publishable token cannot require signed requests; use type Secret for that',
      },
      {
        rule: 'has(self.entityRef) != has(self.entityId)',
        message:
          'set exactly one of entityRef (an Entity in this namespace) and entityId (a platform id)',
      },
      {
        rule: '!(has(self.expiresAt) && has(self.lifetime))',
        message: RotationRules.oneExpiry,
      },
      {
        rule: '!has(self.renewBefore) || has(self.lifetime)',
        message: RotationRules.renewNeedsLifetime,
      },
      {
        rule: '!has(self.lifetime) || duration(self.lifetime) >= duration("10s")',
        message: RotationRules.lifetimeTooShort,
      },
      {
        rule: '!has(self.renewBefore) || !has(self.lifetime) || duration(self.renewBefore) < duration(self.lifetime)',
        message: RotationRules.renewNotShorter,
      },
      {
        rule: '!(self.adoptDefaultToken && has(self.tokenId))',
        message: 'set at most one of adoptDefaultToken and tokenId',
      },
      {
        rule: 'has(self.entityRef) == has(oldSelf.entityRef) && has(self.entityId) == has(oldSelf.entityId) && has(self.tokenId) == has(oldSelf.tokenId)',
        message: 'the entity and the adopted token are immutable; delete and recreate the ApiToken',
      },
    ),
  });
export type ApiTokenSpec = z.infer<typeof ApiTokenSpec>;

export const Condition = z.object({
  type: z.string().max(64).meta({ description: '`Ready` or `Synced`.' }),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string().max(128).meta({ description: 'CamelCase reason, e.g. `QuotaExceeded`.' }),
  message: z.string().max(4096).optional().meta({ description: 'What happened and what to do.' }),
  lastTransitionTime: z.string().meta({ description: 'When the status last changed.' }),
  observedGeneration: z.number().int().optional(),
});
export type Condition = z.infer<typeof Condition>;

const Conditions = z.array(Condition).meta({
  description: '`Ready` (usable) and `Synced` (last reconcile succeeded).',
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
});

export const EntityStatus = z.object({
  id: z.string().optional().meta({ description: 'Platform entity id.' }),
  tier: z.string().optional().meta({ description: 'Tier on the platform.' }),
  tokenQuota: z.number().int().optional().meta({ description: 'Tokens the tier allows.' }),
  tokenCount: z.number().int().optional().meta({ description: 'Tokens the entity holds.' }),
  defaultTokenId: z
    .string()
    .optional()
    .meta({ description: "Id of the entity's `default` token, if any." }),
  conditions: Conditions.optional(),
  observedGeneration: z.number().int().optional(),
});
export type EntityStatus = z.infer<typeof EntityStatus>;

export const ApiTokenStatus = z.object({
  tokenId: z.string().optional().meta({ description: 'Platform token id.' }),
  entityId: z.string().optional().meta({ description: 'Platform entity id.' }),
  hint: z
    .string()
    .optional()
    .meta({ description: 'Non-secret fragment identifying the current value.' }),
  expiresAt: z.string().optional().meta({ description: 'Expiry of the current value.' }),
  renewalTime: z.string().optional().meta({ description: 'When the token will be rotated.' }),
  secretName: z.string().optional().meta({ description: 'Secret holding the token.' }),
  lastRotationTime: z.string().optional().meta({ description: 'When the token was last rotated.' }),
  rotations: z
    .number()
    .int()
    .optional()
    .meta({ description: 'How many times the token was rotated.' }),
  issuance: z.number().int().optional().meta({
    description: 'Incremented when the platform token vanished and a new one must be issued.',
  }),
  conditions: Conditions.optional(),
  observedGeneration: z.number().int().optional(),
});
export type ApiTokenStatus = z.infer<typeof ApiTokenStatus>;

export type ObjectMeta = {
  name: string;
  namespace: string;
  uid: string;
  generation?: number;
  resourceVersion?: string;
  finalizers?: string[];
  deletionTimestamp?: string | Date;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
};

export type EntityObject = {
  apiVersion: string;
  kind: 'Entity';
  metadata: ObjectMeta;
  spec: EntitySpec;
  status?: EntityStatus;
};

export type ApiTokenObject = {
  apiVersion: string;
  kind: 'ApiToken';
  metadata: ObjectMeta;
  spec: ApiTokenSpec;
  status?: ApiTokenStatus;
};

export const KINDS = {
  Entity: { kind: 'Entity', plural: 'entities', singular: 'entity', shortNames: ['tpent'] },
  ApiToken: {
    kind: 'ApiToken',
    plural: 'apitokens',
    singular: 'apitoken',
    shortNames: ['tptoken', 'apitok'],
  },
} as const;
