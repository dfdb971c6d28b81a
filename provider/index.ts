/**
 * Pulumi resources for tokenplane (README "Pulumi provider"): `Entity` and `ApiToken`, dynamic
 * resources of module `tokenplane`. Configuration: stack config
 * `tokenplane:endpoint` and `tokenplane:apiKey` (secret), or the environment
 * variables `TOKENPLANE_ENDPOINT` / `TOKENPLANE_API_KEY`.
 *
 * What Pulumi stores for these resources is a small shim (./shim.ts) that loads
 * ./impl at run time; credentials come from the provider configuration, never
 * from resource inputs, so the state holds neither a key nor a client.
 */
import * as pulumi from '@pulumi/pulumi';
import { declareEntity, declareToken } from './declarations.ts';
import { providerShim } from './shim.ts';

export type { ApiTokenOutputs } from './impl/api-token.ts';
export type { EntityOutputs } from './impl/entity.ts';

// ./impl/index.ts in the sources, ./impl/index.js in the build (dist/).
const IMPLEMENTATION = new URL(
  import.meta.url.endsWith('.js') ? './impl/index.js' : './impl/index.ts',
  import.meta.url,
).href;
const entityProvider = providerShim('entity', IMPLEMENTATION);
const apiTokenProvider = providerShim('apiToken', IMPLEMENTATION);

/**
 * The resource's URN, passed as the hidden `__key` input: a dynamic provider's
 * `create` is not told it, and its idempotency keys start from it (impl/keys.ts).
 */
const urnOf = (name: string, type: string, opts?: pulumi.CustomResourceOptions) => {
  const urn = pulumi.createUrn(name, `pulumi-nodejs:dynamic/tokenplane:${type}`, opts?.parent);
  // A plain promise, not the Output: the Output carries the parent as a
  // dependency, and a component parent (TokenSecret) waits for all its
  // children — this resource included — so the resource would wait for itself.
  return new Promise<string>((resolve) => urn.apply(resolve));
};

export type EntityArgs = {
  /** The name people see. Changes in place. */
  displayName: pulumi.Input<string>;
  /** `reseller` (may have children) or `customer`. Changing it replaces the entity. */
  kind: pulumi.Input<'reseller' | 'customer'>;
  /** `lite` or `advanced` (or a tier of the deployment's table). Changes in place, within ceiling and quota. */
  tier: pulumi.Input<string>;
  /** The parent reseller; omit for a top-level entity (administrator key only). Changing it replaces. */
  parentId?: pulumi.Input<string>;
  /** Whether the platform issues the `default` token on create (default true). */
  defaultToken?: pulumi.Input<boolean>;
};

export class Entity extends pulumi.dynamic.Resource {
  declare readonly displayName: pulumi.Output<string>;
  declare readonly kind: pulumi.Output<'reseller' | 'customer'>;
  declare readonly tier: pulumi.Output<string>;
  declare readonly parentId: pulumi.Output<string | null>;
  declare readonly defaultToken: pulumi.Output<boolean>;
  /** The platform id. Same as `id`, so it stays known at preview while the entity is updated. */
  declare readonly entityId: pulumi.Output<string>;
  declare readonly tokenQuota: pulumi.Output<number>;
  /** The default token issued on create, if any; adopt it with `ApiToken({ adoptDefaultToken: true })`. */
  declare readonly defaultTokenId: pulumi.Output<string | null>;

  constructor(name: string, args: EntityArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      entityProvider,
      name,
      {
        ...args,
        tokenQuota: undefined,
        defaultTokenId: undefined,
        __key: urnOf(name, 'Entity', opts),
      },
      opts,
      'tokenplane',
      'Entity',
    );
    Object.defineProperty(this, 'entityId', { value: this.id, enumerable: true });
    declareEntity(this.entityId, {
      label: typeof args.displayName === 'string' ? args.displayName : name,
      tier: args.tier,
      defaultToken: args.defaultToken,
    });
  }
}

