// The program of the plugin's lifecycle suites in each language the tests run
// (YAML, Python, Go): a reseller with a token, a Lite customer whose one token
// takes over its default token — and the changes of each step.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../engines/engines.ts';

export type Language = 'yaml' | 'python' | 'go';

export type Step = {
  /** The reseller's token: its name, its rate limit, or made publishable (a replacement). */
  ciName?: string;
  ciRequests?: number;
  ciPublishable?: boolean;
  /** A second token for the Lite customer (over its quota), or one above its tier. */
  extra?: 'over-quota' | 'premium';
  /** What `pulumi import` printed, in the program's language. */
  imported?: string;
};

/** The objects of the import step, as the suite creates them on the platform. */
export type Imported = { entityId: string; tokenId: string };

export type Program = {
  /** The project's files for this step. */
  files(step: Step): Record<string, string>;
  /**
   * How the program takes in what `pulumi import` adopted: the code it prints
   * (`--out <file>`, made part of the program), or — where the language host
   * cannot print code (the Python and Go hosts buildable here lack
   * GenerateProgram) — the declaration a person writes.
   */
  imports:
    | { printed: true; file: string; embed(printed: string): string }
    | { printed: false; declare(ids: Imported): string };
};

const ORIGIN = 'https://dashboard.example';
const GO_EXAMPLE = join(repoRoot, 'examples', 'pulumi-go');

const yaml: Program = {
  imports: {
    printed: true,
    file: 'imported.yaml',
    embed: (printed) => printed.replace(/^resources:\n/, ''),
  },
  files: ({ ciName = 'ci', ciRequests = 60, ciPublishable, extra, imported = '' }) => ({
    'Pulumi.yaml': `name: life
runtime: yaml
resources:
  reseller:
    type: tokenplane:index:Entity
    properties:
      displayName: Reseller
      kind: reseller
      tier: advanced
      defaultToken: false
  shop:
    type: tokenplane:index:Entity
    properties:
      displayName: Shop
      kind: customer
      tier: lite
      parentId: \${reseller.entityId}
  ci:
    type: tokenplane:index:ApiToken
    properties:
      entityId: \${reseller.entityId}
      displayName: ${ciName}
      expiresAt: never
      rateLimit:
        requests: ${ciRequests}
        perSeconds: 60
${ciPublishable ? `      type: publishable\n      allowedOrigins:\n        - ${ORIGIN}\n` : ''}  app:
    type: tokenplane:index:ApiToken
    properties:
      entityId: \${shop.entityId}
      displayName: app
      adoptDefaultToken: ${extra !== 'premium'}
${
  extra
    ? `  ${extra === 'premium' ? 'premium' : 'extra'}:
    type: tokenplane:index:ApiToken
    properties:
      entityId: \${shop.entityId}
      displayName: ${extra === 'premium' ? 'premium' : 'extra'}
${extra === 'premium' ? '      scopes:\n        - metrics:premium:read\n' : ''}`
    : ''
}${imported}
outputs:
  resellerId: \${reseller.entityId}
  shopId: \${shop.entityId}
  ciId: \${ci.tokenId}
  ciValue: \${ci.value}
  appId: \${app.tokenId}
  appValue: \${app.value}
`,
  }),
};

const python: Program = {
  imports: {
    printed: false,
    declare: ({ entityId }) => `imported = tokenplane.Entity(
    "imported", display_name="Imported", kind="customer", tier="advanced"
)
legacy = tokenplane.ApiToken(
    "legacy",
    entity_id="${entityId}",
    display_name="legacy",
    expires_at="never",
    scopes=["metrics:core:read"],
    allowed_ips=["10.0.0.0/8"],
    usage_limit=tokenplane.UsageLimitArgs(limit=1000, period="month"),
)
`,
  },
  files: ({ ciName = 'ci', ciRequests = 60, ciPublishable, extra, imported = '' }) => ({
    'Pulumi.yaml': 'name: life\nruntime: python\n',
    '__main__.py': `import pulumi
import pulumi_tokenplane as tokenplane

reseller = tokenplane.Entity(
    "reseller", display_name="Reseller", kind="reseller", tier="advanced", default_token=False
)
shop = tokenplane.Entity(
    "shop", display_name="Shop", kind="customer", tier="lite", parent_id=reseller.entity_id
)
ci = tokenplane.ApiToken(
    "ci",
    entity_id=reseller.entity_id,
    display_name="${ciName}",
    expires_at="never",
    rate_limit=tokenplane.RateLimitArgs(requests=${ciRequests}, per_seconds=60),
${ciPublishable ? `    type="publishable",\n    allowed_origins=["${ORIGIN}"],\n` : ''})
app = tokenplane.ApiToken(
    "app", entity_id=shop.entity_id, display_name="app", adopt_default_token=${extra === 'premium' ? 'False' : 'True'}
)
${
  extra === 'premium'
    ? 'tokenplane.ApiToken("premium", entity_id=shop.entity_id, display_name="premium", scopes=["metrics:premium:read"])\n'
    : extra === 'over-quota'
      ? 'tokenplane.ApiToken("extra", entity_id=shop.entity_id, display_name="extra")\n'
      : ''
}
pulumi.export("resellerId", reseller.entity_id)
pulumi.export("shopId", shop.entity_id)
pulumi.export("ciId", ci.token_id)
pulumi.export("ciValue", ci.value)
pulumi.export("appId", app.token_id)
pulumi.export("appValue", app.value)

${imported}
`,
  }),
};

