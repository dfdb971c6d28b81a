/**
 * The Kubernetes Secret that hands an issued token to applications (README "Kubernetes operator"),
 * laid out once for both writers: the operator (one Secret per ApiToken custom
 * resource) and the Pulumi `TokenSecret` component. Applications and policies
 * that read these Secrets then see the same keys and labels, whoever wrote them.
 * Plain strings here; each writer encodes as its API wants.
 */

/** Label on every Secret tokenplane writes (a selector for tools and policies). */
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'tokenplane' } as const;

/** The token's non-secret hint: tells a person, and a diff, which value the Secret holds. */
export const HINT_ANNOTATION = 'tokenplane.dev/token-hint';

/**
 * During a rotation's grace period, the value it replaced, beside the new one:
 * applications that compare an incoming token (webhook receivers, proxies)
 * accept both until the old one stops verifying — at the time in the annotation.
 */
export const PREVIOUS_KEY = 'previousToken';
export const PREVIOUS_UNTIL_ANNOTATION = 'tokenplane.dev/previous-token-until';

/** Strings for the operator; Pulumi passes its Outputs, each key keeping its own secrecy. */
export type TokenSecretContent<T = string> = {
  value: T;
  tokenId: T;
  entityId: T;
  /** The platform the token authenticates against. */
  endpoint: T;
  /** README "Token permissions and limits": `secret` or `publishable` (an application tells a value it may put in a page). */
  type: T;
  /** The value a rotation replaced, while it still verifies; null (or absent) otherwise. */
  previousValue?: T | null;
};

/** The Secret's keys: `token`, `tokenId`, `entityId`, `endpoint`, `type`, and `previousToken` in a grace period. */
export function tokenSecretData<T>(content: TokenSecretContent<T>): Record<string, T> {
  return {
    token: content.value,
    tokenId: content.tokenId,
    entityId: content.entityId,
    endpoint: content.endpoint,
    type: content.type,
    ...(content.previousValue != null ? { [PREVIOUS_KEY]: content.previousValue } : {}),
  };
}
