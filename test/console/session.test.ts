/**
 * The console's server side over real loopback HTTP (no browser): redirects,
 * security headers, the session cookie, forgery refusals, expiry, sign-out and
 * revocation. The browser flows are in console.browser.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
