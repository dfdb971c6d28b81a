/**
 * A network namespace for a test cluster: only `lo` and a veth pair with both
 * ends inside, one carrying the node's address and a default route to an
 * address nobody has (this kernel has no `dummy` links). Nothing in it is
 * connected to the host's network, so nothing a test runs there can reach
 * outside the machine; the host reaches it only through Unix sockets.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export type Netns = {
  name: string;
  /** The node's address inside (10.250.0.1). */
  address: string;
  /** Runs a command inside and returns its stdout. */
  run(cmd: string, args: string[]): string;
  remove(): void;
};

const NODE_CIDR = '10.250.0.1/24';
const NOWHERE = '10.250.0.254';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });

export function createNetns(prefix = 'tokenplane'): Netns {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  ip('netns', 'add', name);
  const remove = () => {
    try {
      ip('netns', 'delete', name);
    } catch {
      // already gone
    }
  };
  try {
    ip('-n', name, 'link', 'set', 'lo', 'up');
    ip('-n', name, 'link', 'add', 'node0', 'type', 'veth', 'peer', 'name', 'node1');
    ip('-n', name, 'addr', 'add', NODE_CIDR, 'dev', 'node0');
    ip('-n', name, 'link', 'set', 'node0', 'up');
    ip('-n', name, 'link', 'set', 'node1', 'up');
    ip('-n', name, 'route', 'add', 'default', 'via', NOWHERE, 'dev', 'node0');
    const run = (cmd: string, args: string[]) =>
      execFileSync('nsenter', [`--net=/run/netns/${name}`, '--', cmd, ...args], {
        encoding: 'utf8',
      });
    // Pods are routed through the node: forwarding is per namespace.
    run('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    return { name, address: NODE_CIDR.split('/')[0] as string, run, remove };
  } catch (err) {
    remove();
    throw err;
  }
}
