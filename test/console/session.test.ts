/**
 * The console's server side over real loopback HTTP (no browser): redirects,
 * security headers, the session cookie, forgery refusals, expiry, sign-out and
 * revocation. The browser flows are in console.browser.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../platform/main.ts';
import { type Platform, startPlatform } from '../platform/helpers.ts';

const IDLE_MS = 60_000;
const ABSOLUTE_MS = 600_000;

describe('console sessions and protections', () => {
  let p: Platform;
  let origin: string;

  beforeAll(async () => {
    p = await startPlatform('sqlite', { console: { idleMs: IDLE_MS, absoluteMs: ABSOLUTE_MS } });
    origin = p.server.url;
  });
  afterAll(async () => {
    await p?.close();
  });

  const get = (path: string, cookie = '') =>
    fetch(origin + path, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  const post = (path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(origin + path, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin, ...headers },
      body: new URLSearchParams(form).toString(),
    });

  async function signIn(key: string): Promise<{ cookie: string; csrf: string }> {
    const res = await post('/console/sign-in', { key });
    expect(res.status).toBe(303);
    const setCookie = res.headers.get('set-cookie') ?? '';
    const cookie = setCookie.split(';')[0] as string;
    const home = await get('/console/', cookie);
    const landing =
      home.status === 303 ? await get(home.headers.get('location') as string, cookie) : home;
    const page = await landing.text();
    const csrf = /name="csrf-token" content="([^"]+)"/.exec(page)?.[1] as string;
    return { cookie, csrf };
  }

  it('GET / redirects to /console/, which asks to sign in', async () => {
    const root = await get('/');
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/console/');
    const home = await get('/console/');
    expect(home.status).toBe(303);
    expect(home.headers.get('location')).toBe('/console/sign-in');
  });

  it('pages carry a strict CSP without inline script, no framing, no caching', async () => {
    const res = await get('/console/sign-in');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const text = await res.text();
    expect(text).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(text).not.toMatch(/\sstyle=|\son[a-z]+=/);
    expect(text).not.toMatch(/https?:\/\//);
  });

  it('static assets are served with long-lived caching under the same CSP', async () => {
    const page = await (await get('/console/sign-in')).text();
    const js = /src="(\/console\/assets\/console\.js\?v=[\w-]+)"/.exec(page)?.[1] as string;
    const res = await get(js);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(res.headers.get('cache-control')).toContain('immutable');
  });

  it('the console is not part of the OpenAPI document', async () => {
    const doc = await p.api.get('/openapi.json', { key: null });
    expect(Object.keys(doc.body.paths).some((path) => path.startsWith('/console'))).toBe(false);
  });

  it('a wrong key is refused; a right one gets an HttpOnly SameSite=Strict cookie', async () => {
    const bad = await post('/console/sign-in', { key: 'tpk_nope' });
    expect(bad.status).toBe(401);
    expect(await bad.text()).toContain('role="alert"');
    const ok = await post('/console/sign-in', { key: p.server.adminKey });
    expect(ok.status).toBe(303);
    const cookie = ok.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toContain(p.server.adminKey);
  });

  it('sign-in from another origin is refused', async () => {
    const res = await post(
      '/console/sign-in',
      { key: p.server.adminKey },
      { origin: 'https://evil.example' },
    );
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('a change without the CSRF token, or from another origin, is refused and changes nothing', async () => {
    const s = await signIn(p.server.adminKey);
    const form = { name: 'Forged', kind: 'customer', tier: 'lite' };
    const noToken = await post('/console/entities', form, { cookie: s.cookie });
    expect(noToken.status).toBe(403);
    const otherOrigin = await post(
      '/console/entities',
      { ...form, _csrf: s.csrf },
      { cookie: s.cookie, origin: 'https://evil.example' },
    );
    expect(otherOrigin.status).toBe(403);
    const crossSite = await fetch(`${origin}/console/tokens/x/reveal`, {
      method: 'POST',
      headers: { cookie: s.cookie, 'sec-fetch-site': 'cross-site' },
    });
    expect(crossSite.status).toBe(403);
    const list = await p.api.get('/v1/entities?search=Forged');
    expect(list.body.items).toEqual([]);
    const made = await post('/console/entities', { ...form, _csrf: s.csrf }, { cookie: s.cookie });
    expect(made.status).toBe(303);
    expect((await p.api.get('/v1/entities?search=Forged')).body.items).toHaveLength(1);
  });

  it('sign-out ends the session', async () => {
    const s = await signIn(p.server.adminKey);
    const out = await post('/console/sign-out', { _csrf: s.csrf }, { cookie: s.cookie });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/);
    expect((await get('/console/', s.cookie)).headers.get('location')).toBe(
      '/console/sign-in?ended=1',
    );
  });

  it('idle and absolute expiry end the session', async () => {
    const idle = await signIn(p.server.adminKey);
    p.clock.advance(IDLE_MS - 1000);
    expect((await get('/console/', idle.cookie)).status).toBe(200);
    p.clock.advance(IDLE_MS);
    expect((await get('/console/', idle.cookie)).headers.get('location')).toBe(
      '/console/sign-in?ended=1',
    );

    const busy = await signIn(p.server.adminKey);
    for (let t = 0; t < ABSOLUTE_MS; t += IDLE_MS / 2) {
      p.clock.advance(IDLE_MS / 2);
      await get('/console/', busy.cookie);
    }
    expect((await get('/console/', busy.cookie)).status).toBe(303);
  });

  it('a revoked access key ends its sessions at once', async () => {
    const entity = await p.api.post('/v1/entities', { name: 'Revoked Co', kind: 'reseller' });
    const key = await p.api.post(`/v1/entities/${entity.body.id}/access-keys`, {
      name: 'console',
      role: 'admin',
    });
    const s = await signIn(key.body.key);
    const page = await get(`/console/entities/${entity.body.id}`, s.cookie);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Revoked Co');
    expect((await p.api.delete(`/v1/access-keys/${key.body.id}`)).status).toBe(204);
    const after = await get(`/console/entities/${entity.body.id}`, s.cookie);
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toBe('/console/sign-in?ended=1');
  });
});

describe('console behind a TLS-terminating proxy', () => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform('sqlite', { trustedProxies: ['127.0.0.1', '::1'] });
  });
  afterAll(async () => {
    await p?.close();
  });

  it('a trusted proxy saying https gets a Secure, __Host- cookie; the https origin must match', async () => {
    const host = new URL(p.server.url).host;
    const signIn = (origin: string) =>
      fetch(`${p.server.url}/console/sign-in`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-forwarded-proto': 'https',
          origin,
        },
        body: new URLSearchParams({ key: p.server.adminKey }).toString(),
      });
    expect((await signIn(`http://${host}`)).status).toBe(403);
    const ok = await signIn(`https://${host}`);
    expect(ok.status).toBe(303);
    const cookie = ok.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^__Host-tokenplane_session=/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; Path=\//);
  });
});

describe('console sign-in attempt limit (README: Console)', () => {
  let p: Platform;
  let direct: Platform;
  beforeAll(async () => {
    // Behind a trusted proxy, X-Forwarded-For names the client; without one it is ignored.
    p = await startPlatform('sqlite', { trustedProxies: ['127.0.0.1', '::1'] });
    direct = await startPlatform('sqlite');
  });
  afterAll(async () => {
    await p?.close();
    await direct?.close();
  });

  const signIn = (platform: Platform, key: string, client?: string) =>
    fetch(`${platform.server.url}/console/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: platform.server.url,
        ...(client ? { 'x-forwarded-for': client } : {}),
      },
      body: new URLSearchParams({ key }).toString(),
    });

  it('past 10 failed attempts in a minute, an address gets 429 with Retry-After, even for the right key', async () => {
    const client = '203.0.113.7';
    const failed = await Promise.all(
      Array.from({ length: 10 }, (_, i) => signIn(p, `tpk_wrong${i}`, client)),
    );
    expect(failed.map((res) => res.status)).toEqual(Array(10).fill(401));

    const limited = await signIn(p, 'tpk_wrong', client);
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const page = await limited.text();
    expect(page).toContain('role="alert"');
    expect(page).toContain('Too many failed sign-in attempts');
    expect(page).toContain('<form method="post" action="/console/sign-in"');

    // The key is not even checked: the right one is refused too, and no session starts.
    const right = await signIn(p, p.server.adminKey, client);
    expect(right.status).toBe(429);
    expect(right.headers.get('set-cookie')).toBeNull();

    // Another client address is not affected.
    expect((await signIn(p, p.server.adminKey, '203.0.113.8')).status).toBe(303);

    // When the minute is over, the address may try again.
    p.clock.advance(60_000);
    expect((await signIn(p, p.server.adminKey, client)).status).toBe(303);
  });

  it('200 concurrent wrong keys: 10 are checked, the rest answered 429', async () => {
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => signIn(p, `tpk_guess${i}`, '198.51.100.9')),
    );
    const statuses = results.map((res) => res.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(190);
  });

  it('successful sign-ins do not count against the limit', async () => {
    const client = '203.0.113.20';
    for (let i = 0; i < 15; i++) {
      expect((await signIn(p, p.server.adminKey, client)).status).toBe(303);
    }
    for (let i = 0; i < 10; i++) {
      expect((await signIn(p, 'tpk_wrong', client)).status).toBe(401);
    }
    expect((await signIn(p, 'tpk_wrong', client)).status).toBe(429);
  });

  it('without a trusted proxy, X-Forwarded-For does not escape the limit', async () => {
    for (let i = 0; i < 10; i++) {
      expect((await signIn(direct, 'tpk_wrong', `192.0.2.${i + 1}`)).status).toBe(401);
    }
    const limited = await signIn(direct, direct.server.adminKey, '192.0.2.99');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).not.toBeNull();
  });
});

describe('console with TOKENPLANE_PUBLIC_URL', () => {
  const PUBLIC = 'https://tokens.example.com';
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform('sqlite', { env: { TOKENPLANE_PUBLIC_URL: `${PUBLIC}/` } });
  });
  afterAll(async () => {
    await p?.close();
  });

  const signIn = (origin: string, host?: string) =>
    fetch(`${p.server.url}/console/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin,
        ...(host ? { host } : {}),
      },
      body: new URLSearchParams({ key: p.server.adminKey }).toString(),
    });

  it('Origin is compared with the public URL, not with the Host of the request', async () => {
    // An origin that merely matches the Host the request names is refused…
    expect((await signIn(p.server.url)).status).toBe(403);
    expect((await signIn('http://evil.example', 'evil.example')).status).toBe(403);
    // …and the public origin is accepted, whatever Host the proxy passes on.
    expect((await signIn(PUBLIC)).status).toBe(303);
  });

  it('a value that is not an http(s) URL stops the server at start, saying what to set', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tokenplane-test-'));
    try {
      await expect(
        startServer({
          port: 0,
          dataDir,
          logger: false,
          env: { TOKENPLANE_PUBLIC_URL: 'tokens.example.com' },
        }),
      ).rejects.toThrow(/TOKENPLANE_PUBLIC_URL: tokens\.example\.com is not an http\(s\) URL/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
