/**
 * Problem answers become one error class per slug; nothing the client knows as a
 * secret (its api key, a token value it sent) appears in errors or inspection.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  ERROR_CLASSES,
  InternalError,
  isNotFound,
  isProblem,
  NotFoundError,
  QuotaExceededError,
  TokenplaneClient,
  TokenplaneConnectionError,
  TokenplaneError,
  ValidationError,
} from '../../core/client/index.ts';
import { PROBLEMS, type ProblemSlug } from '../../core/domain/problems.ts';
import { clientOf, closingAfterEach, ids, loopback, problem } from './loopback.ts';

const KEY = 'tpk_never_show_me_9f8e7d6c5b4a';
const TOKEN_VALUE = 'tpt_also_secret_value_1234567890';

const opened = closingAfterEach();

const answering = async (answer: Parameters<typeof loopback>[0], opts = {}) =>
  (await clientOf(opened, answer, { apiKey: KEY, retries: 0, ...opts })).client;

/** Everything a person or a log line could see of an error. */
function surfaces(err: unknown): string {
  const e = err as Error;
  return [
    String(e),
    e.message,
    e.stack,
    inspect(e, { depth: 10, showHidden: true }),
    JSON.stringify(e),
  ].join('\n');
}

describe('problem → error class', () => {
  it.each(Object.keys(PROBLEMS) as ProblemSlug[])('%s', async (slug) => {
    const { status } = PROBLEMS[slug];
    const client = await answering(() => problem(slug, status, { detail: `${slug} detail` }));
    const err = await client.getEntity(ids.entity).catch((e) => e);
    expect(err).toBeInstanceOf(ERROR_CLASSES[slug]);
    expect(err).toBeInstanceOf(TokenplaneError);
    expect(err.name).toBe(ERROR_CLASSES[slug].name);
    expect(err).toMatchObject({
      slug,
      status,
      title: `${slug} title`,
      detail: `${slug} detail`,
      requestId: `req-${slug}`,
      method: 'GET',
      path: `/v1/entities/${ids.entity}`,
    });
    expect(err.problem.type).toBe(`https://tokenplane.dev/problems/${slug}`);
    expect(err.message).toContain(`${slug} detail`);
  });

  it('quota-exceeded carries tier, quota and inUse', async () => {
    const client = await answering(() =>
      problem('quota-exceeded', 409, { tier: 'lite', quota: 1, inUse: 1, detail: 'full' }),
    );
    const err = await client.createToken(ids.entity, { name: 'x' }).catch((e) => e);
    expect(err).toBeInstanceOf(QuotaExceededError);
    expect(err).toMatchObject({ tier: 'lite', quota: 1, inUse: 1 });
  });

  it('validation carries the field errors', async () => {
    const errors = [{ path: 'body.name', message: 'must not be empty' }];
    const client = await answering(() => problem('validation', 400, { errors }));
    const err = await client.createEntity({ name: '', kind: 'customer' }).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.errors).toEqual(errors);
  });

  it('a problem type the client does not know keeps its slug on TokenplaneError', async () => {
    const client = await answering(() => problem('payload-too-large', 413));
    const err = await client.listTiers().catch((e) => e);
    expect(err.constructor).toBe(TokenplaneError);
    expect(err).toMatchObject({ slug: 'payload-too-large', status: 413 });
  });

  it('a non-problem answer is classed by its status', async () => {
    const client = await answering((req) =>
      req.url === '/v1/tiers'
        ? {
            status: 502,
            body: '<html>bad gateway</html>',
            headers: { 'content-type': 'text/html' },
          }
        : { status: 404 },
    );
    const gateway = await client.listTiers().catch((e) => e);
    expect(gateway).toBeInstanceOf(InternalError);
    expect(gateway.status).toBe(502);
    const missing = await client.getToken(ids.token).catch((e) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(isNotFound(missing)).toBe(true);
    expect(isNotFound(gateway)).toBe(false);
    expect(isProblem(gateway, 'internal')).toBe(true);
  });
});

describe('secrets stay out of errors and inspection', () => {
  it('the client does not show its key', () => {
    const client = new TokenplaneClient({ endpoint: 'http://127.0.0.1:9', apiKey: KEY });
    opened(client);
    const shown = [
      inspect(client, { depth: 10, showHidden: true }),
      String(client),
      JSON.stringify(client),
      JSON.stringify({ client }),
      Object.keys(client).join(','),
    ].join('\n');
    expect(shown).toContain('http://127.0.0.1:9');
    expect(shown).not.toContain(KEY);
  });

  it('problem errors do not carry the key or the token sent', async () => {
    const client = await answering(() =>
      problem('unauthorized', 401, { detail: 'unknown credential' }),
    );
    for (const call of [() => client.introspect(TOKEN_VALUE), () => client.listTiers()]) {
      const err = await call().catch((e) => e);
      expect(surfaces(err)).not.toContain(KEY);
      expect(surfaces(err)).not.toContain(TOKEN_VALUE);
    }
  });

  it('connection errors and timeouts do not carry the key', async () => {
    const hang = await answering(() => 'hang', { timeoutMs: 100 });
    const drop = await answering(() => 'drop');
    const dead = await loopback(() => ({ status: 204 }));
    const deadUrl = dead.url;
    await dead.close();
    const refused = new TokenplaneClient({ endpoint: deadUrl, apiKey: KEY, retries: 0 });
    opened(refused);
    for (const c of [hang, drop, refused]) {
      const err = await c.introspect(TOKEN_VALUE).catch((e) => e);
      expect(err).toBeInstanceOf(TokenplaneConnectionError);
      expect(surfaces(err)).not.toContain(KEY);
      expect(surfaces(err)).not.toContain(TOKEN_VALUE);
      expect(surfaces(err.cause)).not.toContain(KEY);
    }
  });
});
