/**
 * Where webhooks may deliver (README "Lifecycle events, leak response, revocation across servers", Egress). Two modes:
 *
 * - `public` (the default): public addresses only, so that a subscriber cannot
 *   make the platform POST to its own network (loopback, RFC 1918 private
 *   ranges, link-local — cloud metadata at 169.254.169.254 —, unique-local
 *   IPv6, carrier-grade NAT, multicast, reserved…) — server-side request
 *   forgery. A deployment that delivers inside its network lists those
 *   networks (`TOKENPLANE_WEBHOOK_ALLOWED_NETWORKS`, addresses or CIDR ranges).
 * - `allowlist` (`TOKENPLANE_WEBHOOK_EGRESS=allowlist`): the listed networks
 *   only, public addresses refused too. A name is looked up only when a listed
 *   network is more than loopback: loopback is reached by `localhost` names,
 *   which are loopback by definition (RFC 6761 §6.3) and never looked up, so a
 *   server listing loopback alone (the test suites, a fuzzed server) refuses
 *   every other name without asking DNS — it makes no look-up at all.
 *
 * Loopback in disguise is loopback: `localhost.` and `x.localhost` are
 * localhost names; decimal, octal and hexadecimal IPv4 forms are read by the
 * URL standard (`http://2130706433/` is 127.0.0.1); IPv4-mapped IPv6
 * (`::ffff:127.0.0.1`) counts as its IPv4 address; the deprecated
 * IPv4-compatible form (`::127.0.0.1`, RFC 4291) and the other IPv6 forms
 * embedding an IPv4 address (NAT64, 6to4, Teredo, IPv4-translated) are refused
 * unless listed.
 *
 * Checked twice: when a webhook is created (its host's addresses then, so the
 * subscriber hears at once what is wrong), and on every attempt, on the address
 * the connection actually goes to — a name that resolved to an allowed address
 * at creation may resolve elsewhere later (DNS rebinding). The sender's
 * dispatcher resolves names through `#lookup` below, which refuses before any
 * connection; what needs no look-up (an address, a localhost name, a name that
 * may not be looked up) the sender checks itself first (`refusedUrl`).
 */
import { type LookupAddress, type LookupOptions, lookup } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent } from 'undici';
import { addressMatcher } from '../../core/domain/addresses.ts';
import { validationProblem } from '../../core/domain/problems.ts';

export const WEBHOOK_EGRESS_MODES = ['public', 'allowlist'] as const;
export type WebhookEgress = (typeof WEBHOOK_EGRESS_MODES)[number];

export type DestinationOptions = {
  /** `public` (default): public addresses and the listed networks; `allowlist`: the listed networks only. */
  egress?: WebhookEgress;
  /** Addresses or CIDR ranges (TOKENPLANE_WEBHOOK_ALLOWED_NETWORKS). */
  allowedNetworks?: readonly string[];
};

const RANGE_NAMES: Record<string, string> = {
  unicast: 'a public',
  loopback: 'a loopback',
  private: 'a private (RFC 1918)',
  linkLocal: 'a link-local',
  uniqueLocal: 'a unique-local (private IPv6)',
  carrierGradeNat: 'a carrier-grade NAT',
  unspecified: 'the unspecified',
  multicast: 'a multicast',
  broadcast: 'the broadcast',
  ipv4Compatible: 'a deprecated IPv4-compatible (RFC 4291)',
  rfc6052: 'a NAT64 (RFC 6052)',
  rfc6145: 'an IPv4-translated (RFC 6145)',
  '6to4': 'a 6to4',
  teredo: 'a Teredo',
};

const PUBLIC_ADVICE =
  'webhooks are delivered to public addresses only. Use a public host, or — to deliver inside ' +
  'your own network — start the server with TOKENPLANE_WEBHOOK_ALLOWED_NETWORKS listing those ' +
  'addresses or ranges (e.g. 10.0.0.0/8)';

const ALLOWLIST_ADVICE =
  'with TOKENPLANE_WEBHOOK_EGRESS=allowlist webhooks are delivered only to the networks listed in ' +
  'TOKENPLANE_WEBHOOK_ALLOWED_NETWORKS. Use a destination in them, or add its network to that setting';

/** The loopback addresses a localhost name stands for, in the order they are tried. */
const LOCALHOST: readonly LookupAddress[] = [
  { address: '127.0.0.1', family: 4 },
  { address: '::1', family: 6 },
];

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** What a host comes to without a look-up: refused, some addresses, or a name to look up. */
type Verdict = { refused: string } | { addresses: LookupAddress[] } | { lookup: true };

export class WebhookDestinations {
  readonly #allowlist: boolean;
  readonly #listed: (address: string) => boolean;
  /** False when no name may be looked up (allowlist mode with loopback alone). */
  readonly #resolvesNames: boolean;
  readonly #advice: string;

  constructor({ egress = 'public', allowedNetworks = [] }: DestinationOptions = {}) {
    this.#allowlist = egress === 'allowlist';
    this.#listed = allowedNetworks.length > 0 ? addressMatcher(allowedNetworks) : () => false;
    this.#resolvesNames = !this.#allowlist || !allowedNetworks.every(isLoopbackNetwork);
    this.#advice = this.#allowlist ? ALLOWLIST_ADVICE : PUBLIC_ADVICE;
  }

