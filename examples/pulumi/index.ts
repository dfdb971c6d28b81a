// A reseller with two customers — one per tier — and their API tokens, declared
// with the tokenplane Pulumi provider. Run from the repository root (see the
// README's "Pulumi provider" section): the root Pulumi.yaml points here.
//
// In your own project: `import { ApiToken, Entity } from 'tokenplane';`. Here the
// checkout's sources are imported by path, so that any Node.js language host
// runs it — older ones ignore Pulumi.yaml's `nodeargs`, so a custom export
// condition (`--conditions=tokenplane-source`) cannot be counted on.
import { ApiToken, Entity } from '../../provider/index.ts';

const reseller = new Entity('northwind', {
  displayName: 'Northwind Resale',
  kind: 'reseller',
  tier: 'advanced',
  // The reseller's tokens are all declared below; no auto-issued one.
  defaultToken: false,
});

// Advanced customer: up to five tokens.
const contoso = new Entity('contoso', {
  displayName: 'Contoso',
  kind: 'customer',
  tier: 'advanced',
  parentId: reseller.entityId,
  defaultToken: false,
});

// Lite customer: one token. It gets its default token on creation, so the one
// ApiToken declared for it takes that token over instead of asking for a second.
const fabrikam = new Entity('fabrikam', {
  displayName: 'Fabrikam',
  kind: 'customer',
  tier: 'lite',
  parentId: reseller.entityId,
});

const northwindCi = new ApiToken('northwind-ci', {
  entityId: reseller.entityId,
  displayName: 'ci',
});

// A publishable token (`tpp_…`) for Contoso's web dashboard: its value may sit in
// the page, because only these origins can use it, and only for the basic metrics.
const contosoWeb = new ApiToken('contoso-web', {
  entityId: contoso.entityId,
  displayName: 'web',
  expiresAt: '2030-01-01T00:00:00Z',
  type: 'publishable',
  allowedOrigins: ['https://dashboard.contoso.example', 'https://*.contoso.example'],
  rateLimit: { requests: 600, perSeconds: 60 },
});

// A server-side token that never sends its value (signed requests: the client's
// `signingTokenId`), from the office network, with a monthly budget.
const contosoReports = new ApiToken('contoso-reports', {
  entityId: contoso.entityId,
  displayName: 'reports',
  expiresAt: null, // never expires
  scopes: ['metrics:core:read', 'metrics:premium:read'],
  allowedIps: ['10.0.0.0/8'],
  usageLimit: { limit: 100_000, period: 'month' },
  requireSignedRequests: true,
});

const fabrikamApp = new ApiToken('fabrikam-app', {
  entityId: fabrikam.entityId,
  displayName: 'app',
  adoptDefaultToken: true,
});

export const entityIds = {
  northwind: reseller.entityId,
  contoso: contoso.entityId,
  fabrikam: fabrikam.entityId,
};

// Token values are Pulumi secrets, shown as [secret]:
// `pulumi stack output contosoWebToken --show-secrets`.
export const northwindCiToken = northwindCi.value;
export const contosoWebToken = contosoWeb.value;
export const contosoReportsToken = contosoReports.value;
export const fabrikamAppToken = fabrikamApp.value;

export const hints = {
  northwindCi: northwindCi.hint,
  contosoWeb: contosoWeb.hint,
  contosoReports: contosoReports.hint,
  fabrikamApp: fabrikamApp.hint,
};
