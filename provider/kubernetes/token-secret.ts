/**
 * `TokenSecret`: an ApiToken and the Kubernetes Secret that hands it to an
 * application, for Pulumi programs that drive Kubernetes themselves (no
 * operator). The Secret has the keys and labels the operator writes
 * (core/external/token-secret.ts), so applications read it the same way.
 *
 * The value stays a Pulumi secret end to end: the ApiToken's `value` is a secret
 * output, and the Kubernetes provider keeps a Secret's `stringData`/`data`
 * secret in the state.
 *
 * Rotation: a new value (the `pulumi up` after the ApiToken's renewal time
 * when it has a `lifetime`, or a rotation on the platform taken in by
 * `pulumi up --refresh`) updates the Secret in place — same object, same uid —
 * provided the Kubernetes provider has `enableSecretMutable` on; without it the
 * provider replaces a Secret whose data changed (deletes it, then creates it
 * again), so this component warns. While the ApiToken keeps the replaced value
 * (`previousValue`, for `rotationGracePeriod`), the Secret holds it as
 * `previousToken`, as the operator's does; the first `up` after drops it.
 */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import {
  HINT_ANNOTATION,
  MANAGED_BY,
  PREVIOUS_UNTIL_ANNOTATION,
  tokenSecretData,
} from '../../core/external/token-secret.ts';
import { ApiToken, type ApiTokenArgs } from '../index.ts';

type StringMap = pulumi.Input<Record<string, pulumi.Input<string>>>;

export type TokenSecretArgs = ApiTokenArgs & {
  /** Namespace of the Secret; default: the Kubernetes provider's namespace. */
  namespace?: pulumi.Input<string>;
  /** Name of the Secret; default: the resource name. Changing it replaces the Secret. */
  secretName?: pulumi.Input<string>;
  /** Labels and annotations added to the Secret (as the operator's `spec.secretTemplate`). */
  secretTemplate?: { labels?: StringMap; annotations?: StringMap };
  /**
   * The platform URL written under `endpoint`, for the application to call;
   * default: stack config `tokenplane:endpoint`, else `TOKENPLANE_ENDPOINT` —
   * the endpoint the provider uses. Set it when the cluster reaches the platform
   * at another address.
   */
  endpoint?: pulumi.Input<string>;
};

export class TokenSecret extends pulumi.ComponentResource {
  /** The token on the platform. */
  readonly apiToken: ApiToken;
  /** The Kubernetes Secret holding it. */
  readonly secret: k8s.core.v1.Secret;
  readonly tokenId: pulumi.Output<string>;
  readonly hint: pulumi.Output<string>;
  /** The token value. Always a Pulumi secret. */
  readonly value: pulumi.Output<string>;
  readonly secretName: pulumi.Output<string>;
  readonly namespace: pulumi.Output<string>;

  constructor(name: string, args: TokenSecretArgs, opts?: pulumi.ComponentResourceOptions) {
    super('tokenplane:kubernetes:TokenSecret', name, {}, opts);
    const { namespace, secretName, secretTemplate, endpoint, ...tokenArgs } = args;
    warnUnlessSecretsMutable(this);
    this.apiToken = new ApiToken(name, tokenArgs, { parent: this });
    const token = this.apiToken;
    this.secret = new k8s.core.v1.Secret(
      name,
      {
        metadata: {
          name: secretName ?? name,
          ...(namespace !== undefined ? { namespace } : {}),
          labels: pulumi.output(secretTemplate?.labels ?? {}).apply((labels) => ({
            ...labels,
            ...MANAGED_BY,
          })),
          annotations: pulumi
            .all([secretTemplate?.annotations ?? {}, token.hint, token.previousValueExpiresAt])
            .apply(([annotations, hint, previousUntil]) => ({
              ...annotations,
              [HINT_ANNOTATION]: hint,
              ...(previousUntil ? { [PREVIOUS_UNTIL_ANNOTATION]: previousUntil } : {}),
            })),
        },
        type: 'Opaque',
        // One output (secret, as the value is): whether `previousToken` is there depends on a value.
        stringData: pulumi
          .all([
            token.value,
            token.previousValue,
            token.tokenId,
            token.entityId,
            endpoint ?? configuredEndpoint(name),
            token.type,
          ])
          .apply(([value, previousValue, tokenId, entityId, endpoint, type]) =>
            tokenSecretData({ value, previousValue, tokenId, entityId, endpoint, type }),
          ),
      },
      { parent: this },
    );
    this.tokenId = token.tokenId;
    this.hint = token.hint;
    this.value = token.value;
    this.secretName = this.secret.metadata.name;
    this.namespace = this.secret.metadata.namespace;
    this.registerOutputs({
      tokenId: this.tokenId,
      hint: this.hint,
      value: this.value,
      secretName: this.secretName,
      namespace: this.namespace,
    });
  }
}

/** The endpoint the tokenplane provider is configured with (same settings, same order). */
function configuredEndpoint(name: string): string {
  const endpoint =
    new pulumi.Config('tokenplane').get('endpoint') ?? process.env.TOKENPLANE_ENDPOINT;
  if (!endpoint) {
    throw new Error(
      `TokenSecret "${name}": no endpoint to write into the Secret. Set \`pulumi config set ` +
        'tokenplane:endpoint https://…` (or TOKENPLANE_ENDPOINT), or pass `endpoint`.',
    );
  }
  return endpoint;
}

/** Program runs already warned (the Automation API runs inline programs several times in one process). */
const warnedRuns = new WeakSet<object>();

/**
 * With the default Kubernetes provider, its settings are the stack's: warn once
 * when they would make a rotation replace the Secret rather than update it.
 * (An explicit provider's settings cannot be read from the program; the README
 * says to create it with `enableSecretMutable: true`.)
 */
function warnUnlessSecretsMutable(component: pulumi.ComponentResource): void {
  const run = pulumi.runtime.getMonitor() ?? warnedRuns;
  if (warnedRuns.has(run) || component.getProvider('kubernetes::Secret')) return;
  const setting =
    new pulumi.Config('kubernetes').get('enableSecretMutable') ??
    process.env.PULUMI_K8S_ENABLE_SECRET_MUTABLE;
  if (setting === 'true') return;
  warnedRuns.add(run);
  void pulumi.log.warn(
    'TokenSecret: the Kubernetes provider replaces a Secret whose data changes (deletes it, ' +
      'then creates it), so a rotated token would leave a moment with no Secret. Run ' +
      '`pulumi config set kubernetes:enableSecretMutable true` to update it in place.',
    component,
  );
}
