/**
 * A token's permissions compiled once per verifier cache entry, so that the
 * hot path only compares: address ranges parsed by ipaddr.js, the scope list
 * joined into a key for the catalogue cache.
 */
import { addressMatcher } from '../../../core/domain/addresses.ts';
import type { StoredPermissions } from '../../storage/rows.ts';

export type TokenPolicy = StoredPermissions & {
  /** Whether a client address (as the socket or a trusted proxy gave it) may use the token. */
  addressAllowed(address: string): boolean;
  /** The scopes, space-separated: introspection's `scope` and a cache key. */
  scope: string;
};

export function compilePolicy(permissions: StoredPermissions): TokenPolicy {
  return {
    ...permissions,
    addressAllowed: addressMatcher(permissions.allowedIps),
    scope: permissions.scopes.join(' '),
  };
}
