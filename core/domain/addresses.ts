/**
 * Matching client addresses against lists of addresses and CIDR ranges: a
 * token's allowedIps on the verification path, the networks webhooks may
 * deliver to. Pure; ipaddr.js parses.
 */
import ipaddr from 'ipaddr.js';

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
