// A customer and two of its tokens, each written into a Kubernetes Secret for
// the app that uses it — by Pulumi alone, no operator in the cluster. The
// Secrets have the keys the operator writes (`token`, `tokenId`, `entityId`,
// `endpoint`), so apps read them the same way either way.
//
// In your own project: `import { Entity } from 'tokenplane'` and
// `import { TokenSecret } from 'tokenplane/kubernetes'`. Here the checkout's
// sources are imported by path, so that any Node.js language host runs it.
import * as k8s from '@pulumi/kubernetes';
import { Entity } from '../../../provider/index.ts';
import { TokenSecret } from '../../../provider/kubernetes/index.ts';

const namespace = new k8s.core.v1.Namespace('shop', { metadata: { name: 'shop' } });

const shop = new Entity('shop', {
  displayName: 'Shop',
  kind: 'customer',
  tier: 'advanced',
  defaultToken: false,
});

// Secret `shop-web` in namespace `shop`, labelled for the web app.
const web = new TokenSecret('shop-web', {
  entityId: shop.entityId,
  displayName: 'web',
  namespace: namespace.metadata.name,
  secretTemplate: { labels: { app: 'web' } },
});

// A token that never expires, in a Secret named by hand.
const reports = new TokenSecret('shop-reports', {
  entityId: shop.entityId,
  displayName: 'reports',
  expiresAt: null,
  namespace: namespace.metadata.name,
  secretName: 'reports-token',
});

export const entityId = shop.entityId;
export const secrets = { web: web.secretName, reports: reports.secretName };
export const hints = { web: web.hint, reports: reports.hint };
// A Pulumi secret, shown as [secret]: `pulumi stack output webToken --show-secrets`.
export const webToken = web.value;
