/**
 * Renders crds/*.yaml from the zod schemas in schemas.ts. `npm run crds` writes
 * them; test/operator/crds.test.ts fails when the committed YAML is stale.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { z } from 'zod';
import {
  ApiTokenSpec,
  ApiTokenStatus,
  EntitySpec,
  EntityStatus,
  GROUP,
  KINDS,
  VERSION,
} from './schemas.ts';

type Json = { [key: string]: unknown };

/** zod's JSON Schema → a Kubernetes structural schema. */
export function structural(schema: z.ZodType): Json {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw' }) as Json;
  delete json.$schema;
  return clean(json) as Json;
}

function clean(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(clean);
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node as Json)) {
    // Structural schemas forbid `additionalProperties` beside `properties`; unknown
    // fields are pruned by the API server anyway. `propertyNames` is not supported.
    if (key === 'propertyNames') continue;
    if (key === 'additionalProperties' && value === false) continue;
    if (key === 'format' && value === 'date-time') {
      out.format = 'date-time';
      continue;
    }
    out[key] = clean(value);
  }
  // zod writes a pattern for ISO datetimes that Kubernetes' RE2 rejects; the format is enough.
  if (out.format === 'date-time') delete out.pattern;
  return oneString(out);
}

/**
 * A union of strings (an address: IPv4, IPv6 or a CIDR range) as one string
 * whose pattern is the alternatives': a structural schema may not give types
 * inside `anyOf`, and Kubernetes knows none of zod's `cidrv4`-like formats.
 */
function oneString(node: Json): Json {
  const branches = node.anyOf as Json[] | undefined;
  if (!branches?.every((b) => b.type === 'string' && typeof b.pattern === 'string')) return node;
  const { anyOf: _, ...rest } = node;
  return { ...rest, type: 'string', pattern: branches.map((b) => `(?:${b.pattern})`).join('|') };
}

const printer = {
  ready: {
    name: 'Ready',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Ready")].status',
  },
  reason: {
    name: 'Reason',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
    priority: 1,
  },
  age: { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
};

function crd(
  names: (typeof KINDS)[keyof typeof KINDS],
  description: string,
  spec: z.ZodType,
  status: z.ZodType,
  /** Shown between Ready and Reason, Age. */
  columns: Json[],
): Json {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${names.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'tokenplane', 'app.kubernetes.io/part-of': 'tokenplane' },
    },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: {
        kind: names.kind,
        listKind: `${names.kind}List`,
        plural: names.plural,
        singular: names.singular,
        shortNames: [...names.shortNames],
        categories: ['tokenplane'],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [printer.ready, ...columns, printer.reason, printer.age],
          schema: {
            openAPIV3Schema: {
              description,
              type: 'object',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string', description: 'APIVersion of this representation.' },
                kind: { type: 'string', description: 'Kind of this object.' },
                metadata: { type: 'object' },
                spec: structural(spec),
                status: {
                  ...structural(status),
                  description: 'Observed state, written by the operator.',
                },
              },
            },
          },
        },
      ],
    },
  };
}

export function renderCrds(): Record<string, string> {
  const entity = crd(
    KINDS.Entity,
    'An Entity is a reseller or customer on the tokenplane platform, with a tier that sets its token quota.',
    EntitySpec,
    EntityStatus,
    [
      { name: 'Kind', type: 'string', jsonPath: '.spec.kind' },
      { name: 'Tier', type: 'string', jsonPath: '.spec.tier' },
      { name: 'Tokens', type: 'integer', jsonPath: '.status.tokenCount' },
      { name: 'Quota', type: 'integer', jsonPath: '.status.tokenQuota' },
      { name: 'ID', type: 'string', jsonPath: '.status.id', priority: 1 },
    ],
  );
  const token = crd(
    KINDS.ApiToken,
    'An ApiToken is a platform API token issued to an Entity and written to a Secret in the same namespace.',
    ApiTokenSpec,
    ApiTokenStatus,
    [
      { name: 'Entity', type: 'string', jsonPath: '.spec.entityRef.name' },
      { name: 'Secret', type: 'string', jsonPath: '.status.secretName' },
      { name: 'Expires', type: 'date', jsonPath: '.status.expiresAt' },
      { name: 'Renews', type: 'date', jsonPath: '.status.renewalTime', priority: 1 },
      { name: 'Hint', type: 'string', jsonPath: '.status.hint', priority: 1 },
    ],
  );
  const header = '# Generated by `npm run crds` from operator/crds/schemas.ts. Do not edit.\n';
  return {
    'entities.tokenplane.dev.yaml': header + YAML.stringify(entity, { lineWidth: 0 }),
    'apitokens.tokenplane.dev.yaml': header + YAML.stringify(token, { lineWidth: 0 }),
  };
}

export const CRD_DIR = fileURLToPath(new URL('../../crds/', import.meta.url));
/** The Helm chart installs the same CRDs from its own crds/ folder. */
export const CHART_CRD_DIR = fileURLToPath(
  new URL('../../deploy/helm/tokenplane-operator/crds/', import.meta.url),
);

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [file, text] of Object.entries(renderCrds())) {
    writeFileSync(CRD_DIR + file, text);
    writeFileSync(CHART_CRD_DIR + file, text);
  }
  console.log(`wrote ${Object.keys(renderCrds()).join(', ')} to crds/`);
}
