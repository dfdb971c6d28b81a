import type http from 'node:http';
import { type AddressInfo, createServer } from 'node:net';

/** A free TCP port on 127.0.0.1 (the OS picks it; a tiny race remains, covered by retrying the start). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * A test's HTTP server listening on 127.0.0.1 (`port`, or one the OS picks):
 * its base URL, and a close that also ends the clients' open keep-alive
 * connections, which would otherwise hold it open.
 */
export async function listenOnLoopback(
  server: http.Server,
  port = 0,
): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
