// A proxy in front of the platform that kills a client process at the worst
// moment: once the platform has answered a matching call (it has committed the
// change), before the client sees the answer. The answer's body is kept.
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type KillingProxy = { url: string; server: Server; kills: number; body: string };

export async function killingProxy(
  target: string,
  /** Whether this answer is the moment; the first one that is calls `kill`. */
  matches: (req: IncomingMessage, answer: IncomingMessage) => boolean,
  kill: () => void,
): Promise<KillingProxy> {
  const upstreamUrl = new URL(target);
  const state: KillingProxy = {
    url: '',
    server: undefined as unknown as Server,
    kills: 0,
    body: '',
  };
  state.server = createServer((req, res) => {
    const upstream = request(
      {
        host: upstreamUrl.hostname,
        port: upstreamUrl.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        if (state.kills === 0 && matches(req, answer)) {
          state.kills++;
          kill();
          res.destroy();
          answer.on('data', (d) => {
            state.body += d;
          });
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}`;
  return state;
}

/** A POST to `path` answered with `status`. */
export const answered =
  (path: RegExp, status: number) => (req: IncomingMessage, answer: IncomingMessage) =>
    req.method === 'POST' && path.test(req.url ?? '') && answer.statusCode === status;
