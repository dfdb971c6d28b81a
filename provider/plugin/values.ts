/**
 * Property values between the engine and the implementation. The plugin accepts
 * secrets, so the engine sends a secret as `{[sig]: secretSig, value}`; the
 * implementation works on plain values (it never logs one), and the plugin marks
 * the token values secret in what it returns — in the state, in every SDK, also
 * for YAML programs and `pulumi import`, whatever the program asked for.
 * Values still unknown at preview arrive as the unknown sentinel string, which
 * the implementation knows (provider/impl/inputs.ts).
 */
import { specialSecretSig, specialSigKey } from '@pulumi/pulumi/runtime/rpc.js';

export type Props = Record<string, unknown>;

const isSecret = (v: unknown): v is { value: unknown } =>
  typeof v === 'object' && v !== null && (v as Props)[specialSigKey] === specialSecretSig;

/** The value with every secret wrapper removed, however deep. */
export function plain(value: unknown): unknown {
  if (isSecret(value)) return plain(value.value);
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

export const plainProps = (props: Props | undefined): Props => plain(props ?? {}) as Props;

/** `props` with the named properties marked secret (those that hold a value). */
export function withSecrets(props: Props, keys: readonly string[]): Props {
  const out = { ...props };
  for (const key of keys) {
    if (out[key] != null) out[key] = { [specialSigKey]: specialSecretSig, value: out[key] };
  }
  return out;
}

/** Whether a property is one the implementation adds for itself (`__key`, `__declaration`). */
export const isHidden = (key: string): boolean => key.startsWith('__');

/** The properties a program declares: without the hidden ones. */
export const userProps = (props: Props): Props =>
  Object.fromEntries(Object.entries(props).filter(([k]) => !isHidden(k)));
