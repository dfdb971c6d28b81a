/** `/metrics`, `/healthz` and `/readyz` on one small HTTP server. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** `ready` answers true, or why not (the /readyz body, for the person reading it). */
export type Probes = { healthy(): boolean; ready(): true | string };

export async function startHealthServer(
  port: number,
  host: string,
  registry: Registry,
  probes: Probes,
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(await registry.metrics());
    } else if (path === '/healthz' || path === '/readyz') {
      const answer = path === '/healthz' ? probes.healthy() || 'not healthy' : probes.ready();
      res.writeHead(answer === true ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(answer === true ? 'ok' : `not ready: ${answer}`);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