export type ApiTokenArgs = {
  /** The entity that holds the token: `entity.entityId`, or the id of an existing entity. Changing it replaces. */
  entityId: pulumi.Input<string>;
  /** The token's name on the platform. Changes in place. */
  displayName: pulumi.Input<string>;
  /** `active` (default) or `disabled`. Changes in place. */
  status?: pulumi.Input<'active' | 'disabled'>;
  /** RFC 3339 expiry, or null for never; omitted: the platform's default (365 days). Changes in place. */
  expiresAt?: pulumi.Input<string | null>;
  /** Take over the entity's auto-issued default token instead of creating one. */
  adoptDefaultToken?: pulumi.Input<boolean>;
  /** Bring an existing token under management (`pulumi import` does not work for dynamic providers). */
  tokenId?: pulumi.Input<string>;
  /** README "Token permissions and limits". `secret` (default) or `publishable` (for web pages; needs allowedOrigins). Changing it replaces. */
  type?: pulumi.Input<'secret' | 'publishable'>;
  /** What the token may read; a scope above the entity's tier fails at preview. Changes in place, like the rest. */
  scopes?: pulumi.Input<pulumi.Input<string>[]>;
  /** `https://host[:port]` or `https://*.domain`; empty: any origin. */
  allowedOrigins?: pulumi.Input<pulumi.Input<string>[]>;
  /** IPv4/IPv6 addresses and CIDR ranges; empty: any address. */
  allowedIps?: pulumi.Input<pulumi.Input<string>[]>;
  rateLimit?: pulumi.Input<{ requests: number; perSeconds: number } | null>;
  usageLimit?: pulumi.Input<{ limit: number; period: 'day' | 'month' | 'total' } | null>;
  /** Secret tokens only: requests are signed (RFC 9421), the value is never sent. */
  requireSignedRequests?: pulumi.Input<boolean>;
  /**
   * How long each value lives (a duration such as `720h`; instead of `expiresAt`).
   * The `pulumi up` after the renewal time (`renewBefore` ahead of expiry)
   * rotates the token: a new value under the same id, the previous one kept
   * verifying — and in `previousValue` — for `rotationGracePeriod`.
   */
  lifetime?: pulumi.Input<string>;
  /** Rotate this long before expiry (shorter than `lifetime`). Default: a third of the lifetime. */
  renewBefore?: pulumi.Input<string>;
  /** How long the replaced value keeps verifying. Default: `renewBefore` (at most 720h). */
  rotationGracePeriod?: pulumi.Input<string>;
};

export class ApiToken extends pulumi.dynamic.Resource {
  declare readonly entityId: pulumi.Output<string>;
  declare readonly displayName: pulumi.Output<string>;
  declare readonly status: pulumi.Output<'active' | 'disabled'>;
  declare readonly expiresAt: pulumi.Output<string | null>;
  declare readonly adoptDefaultToken: pulumi.Output<boolean>;
  /** The platform id of the token. Same as `id`. */
  declare readonly tokenId: pulumi.Output<string>;
  /** A non-secret fragment that identifies the value to a person. */
  declare readonly hint: pulumi.Output<string>;
  /** The token value. Always a Pulumi secret. */
  declare readonly value: pulumi.Output<string>;
  /** The permission fields as the platform holds them (a refresh shows changes made out of band). */
  declare readonly type: pulumi.Output<'secret' | 'publishable'>;
  declare readonly scopes: pulumi.Output<string[]>;
  declare readonly allowedOrigins: pulumi.Output<string[]>;
  declare readonly allowedIps: pulumi.Output<string[]>;
  declare readonly rateLimit: pulumi.Output<{ requests: number; perSeconds: number } | null>;
  declare readonly usageLimit: pulumi.Output<{
    limit: number;
    period: 'day' | 'month' | 'total';
  } | null>;
  declare readonly requireSignedRequests: pulumi.Output<boolean>;
  declare readonly lifetime: pulumi.Output<string | null>;
  declare readonly renewBefore: pulumi.Output<string | null>;
  declare readonly rotationGracePeriod: pulumi.Output<string | null>;
  /** When the next `pulumi up` rotates the token; null without a `lifetime`. */
  declare readonly renewalTime: pulumi.Output<string | null>;
  /** Rotations on `pulumi up` so far. */
  declare readonly rotations: pulumi.Output<number>;
  /** The value the last rotation replaced, while it still verifies; then null. Always a Pulumi secret. */
  declare readonly previousValue: pulumi.Output<string | null>;
  /** When `previousValue` stops verifying (the first `up` after it drops it). */
  declare readonly previousValueExpiresAt: pulumi.Output<string | null>;

  constructor(name: string, args: ApiTokenArgs, opts?: pulumi.CustomResourceOptions) {
    const __declaration = declareToken(name, args);
    super(
      apiTokenProvider,
      name,
      {
        type: undefined,
        scopes: undefined,
        allowedOrigins: undefined,
        allowedIps: undefined,
        rateLimit: undefined,
        usageLimit: undefined,
        requireSignedRequests: undefined,
        // An output also when not declared: the expiry a lifetime (or the platform) gives.
        expiresAt: undefined,
        lifetime: undefined,
        renewBefore: undefined,
        rotationGracePeriod: undefined,
        ...args,
        hint: undefined,
        value: undefined,
        renewalTime: undefined,
        rotations: undefined,
        previousValue: undefined,
        previousValueExpiresAt: undefined,
        __declaration,
        __key: urnOf(name, 'ApiToken', opts),
      },
      {
        ...opts,
        additionalSecretOutputs: [
          ...(opts?.additionalSecretOutputs ?? []),
          'value',
          'previousValue',
        ],
      },
      'tokenplane',
      'ApiToken',
    );
    Object.defineProperty(this, 'tokenId', { value: this.id, enumerable: true });
  }
}