  /** Why deliveries may not go to `address` (e.g. "127.0.0.1, a loopback address"); null when they may. */
  refusal(address: string): string | null {
    let parsed: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      parsed = parseAddress(address);
    } catch {
      return `${address}, not an IP address`;
    }
    if (this.#listed(parsed.toString())) return null;
    const range = rangeOf(parsed);
    if (range === 'unicast' && !this.#allowlist) return null;
    return `${parsed.toString()}, ${RANGE_NAMES[range] ?? `a reserved (${range})`} address`;
  }

  /**
   * At creation: 400 `validation` on `url` when its host is or resolves to a
   * refused address. A name that does not resolve (yet) is accepted: nothing
   * is known against it, and every attempt checks again.
   */
  async check(url: string): Promise<void> {
    const host = hostOf(url);
    const verdict = this.#verdict(host);
    if ('refused' in verdict) throw urlProblem(`${verdict.refused}; ${this.#advice}`);
    if ('addresses' in verdict) return;
    let addresses: LookupAddress[];
    try {
      addresses = await lookupAll(host);
    } catch {
      return;
    }
    const why = this.#resolvedRefusal(host, addresses);
    if (why) throw urlProblem(`${why}; ${this.#advice}`);
  }

  /** At send time, for a host that needs no look-up (the dispatcher checks the others); null when allowed. */
  refusedUrl(url: string): string | null {
    const verdict = this.#verdict(hostOf(url));
    return 'refused' in verdict ? `destination refused: ${verdict.refused}` : null;
  }

  /** The dispatcher deliveries go through: its connections resolve names with `#lookup`. */
  readonly dispatcher = new Agent({ connect: { lookup: this.#lookup.bind(this) } });

  close(): Promise<void> {
    return this.dispatcher.close();
  }

  /** An address or a localhost name is decided here; another name is looked up, if it may be. */
  #verdict(host: string): Verdict {
    if (isIP(host)) {
      const why = this.refusal(host);
      return why ? { refused: why } : { addresses: [{ address: host, family: isIP(host) }] };
    }
    if (isLocalhostName(host)) {
      // Only the loopback addresses allowed: the answer is ours, not a resolver's.
      const allowed = LOCALHOST.filter((a) => this.refusal(a.address) === null);
      if (allowed.length > 0) return { addresses: allowed };
      return { refused: `${host} resolves to ${this.refusal('127.0.0.1')} (RFC 6761)` };
    }
    if (!this.#resolvesNames) {
      return {
        refused:
          `${host} is a host name, and the allowed networks are loopback alone: names other ` +
          'than localhost are refused without being looked up',
      };
    }
    return { lookup: true };
  }

  /** Every address a name resolved to must be allowed (any one of them may be connected to). */
  #resolvedRefusal(host: string, addresses: readonly LookupAddress[]): string | null {
    const why = addresses.map((a) => this.refusal(a.address)).find((w) => w !== null);
    return why ? `${host} resolves to ${why}` : null;
  }

  #lookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
    this.#connectable(hostname, options).then(
      (addresses) => {
        const first = addresses[0] as LookupAddress;
        if (options.all) callback(null, addresses);
        else callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, []),
    );
  }

  /** The addresses a connection to `host` may use; `destination refused: …` when it may use none. */
  async #connectable(host: string, options: LookupOptions): Promise<LookupAddress[]> {
    const verdict = this.#verdict(host);
    if ('refused' in verdict) throw new Error(`destination refused: ${verdict.refused}`);
    if ('addresses' in verdict) return verdict.addresses;
    const addresses = await lookupAll(host, options);
    const refused = this.#resolvedRefusal(host, addresses);
    if (refused) throw new Error(`destination refused: ${refused}`);
    return addresses;
  }
}

function lookupAll(host: string, options: LookupOptions = {}): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) =>
    lookup(host, { ...options, all: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );
}

/** The URL's host, IPv6 brackets removed (the URL standard has already read decimal/octal IPv4). */
const hostOf = (url: string) => new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');

/** RFC 6761 §6.3: `localhost` and the names under it, with or without the root's trailing dot. */
const isLocalhostName = (host: string) => /(^|\.)localhost\.?$/i.test(host);

/**
 * An address as ipaddr.js should read it: IPv6 first in the URL standard's
 * hex form, since ipaddr.js reads the deprecated `::1.2.3.4` as IPv4-mapped;
 * an IPv4-mapped address then counts as its IPv4 address.
 */
function parseAddress(address: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const text =
    isIP(address) === 6 ? new URL(`http://[${address}]/`).hostname.slice(1, -1) : address;
  return ipaddr.process(text);
}

/** ipaddr.js's range name, plus the deprecated IPv4-compatible block (::/96 but :: and ::1). */
function rangeOf(parsed: ipaddr.IPv4 | ipaddr.IPv6): string {
  const range = parsed.range();
  if (range !== 'unicast' || parsed.kind() !== 'ipv6') return range;
  const parts = (parsed as ipaddr.IPv6).parts;
  return parts.slice(0, 6).every((p) => p === 0) ? 'ipv4Compatible' : range;
}

/** A listed entry inside loopback (127.0.0.0/8 or narrower, ::1): no name but localhost reaches it. */
function isLoopbackNetwork(entry: string): boolean {
  const [address, bits] = entry.includes('/')
    ? ipaddr.parseCIDR(entry)
    : [ipaddr.process(entry), Number.POSITIVE_INFINITY];
  return address.range() === 'loopback' && bits >= (address.kind() === 'ipv4' ? 8 : 128);
}

const urlProblem = (message: string) => validationProblem([{ path: 'url', message }]);
