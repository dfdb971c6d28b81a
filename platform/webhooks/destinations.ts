/**
 * Where webhooks may deliver: public addresses only, so that a subscriber
 * cannot make the platform POST to its own network (loopback, RFC 1918 private
 * ranges, link-local — cloud metadata at 169.254.169.254 —, unique-local IPv6,
 * carrier-grade NAT, multicast, reserved…) — server-side request forgery.
 * A deployment that delivers inside its network lists those networks
 * (`TOKENPLANE_WEBHOOK_ALLOWED_NETWORKS`, addresses or CIDR ranges).
 *
 * Checked twice: when a webhook is created (its host's addresses then, so the
 * subscriber hears at once what is wrong), and on every attempt, on the address
 * the connection actually goes to — a name that resolved to a public address
 * at creation may resolve elsewhere later (DNS rebinding). The sender's
 * dispatcher resolves names through `lookup` below, which refuses before any
 * connection; an address written as the URL's host is never looked up, so the
 * sender checks it itself (`refusedUrl`).
 */
import { type LookupAddress, type LookupOptions, lookup } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent } from 'undici';
import { validationProblem } from '../domain/problems.ts';
import { addressMatcher } from '../server/permissions/policy.ts';

const RANGE_NAMES: Record<string, string> = {
  loopback: 'a loopback',
  private: 'a private (RFC 1918)',
  linkLocal: 'a link-local',
  uniqueLocal: 'a unique-local (private IPv6)',
  carrierGradeNat: 'a carrier-grade NAT',
  unspecified: 'the unspecified',
  multicast: 'a multicast',
  broadcast: 'the broadcast',
};

const ADVICE =
  'webhooks are delivered to public addresses only. Use a public host, or — to deliver inside ' +
  'your own network — start the server with TOKENPLANE_WEBHOOK_ALLOWED_NETWORKS listing those ' +
  'addresses or ranges (e.g. 10.0.0.0/8)';

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

export class WebhookDestinations {
  readonly #listed: (address: string) => boolean;

  constructor(allowedNetworks: readonly string[] = []) {
    this.#listed = allowedNetworks.length > 0 ? addressMatcher(allowedNetworks) : () => false;
  }

  /** Why deliveries may not go to `address` (e.g. "127.0.0.1, a loopback address"); null when they may. */
  refusal(address: string): string | null {
    let parsed: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      parsed = ipaddr.process(address); // ::ffff:10.0.0.1 is 10.0.0.1
    } catch {
      return `${address}, not an IP address`;
    }
    const range = parsed.range();
    if (range === 'unicast' || this.#listed(address)) return null;
    return `${parsed.toString()}, ${RANGE_NAMES[range] ?? `a reserved (${range})`} address`;
  }

  /**
   * At creation: 400 `validation` on `url` when its host is or resolves to a
   * refused address. A name that does not resolve (yet) is accepted: nothing
   * is known against it, and every attempt checks again.
   */
  async check(url: string): Promise<void> {
    const host = hostOf(url);
    let addresses: string[];
    try {
      addresses = isIP(host) ? [host] : (await lookupAll(host)).map((a) => a.address);
    } catch {
      return;
    }
    for (const address of addresses) {
      const why = this.refusal(address);
      if (why)
        throw urlProblem(`${host === address ? '' : `${host} resolves to `}${why}; ${ADVICE}`);
    }
  }

  /** At send time, for a URL whose host is an address (no lookup will see it); null when allowed. */
  refusedUrl(url: string): string | null {
    const host = hostOf(url);
    const why = isIP(host) ? this.refusal(host) : null;
    return why && `destination refused: ${why}`;
  }

  /** The dispatcher deliveries go through: its connections resolve names with `lookup`. */
  readonly dispatcher = new Agent({ connect: { lookup: this.#lookup.bind(this) } });

  close(): Promise<void> {
    return this.dispatcher.close();
  }

  #lookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
    lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const refused = addresses.map((a) => this.refusal(a.address)).find((why) => why !== null);
      if (refused) {
        return callback(new Error(`destination refused: ${hostname} resolves to ${refused}`), []);
      }
      const first = addresses[0] as LookupAddress;
      return options.all ? callback(null, addresses) : callback(null, first.address, first.family);
    });
  }
}

function lookupAll(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) =>
    lookup(host, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
  );
}

/** The URL's host, IPv6 brackets removed. */
const hostOf = (url: string) => new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');

const urlProblem = (message: string) => validationProblem([{ path: 'url', message }]);
