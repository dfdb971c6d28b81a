/**
 * A token's §6 permissions compiled once per verifier cache entry, so that the
 * hot path only compares: address ranges parsed by ipaddr.js, the scope list
 * joined into a key for the catalogue cache.
 */
import ipaddr from 'ipaddr.js';
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

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/**
 * A matcher for addresses and CIDR ranges. IPv4-mapped IPv6 addresses
 * (`::ffff:127.0.0.1`, what a dual-stack socket reports) count as IPv4, on
 * both sides.
 */
export function addressMatcher(entries: readonly string[]): (address: string) => boolean {
  if (entries.length === 0) return () => true;
  const ranges: Range[] = entries.map((entry) => {
    if (entry.includes('/')) return ipaddr.parseCIDR(entry);
    const address = ipaddr.process(entry);
    return [address, address.kind() === 'ipv4' ? 32 : 128];
  });
  return (address) => {
    let parsed: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      parsed = ipaddr.process(address);
    } catch {
      return false;
    }
    return ranges.some(
      ([range, bits]) => range.kind() === parsed.kind() && parsed.match(range as never, bits),
    );
  };
}
