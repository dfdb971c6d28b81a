/**
 * The Secret that carries an ApiToken's value: keys of README "Kubernetes operator", an owner
 * reference, `app.kubernetes.io/managed-by: tokenplane`, the template's labels
 * and annotations, and two non-secret annotations (the token's hint and a short
 * digest of the value) that tell, without revealing the token again, whether the
 * Secret still holds the current value.
 */
import { createHash } from 'node:crypto';
import type { KubernetesObject, V1ObjectMeta, V1Secret } from '@kubernetes/client-node';
import {
  HINT_ANNOTATION,
  MANAGED_BY,
  PREVIOUS_KEY,
  PREVIOUS_UNTIL_ANNOTATION,
  tokenSecretData,
} from '../../core/external/token-secret.ts';
import type { ApiTokenObject } from '../crds/schemas.ts';
import { API_VERSION } from '../crds/schemas.ts';
export const DIGEST_ANNOTATION = 'tokenplane.dev/value-digest';
export const OWNER_LABEL = 'tokenplane.dev/apitoken';

/**
 * What the operator keeps of a Secret (its informer's transform, and live
 * reads): the metadata it compares and a digest of each value — never a value,
 * so 10,000 cached Secrets cost little and hold no token. The few writes that
 * must carry an old value forward read the Secret live.
 */
export type SecretView = {
  metadata: Pick<
    V1ObjectMeta,
    'uid' | 'resourceVersion' | 'labels' | 'annotations' | 'ownerReferences'
  > & {
    name: string;
    namespace: string;
  };
  digests: Record<string, string>;
};

export function viewSecret(secret: V1Secret | KubernetesObject): SecretView;
export function viewSecret(secret: V1Secret | KubernetesObject | undefined): SecretView | undefined;
export function viewSecret(
  secret: V1Secret | KubernetesObject | undefined,
): SecretView | undefined {
  if (!secret) return undefined;
  const m = secret.metadata ?? {};
  const data = (secret as V1Secret).data ?? {};
  return {
    metadata: {
      name: m.name ?? '',
      namespace: m.namespace ?? '',
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      labels: m.labels,
      annotations: m.annotations,
      ownerReferences: m.ownerReferences,
    },
    digests: Object.fromEntries(
      Object.entries(data).map(([k, v]) => [k, digest(unb64(v) as string)]),
    ),
  };
}

export type SecretContent = {
  tokenId: string;
  entityId: string;
  endpoint: string;
  type: string;
  hint: string;
  /** Labels the operator's shard selects on, carried from the ApiToken. */
  shardLabels?: Record<string, string>;
};

/** The value a rotation replaced, kept beside the new one while it still verifies. */
export type PreviousValue = { value: string; until: Date };

export const secretNameOf = (obj: ApiTokenObject) => obj.spec.secretName ?? obj.metadata.name;

/**
 * The first 8 bytes of the value's SHA-256, in hex. Cut from the bytes, not the
 * hex string: a slice of a string keeps its whole parent alive, and 10,000
 * cached Secrets hold five digests each.
 */
