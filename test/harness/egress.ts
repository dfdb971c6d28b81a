/**
 * What this process reaches on the network, seen from inside it (README "Lifecycle events, leak response, revocation across servers",
 * Egress): every name resolution it starts — `dns.lookup` (getaddrinfo, which
 * reads /etc/hosts and then asks DNS), `dns.resolve*` (c-ares queries),
 * `dns.lookupService` — and every TCP connection attempt and UDP datagram, with
 * its address. It watches the requests handed to libuv (async_hooks), not an
 * API that some code might bypass: undici, `net`, `fetch` and database drivers
 * all end there. A server started in the test's own process is observed whole.
 */
import { createHook } from 'node:async_hooks';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** libuv requests that resolve a name, and those that send to an address. */
const RESOLUTIONS = new Set(['GETADDRINFOREQWRAP', 'GETNAMEINFOREQWRAP', 'QUERYWRAP']);
const SENDS = new Set(['TCPCONNECTWRAP', 'UDPSENDWRAP']);

// Node sets a request's hostname, address and port right after creating it:
// they are read when asked for, not at creation.
type Request = { hostname?: string; address?: string; port?: number };

export type Egress = {
  /** Names looked up (hostnames, or addresses for reverse look-ups). */
  lookups(): string[];
  /** `address:port` of every connection attempt and datagram. */
  connections(): string[];
  /** The connections to anything but loopback. */
  outside(): string[];
  stop(): void;
};

export function observeEgress(): Egress {
  const resolutions: Request[] = [];
  const sends: Request[] = [];
  const hook = createHook({
    init(_id, type, _trigger, resource) {
      if (RESOLUTIONS.has(type)) resolutions.push(resource as Request);
      else if (SENDS.has(type)) sends.push(resource as Request);
    },
  }).enable();
  const connections = () => sends.map((r) => `${r.address}:${r.port}`);
  return {
    lookups: () => resolutions.map((r) => String(r.hostname)),
    connections,
    outside: () => sends.filter((r) => !isLoopback(r.address)).map((r) => `${r.address}:${r.port}`),
    stop: () => hook.disable(),
  };
}

function isLoopback(address: string | undefined): boolean {
  return (
    address !== undefined && isIP(address) !== 0 && ipaddr.process(address).range() === 'loopback'
  );
}