/**
 * One resource of the Go program: `variable, err := tokenplane.New<Kind>(…)`
 * (`_, err =` for one no later line names) and its error check.
 */
function goResource(variable: string, kind: 'Entity' | 'ApiToken', name: string, args: string) {
  return `\t\t${variable === '_' ? '_, err =' : `${variable}, err :=`} tokenplane.New${kind}(ctx, "${name}", &tokenplane.${kind}Args{\n${args}\t\t})
\t\tif err != nil {
\t\t\treturn err
\t\t}\n`;
}

const go: Program = {
  imports: {
    printed: false,
    declare: ({ entityId }) =>
      goResource(
        '_',
        'Entity',
        'imported',
        '\t\t\tDisplayName: pulumi.String("Imported"),\n\t\t\tKind: pulumi.String("customer"),\n\t\t\tTier: pulumi.String("advanced"),\n',
      ) +
      goResource(
        '_',
        'ApiToken',
        'legacy',
        `\t\t\tEntityId: pulumi.String("${entityId}"),\n\t\t\tDisplayName: pulumi.String("legacy"),\n\t\t\tExpiresAt: pulumi.String("never"),\n\t\t\tScopes: pulumi.StringArray{pulumi.String("metrics:core:read")},\n\t\t\tAllowedIps: pulumi.StringArray{pulumi.String("10.0.0.0/8")},\n\t\t\tUsageLimit: &tokenplane.UsageLimitArgs{Limit: pulumi.Int(1000), Period: pulumi.String("month")},\n`,
      ),
  },
  files: ({ ciName = 'ci', ciRequests = 60, ciPublishable, extra, imported = '' }) => ({
    'Pulumi.yaml': 'name: life\nruntime: go\n',
    // The example's module files: the same dependencies, the SDK found where it is.
    'go.mod': readFileSync(join(GO_EXAMPLE, 'go.mod'), 'utf8').replace(
      '=> ../../sdk/go',
      `=> ${join(repoRoot, 'sdk', 'go')}`,
    ),
    'go.sum': readFileSync(join(GO_EXAMPLE, 'go.sum'), 'utf8'),
    'main.go': `package main

import (
\t"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
\t"tokenplane/sdk/go/tokenplane"
)

func main() {
\tpulumi.Run(func(ctx *pulumi.Context) error {
${goResource('reseller', 'Entity', 'reseller', '\t\t\tDisplayName: pulumi.String("Reseller"),\n\t\t\tKind: pulumi.String("reseller"),\n\t\t\tTier: pulumi.String("advanced"),\n\t\t\tDefaultToken: pulumi.Bool(false),\n')}${goResource('shop', 'Entity', 'shop', '\t\t\tDisplayName: pulumi.String("Shop"),\n\t\t\tKind: pulumi.String("customer"),\n\t\t\tTier: pulumi.String("lite"),\n\t\t\tParentId: reseller.EntityId,\n')}${goResource(
  'ci',
  'ApiToken',
  'ci',
  `\t\t\tEntityId: reseller.EntityId,\n\t\t\tDisplayName: pulumi.String("${ciName}"),\n\t\t\tExpiresAt: pulumi.String("never"),\n\t\t\tRateLimit: &tokenplane.RateLimitArgs{Requests: pulumi.Int(${ciRequests}), PerSeconds: pulumi.Int(60)},\n${
    ciPublishable
      ? `\t\t\tType: pulumi.String("publishable"),\n\t\t\tAllowedOrigins: pulumi.StringArray{pulumi.String("${ORIGIN}")},\n`
      : ''
  }`,
)}${goResource('app', 'ApiToken', 'app', `\t\t\tEntityId: shop.EntityId,\n\t\t\tDisplayName: pulumi.String("app"),\n\t\t\tAdoptDefaultToken: pulumi.Bool(${extra !== 'premium'}),\n`)}${
  extra
    ? goResource(
        '_',
        'ApiToken',
        extra === 'premium' ? 'premium' : 'extra',
        `\t\t\tEntityId: shop.EntityId,\n\t\t\tDisplayName: pulumi.String("${extra === 'premium' ? 'premium' : 'extra'}"),\n${
          extra === 'premium'
            ? '\t\t\tScopes: pulumi.StringArray{pulumi.String("metrics:premium:read")},\n'
            : ''
        }`,
      ).replace('_, err :=', '_, err =')
    : ''
}${imported}\t\tctx.Export("resellerId", reseller.EntityId)
\t\tctx.Export("shopId", shop.EntityId)
\t\tctx.Export("ciId", ci.TokenId)
\t\tctx.Export("ciValue", ci.Value)
\t\tctx.Export("appId", app.TokenId)
\t\tctx.Export("appValue", app.Value)
\t\treturn nil
\t})
}
`,
  }),
};

export const PROGRAMS: Record<Language, Program> = { yaml, python, go };
