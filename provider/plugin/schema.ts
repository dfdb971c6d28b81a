/**
 * The Pulumi package schema of the provider plugin (README "Pulumi provider for every language"), derived from the
 * zod schemas: the resources' inputs are the dynamic provider's own
 * (provider/impl/inputs.ts), their outputs are those inputs extended with what
 * the implementation returns (checked against its output types at compile
 * time). `npm run plugin:schema` writes it to provider/schema.json, from which
 * the SDKs are generated; test/unit/plugin-schema.test.ts fails when it is stale.
 */
import { z } from 'zod';
import { Id, Timestamp, TokenPermissions, TokenStatus } from '../../core/schemas/index.ts';
import type { ApiTokenOutputs } from '../impl/api-token.ts';
import type { EntityOutputs } from '../impl/entity.ts';
import { ApiTokenInputs, EntityInputs } from '../impl/inputs.ts';

export const PACKAGE = 'tokenplane';
export const ENTITY = `${PACKAGE}:index:Entity`;
export const API_TOKEN = `${PACKAGE}:index:ApiToken`;

const described = <T extends z.ZodType>(schema: T, description: string) =>
  schema.meta({ description });

/**
 * `null` is absence in most Pulumi languages (Python's None, Go's nil, YAML's
 * null), so a token that never expires says `expiresAt: "never"` to the plugin,
 * which hands the implementation its `null` (provider.ts).
 */
export const NEVER = 'never';
export const PluginApiTokenInputs = ApiTokenInputs.extend({
  expiresAt: z
    .union([Timestamp, z.literal(NEVER)])
    .optional()
    .meta({
      description:
        'An RFC 3339 timestamp such as "2027-01-01T00:00:00Z", or "never"; left out, the platform\'s default (365 days).',
    }),
});

/** What an Entity holds after a step: its inputs as the platform has them, and what the platform adds. */
export const EntityState = EntityInputs.extend({
  parentId: described(Id.nullable(), 'The parent reseller; none for a top-level entity.'),
  defaultToken: described(
    z.boolean(),
    'Whether the platform issued the `default` token on create.',
  ),
  entityId: described(Id, 'The platform id of the entity (the same as `id`).'),
  tokenQuota: described(z.number().int(), 'How many tokens the entity may hold (from its tier).'),
  defaultTokenId: described(
    Id.nullable(),
    'The default token issued on create, if any; take it over with an ApiToken `adoptDefaultToken: true`.',
  ),
});

const Duration = z.string().nullable();

/** What an ApiToken holds after a step. */
export const ApiTokenState = ApiTokenInputs.extend({
  ...TokenPermissions.omit({ usage: true }).shape,
  status: TokenStatus,
  expiresAt: described(Timestamp.nullable(), 'The expiry; none when the token never expires.'),
  adoptDefaultToken: z.boolean(),
  tokenId: described(Id, 'The platform id of the token (the same as `id`).'),
  hint: described(z.string(), 'A non-secret fragment that identifies the value to a person.'),
  value: described(z.string(), 'The token value (a secret).'),
  lifetime: Duration,
  renewBefore: Duration,
  rotationGracePeriod: Duration,
  renewalTime: described(
    Timestamp.nullable(),
    'When the next `pulumi up` rotates the token; none without a `lifetime`.',
  ),
  rotations: described(z.number().int(), 'Rotations made on `pulumi up` so far.'),
  previousValue: described(
    z.string().nullable(),
    'The value the last rotation replaced, while it still verifies (a secret).',
  ),
  previousValueExpiresAt: described(
    Timestamp.nullable(),
    'When `previousValue` stops verifying; the first `up` after that drops it.',
  ),
});

// The states above are the implementation's outputs, property for property.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameEntity: Same<z.infer<typeof EntityState>, EntityOutputs> = true;
const sameApiToken: Same<z.infer<typeof ApiTokenState>, ApiTokenOutputs> = true;
void [sameEntity, sameApiToken];

/** Outputs that are secrets in the state and in every SDK. */
export const SECRET_OUTPUTS: Record<string, readonly string[]> = {
  [ENTITY]: [],
  [API_TOKEN]: ['value', 'previousValue'],
};

const RESOURCES = {
  [ENTITY]: {
    inputs: EntityInputs,
    state: EntityState,
    description:
      'A reseller or customer on the tokenplane platform. Changing `kind` or `parentId` replaces it; ' +
      'a tier change is judged against the ceiling and the quota at preview. ' +
      'Import with `pulumi import tokenplane:index:Entity NAME <entityId>`.',
  },
  [API_TOKEN]: {
    inputs: PluginApiTokenInputs,
    state: ApiTokenState,
    description:
      "An API token of an entity, within its tier's quota and scope ceiling (refused at preview). " +
      '`value` is a secret output. With a `lifetime`, `pulumi up` rotates it once its renewal time has passed. ' +
      'Import with `pulumi import tokenplane:index:ApiToken NAME <tokenId>`.',
  },
} as const;

/** Provider configuration: stack config `tokenplane:endpoint` and `tokenplane:apiKey`. */
const CONFIG = {
  endpoint: {
    type: 'string',
    description:
      'URL of the tokenplane platform API. Falls back to the TOKENPLANE_ENDPOINT environment variable.',
  },
  apiKey: {
    type: 'string',
    secret: true,
    description:
      'Administrator key or admin access key for the platform. Falls back to the TOKENPLANE_API_KEY environment variable.',
  },
};

type JsonSchema = {
  type?: string | string[];
  description?: string;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
};
type PulumiProperty = {
  type?: string;
  $ref?: string;
  items?: PulumiProperty;
  description?: string;
  secret?: boolean;
};
type ObjectType = {
  type: 'object';
  description?: string;
  properties: Record<string, PulumiProperty>;
  required: string[];
};

