// The tokenplane operator installed with Pulumi, for teams that drive
// Kubernetes from Pulumi rather than GitOps: the namespace of deploy/, the
// credentials Secret, the Helm chart of deploy/helm (its crds/ are the CRDs of
// crds/; it brings the RBAC and the Deployment), then Entity and ApiToken
// custom resources that the operator reconciles into tokens and Secrets.
//
// Settings (`pulumi config set …`, README "The operator, installed with Pulumi"):
//   platformEndpoint         the platform's URL as seen from the operator's pods
//   --secret operatorApiKey  an admin access key (or the administrator key)
//   image                    optional: operator image, `repository:tag`
//   skipAwait                optional: true to not wait for the Deployment to be
//                            ready (a cluster that cannot pull or run it yet)
import { readFileSync } from 'node:fs';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import YAML from 'yaml';

const config = new pulumi.Config();
const repository = new URL('../../../', import.meta.url).pathname;
const credentials = 'tokenplane-operator-credentials';

// deploy/namespace.yaml, as `kubectl apply` would take it (restricted Pod Security).
const namespaceManifest = YAML.parse(
  readFileSync(`${repository}deploy/namespace.yaml`, 'utf8'),
) as k8s.types.input.core.v1.Namespace;
const namespace = new k8s.core.v1.Namespace('tokenplane-system', namespaceManifest);

const apiKey = new k8s.core.v1.Secret('operator-credentials', {
  metadata: { name: credentials, namespace: namespace.metadata.name },
  stringData: { apiKey: config.requireSecret('operatorApiKey') },
});

const image = config.get('image')?.split(/:(?=[^:/]+$)/);
const operator = new k8s.helm.v4.Chart(
  'tokenplane-operator',
  {
    chart: `${repository}deploy/helm/tokenplane-operator`,
    namespace: namespace.metadata.name,
    values: {
      platform: { endpoint: config.require('platformEndpoint'), credentialsSecret: credentials },
      ...(image ? { image: { repository: image[0], tag: image[1] ?? '' } } : {}),
    },
    skipAwait: config.getBoolean('skipAwait') ?? false,
  },
  { dependsOn: [apiKey] },
);

// What the operator reconciles: a reseller, a customer and a token in namespace acme.
const acme = new k8s.core.v1.Namespace('acme', { metadata: { name: 'acme' } });
const custom = (kind: 'Entity' | 'ApiToken', name: string, spec: Record<string, unknown>) =>
  new k8s.apiextensions.CustomResource(
    name,
    {
      apiVersion: 'tokenplane.dev/v1alpha1',
      kind,
      metadata: { name, namespace: acme.metadata.name },
      spec,
    },
    // The CRDs come with the chart.
    { dependsOn: [operator] },
  );

const reseller = custom('Entity', 'acme', {
  displayName: 'ACME Reseller',
  kind: 'Reseller',
  tier: 'Advanced',
  defaultToken: false,
});
const customer = custom('Entity', 'initech', {
  displayName: 'Initech',
  kind: 'Customer',
  tier: 'Advanced',
  parentRef: { name: 'acme' },
  defaultToken: false,
});
const token = custom('ApiToken', 'initech-reporting', {
  entityRef: { name: 'initech' },
  displayName: 'reporting',
  lifetime: '720h',
  renewBefore: '240h',
  secretName: 'initech-reporting-token',
  secretTemplate: { labels: { app: 'reporting' } },
});

export const operatorNamespace = namespace.metadata.name;
export const customResources = [reseller, customer, token].map((r) => r.metadata.name);
// The Secret the operator writes for the ApiToken (keys token, tokenId, entityId, endpoint).
export const tokenSecret = pulumi.interpolate`${acme.metadata.name}/initech-reporting-token`;