export function digest(value: string): string {
  return createHash('sha256').update(value).digest().subarray(0, 8).toString('hex');
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const unb64 = (text: string | undefined) =>
  text === undefined ? undefined : Buffer.from(text, 'base64').toString('utf8');

function metadataOf(
  obj: ApiTokenObject,
  content: SecretContent,
  valueDigest: string,
  previous?: PreviousValue,
) {
  const template = obj.spec.secretTemplate ?? {};
  return {
    name: secretNameOf(obj),
    namespace: obj.metadata.namespace,
    labels: {
      ...template.labels,
      ...content.shardLabels,
      ...MANAGED_BY,
      [OWNER_LABEL]: obj.metadata.name,
    },
    annotations: {
      ...template.annotations,
      [HINT_ANNOTATION]: content.hint,
      [DIGEST_ANNOTATION]: valueDigest,
      ...(previous ? { [PREVIOUS_UNTIL_ANNOTATION]: previous.until.toISOString() } : {}),
    },
    ownerReferences: [
      {
        apiVersion: API_VERSION,
        kind: 'ApiToken',
        name: obj.metadata.name,
        uid: obj.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
  };
}

/**
 * The full desired Secret, for server-side apply (which also removes a
 * `previousToken` this field manager wrote before and no longer sends).
 */
export function desiredSecret(
  obj: ApiTokenObject,
  content: SecretContent,
  value: string,
  previous?: PreviousValue,
) {
  const data = tokenSecretData({ ...content, value, previousValue: previous?.value });
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metadataOf(obj, content, digest(value), previous),
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
  };
}

/**
 * What the Secret's `previousToken` should be now: after a rotation in this
 * reconcile (`rotatedUntil` set), the value the Secret held until then; otherwise
 * the one it already carries, while its grace lasts. Undefined once it ended.
 */
export function previousValue(
  existing: V1Secret | undefined,
  now: Date,
  rotatedUntil?: Date,
): PreviousValue | undefined {
  const data = existing?.data ?? {};
  if (rotatedUntil) {
    const value = unb64(data.token);
    return value === undefined ? undefined : { value, until: rotatedUntil };
  }
  const value = unb64(data[PREVIOUS_KEY]);
  const until = Date.parse(existing?.metadata?.annotations?.[PREVIOUS_UNTIL_ANNOTATION] ?? '');
  return value !== undefined && until > now.getTime()
    ? { value, until: new Date(until) }
    : undefined;
}

/** Until when the Secret's `previousToken` still verifies; undefined without one or once it ended. */
export function previousUntil(existing: SecretView | undefined, now: Date): Date | undefined {
  if (existing?.digests[PREVIOUS_KEY] === undefined) return undefined;
  const until = Date.parse(existing.metadata.annotations?.[PREVIOUS_UNTIL_ANNOTATION] ?? '');
  return until > now.getTime() ? new Date(until) : undefined;
}

/**
 * True when the existing Secret already holds the current value and metadata,
 * and a `previousToken` only while it still verifies.
 */
export function secretUpToDate(
  existing: SecretView | undefined,
  obj: ApiTokenObject,
  content: SecretContent,
  now: Date,
): boolean {
  if (!existing) return false;
  const { digests } = existing;
  if (digests[PREVIOUS_KEY] !== undefined && !previousUntil(existing, now)) return false;
  if (digests.token === undefined || tampered(existing)) return false;
  const annotations = existing.metadata.annotations ?? {};
  if (annotations[HINT_ANNOTATION] !== content.hint) return false;
  if (digests.tokenId !== digest(content.tokenId)) return false;
  if (digests.entityId !== digest(content.entityId)) return false;
  if (digests.endpoint !== digest(content.endpoint)) return false;
  if (digests.type !== digest(content.type)) return false;
  const want = metadataOf(obj, content, digests.token);
  const labels = existing.metadata?.labels ?? {};
  if (Object.entries(want.labels).some(([k, v]) => labels[k] !== v)) return false;
  if (Object.entries(want.annotations).some(([k, v]) => annotations[k] !== v)) return false;
  return (existing.metadata?.ownerReferences ?? []).some((r) => r.uid === obj.metadata.uid);
}

/** The Secret's value no longer matches the digest we wrote beside it. */
export function tampered(s: SecretView): boolean {
  const value = s.digests.token;
  return value === undefined || s.metadata.annotations?.[DIGEST_ANNOTATION] !== value;
}

/**
 * Why the Secret this ApiToken wants may not be written: it exists and is owned
 * neither by this ApiToken nor marked as its Secret. Null when writing is fine.
 */
export function secretConflict(
  existing: SecretView | undefined,
  obj: ApiTokenObject,
): string | null {
  if (!existing) return null;
  if ((existing.metadata?.ownerReferences ?? []).some((r) => r.uid === obj.metadata.uid))
    return null;
  if (existing.metadata?.labels?.[OWNER_LABEL] === obj.metadata.name) return null;
  const owner = existing.metadata?.ownerReferences?.find((r) => r.controller);
  const by = owner ? ` (it belongs to ${owner.kind} "${owner.name}")` : '';
  return (
    `Secret "${existing.metadata?.name}" already exists and is not managed by this ApiToken${by}. ` +
    'Set spec.secretName to another name, or delete that Secret to let the operator create it.'
  );
}
