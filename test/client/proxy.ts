/**
 * A real loopback HTTP proxy in front of the platform that can lose answers: it
 * forwards a request, lets the server act on it, reads the whole answer, and then
 * closes the client's connection instead of passing the answer on. That is the
 * failure an automatic Idempotency-Key exists for.
 */
import http from 'node:http';
import { request } from 'undici';
import { listenOnLoopback } from '../harness/ports.ts';

export type LossyProxy = {
  url: string;
  /** Requests seen, in order: method, path and Idempotency-Key. */
  seen: { method: string; url: string; idempotencyKey: string | undefined }[];
  /** Lose the answers of the next `n` requests matching `match`. */
  loseNext(n: number, match: (method: string, url: string) => boolean): void;
  close(): Promise<void>;
};

export async function lossyProxy(upstream: string): Promise<LossyProxy> {
  const seen: LossyProxy['seen'] = [];
  let toLose = 0;
  let matcher: (method: string, url: string) => boolean = () => false;
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const key = req.headers['idempotency-key'];
    seen.push({ method, url, idempotencyKey: Array.isArray(key) ? key[0] : key });
    const headers = { ...req.headers };
    delete headers.host;
    delete headers.connection;
    const upstreamRes = await request(upstream + url, {
      method: method as 'GET',
      headers,
      body: chunks.length ? Buffer.concat(chunks) : undefined,
    });
    const body = Buffer.from(await upstreamRes.body.arrayBuffer());
    if (toLose > 0 && matcher(method, url)) {
      toLose--;
      req.socket.destroy();
      return;
    }
    const out = { ...upstreamRes.headers };
    delete out.connection;
    delete out['keep-alive'];
    delete out['transfer-encoding'];
    res.writeHead(upstreamRes.statusCode, out as http.OutgoingHttpHeaders);
    res.end(body);
  });
  return {
    ...(await listenOnLoopback(server)),
    seen,
    loseNext(n, match) {
      toLose = n;
      matcher = match;
    },
  };
}