const capitalized = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * One JSON Schema property as a Pulumi property: null is absence in Pulumi,
 * enums are strings (their values in the description), objects become named
 * types of the package (`rateLimit` → `tokenplane:index:RateLimit`).
 */
function propertyOf(
  json: JsonSchema,
  name: string,
  types: Record<string, ObjectType>,
): PulumiProperty {
  if (Array.isArray(json.type)) {
    const [type, ...rest] = json.type.filter((t) => t !== 'null');
    if (rest.length > 0) throw new Error(`schema: property "${name}" has several types`);
    return propertyOf({ ...json, type }, name, types);
  }
  const description =
    json.description ?? (json.enum ? `One of ${json.enum.join(', ')}.` : undefined);
  const withDescription = (p: PulumiProperty) => (description ? { ...p, description } : p);
  const variants = (json.anyOf ?? []).filter((v) => v.type !== 'null');
  if (variants.length > 0) {
    const [first] = variants as [JsonSchema];
    // A choice of string formats (addresses or ranges) is a string.
    const inner = variants.every((v) => v.type === 'string') ? { type: 'string' } : first;
    const merged = propertyOf(
      { ...inner, description: json.description ?? inner.description },
      name,
      types,
    );
    return description ? { ...merged, description } : merged;
  }
  switch (json.type) {
    case 'array':
      return withDescription({ type: 'array', items: propertyOf(json.items ?? {}, name, types) });
    case 'object': {
      const token = `${PACKAGE}:index:${capitalized(name)}`;
      types[token] = objectType(json, types);
      return withDescription({ $ref: `#/types/${token}` });
    }
    case 'string':
    case 'integer':
    case 'number':
    case 'boolean':
      return withDescription({ type: json.type });
    default:
      throw new Error(`schema: property "${name}" has no Pulumi type (${JSON.stringify(json)})`);
  }
}

function objectType(json: JsonSchema, types: Record<string, ObjectType>): ObjectType {
  const properties = Object.fromEntries(
    Object.entries(json.properties ?? {}).map(([k, v]) => [k, propertyOf(v, k, types)]),
  );
  return {
    type: 'object',
    ...(json.description ? { description: json.description } : {}),
    properties,
    required: json.required ?? [],
  };
}

const jsonOf = (schema: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { io, unrepresentable: 'throw' }) as JsonSchema;

/** Outputs that may be null are not required in Pulumi (null is absence). */
function requiredOutputs(state: z.ZodObject): string[] {
  return Object.entries(state.shape)
    .filter(([, s]) => !(s as z.ZodType).safeParse(null).success)
    .filter(([, s]) => !(s as z.ZodType).safeParse(undefined).success)
    .map(([k]) => k);
}

function resourceSchema(token: keyof typeof RESOURCES, types: Record<string, ObjectType>) {
  const { inputs, state, description } = RESOURCES[token];
  const inputJson = jsonOf(inputs, 'input');
  const stateJson = jsonOf(state, 'output');
  const secret = (k: string) => (SECRET_OUTPUTS[token]?.includes(k) ? { secret: true } : {});
  // An output says what its input says, unless it has a description of its own.
  const props = (json: JsonSchema) =>
    Object.fromEntries(
      Object.entries(json.properties ?? {}).map(([k, v]) => {
        const description = v.description ?? inputJson.properties?.[k]?.description;
        return [k, { ...propertyOf({ ...v, description }, k, types), ...secret(k) }];
      }),
    );
  return {
    description,
    inputProperties: props(inputJson),
    requiredInputs: inputJson.required ?? [],
    properties: props(stateJson),
    required: requiredOutputs(state),
  };
}

/** The package schema, as provider/schema.json holds it. */
export function packageSchema(version: string) {
  const types: Record<string, ObjectType> = {};
  const resources = {
    [ENTITY]: resourceSchema(ENTITY, types),
    [API_TOKEN]: resourceSchema(API_TOKEN, types),
  };
  return {
    name: PACKAGE,
    displayName: 'tokenplane',
    version,
    description:
      'API tokens as declarative infrastructure: tokenplane entities and their API tokens.',
    keywords: ['pulumi', 'tokenplane', 'api-tokens', 'category/utility'],
    license: 'Apache-2.0',
    publisher: 'tokenplane',
    // SDKs that stand on their own: a go.mod in sdk/go, versions in every package file.
    meta: { moduleFormat: '(.*)', supportPack: true },
    config: { variables: CONFIG },
    provider: {
      description:
        'The tokenplane provider: where the platform is, and the key it is managed with.',
      inputProperties: CONFIG,
      properties: CONFIG,
    },
    resources,
    types: Object.fromEntries(Object.entries(types).sort(([a], [b]) => a.localeCompare(b))),
    language: {
      nodejs: {
        packageName: '@tokenplane/pulumi',
        packageDescription: 'tokenplane resources for Pulumi',
      },
      python: { packageName: 'pulumi_tokenplane', pyproject: { enabled: true } },
      go: { importBasePath: 'tokenplane/sdk/go/tokenplane', generateResourceContainerTypes: false },
      csharp: { rootNamespace: 'Tokenplane', packageReferences: { Pulumi: '3.*' } },
      // Sources only: a Java program builds them with its own Maven or Gradle files.
      java: { basePackage: 'dev.tokenplane', buildFiles: 'none' },
    },
  };
}

/** The schema as the file holds it (stable key order, two-space indent, final newline). */
export function schemaText(version: string): string {
  return `${JSON.stringify(packageSchema(version), null, 2)}\n`;
}
