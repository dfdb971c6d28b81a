/// <reference lib="dom" />
/**
 * Single sign-on in real Chromium (README "Members and single sign-on"): a real
 * Keycloak (test/harness/keycloak.ts) as the OpenID provider, a real platform
 * on SQLite and on PostgreSQL. A member signs in and acts, named by its email
 * in the audit; members are managed and personal keys made in the console;
 * several memberships offer a choice; a stranger and an unverified email are
 * refused without a session; a removed member's session and keys stop at once;
 * sign-out ends the provider's session too; a callback without its flow or
 * with a wrong state signs no one in. axe-core checks every new view.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenplaneClient, UnauthorizedError } from '../../core/client/index.ts';
import { type RunningKeycloak, startKeycloak } from '../harness/keycloak.ts';
import { type Platform, startPlatform } from '../platform/helpers.ts';
import {
  cspViolations,
  launchChromium,
  newContext,
  screenshot,
  seriousViolations,
} from './browser.ts';

const USERS = {
  ada: { username: 'ada', password: 'pw-ada-1', email: 'ada@example.test' },
  bob: { username: 'bob', password: 'pw-bob-1', email: 'bob@example.test' },
  carol: { username: 'carol', password: 'pw-carol-1', email: 'carol@example.test' },
  eve: { username: 'eve', password: 'pw-eve-1', email: 'eve@example.test', emailVerified: false },
} as const;
type User = (typeof USERS)[keyof typeof USERS];

let keycloak: RunningKeycloak;
let browser: Browser;

beforeAll(async () => {
  [keycloak, browser] = await Promise.all([
    startKeycloak({
      // Any console port on loopback: each platform listens on a free one.
      redirectUris: ['http://127.0.0.1:*'],
      users: Object.values(USERS),
    }),
    launchChromium(),
  ]);
}, 300_000);
afterAll(async () => {
  await browser?.close();
  await keycloak?.stop();
}, 60_000);

describe.each(['sqlite', 'postgres'] as const)('single sign-on in Chromium (%s)', (engine) => {
  let p: Platform;
  let admin: TokenplaneClient;
  let acmeId = '';
  let betaId = '';
  let adaMemberId = '';
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    p = await startPlatform(engine, {
      console: {
        oidc: {
          issuer: new URL(keycloak.issuer),
          clientId: keycloak.clientId,
          clientSecret: keycloak.clientSecret,
        },
      },
    });
    admin = new TokenplaneClient({ endpoint: p.server.url, apiKey: p.server.adminKey });
    const acme = await admin.createEntity({ name: 'Acme', kind: 'reseller', tier: 'advanced' });
    const beta = await admin.createEntity({
      name: 'Beta',
      kind: 'customer',
      tier: 'lite',
      parentId: acme.id,
    });
    [acmeId, betaId] = [acme.id, beta.id];
    adaMemberId = (await admin.createMember(acmeId, { email: USERS.ada.email, role: 'admin' })).id;
    await admin.createMember(acmeId, { email: USERS.bob.email, role: 'viewer' });
    await admin.createMember(betaId, { email: USERS.bob.email, role: 'admin' });
    await admin.createMember(acmeId, { email: USERS.eve.email, role: 'admin' });
  });
  afterAll(async () => {
    await Promise.all(contexts.map((c) => c.close()));
    await p?.close();
  });

  /** A fresh browser profile: its own cookies at the console and at the provider. */
  async function person(): Promise<Page> {
    const { context, page } = await newContext(browser, p.server.url);
    contexts.push(context);
    return page;
  }

  async function ready(page: Page): Promise<void> {
    await page.waitForSelector('html[data-ready="true"]', { state: 'attached' });
  }

  /** Sign-in page → "Sign in with single sign-on" → Keycloak's form → back at the console. */
  async function signInAt(page: Page, user: User, expectPath: RegExp): Promise<void> {
    await page.goto('/console/sign-in');
    await ready(page);
    await page.getByRole('button', { name: 'Sign in with single sign-on' }).click();
    await page.waitForURL((url) => url.href.startsWith(keycloak.issuer));
    await page.locator('#username').fill(user.username);
    await page.locator('#password').fill(user.password);
    await page.locator('#kc-login').click();
    await page.waitForURL((url) => url.origin === p.server.url && expectPath.test(url.pathname));
    await ready(page);
  }

  async function accessible(page: Page, view: string): Promise<void> {
    expect(await seriousViolations(page), view).toEqual([]);
    expect(await cspViolations(page), view).toEqual([]);
    await screenshot(page, `sso-${engine}-${view}`);
  }

  async function sessionCookies(page: Page): Promise<string[]> {
    return (await page.context().cookies(p.server.url))
      .filter((c) => c.name.endsWith('tokenplane_session'))
      .map((c) => c.value);
  }

  let ada: Page;
  let adaKey = '';

  it('the sign-in page offers single sign-on beside the access key', async () => {
    const page = await person();
    await page.goto('/console/sign-in');
    await ready(page);
    expect(await page.getByRole('button', { name: 'Sign in with single sign-on' }).count()).toBe(1);
    expect(await page.getByLabel('Access key').count()).toBe(1);
    await accessible(page, 'sign-in');
  });

  it('a member signs in, creates a token, and the audit names their email', async () => {
    ada = await person();
    await signInAt(ada, USERS.ada, new RegExp(`^/console/entities/${acmeId}$`));
    expect(await ada.locator('.who').textContent()).toContain(
      `${USERS.ada.email}, member of "Acme"`,
    );

    await ada.getByRole('button', { name: 'New', exact: true }).click();
    await ada.getByRole('dialog').getByLabel('Name').fill('ada-made');
    await ada.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
    await ready(ada);
    const dialog = ada.getByRole('dialog', { name: /Token "ada-made" created/ });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await dialog.locator('code').textContent()).toMatch(/^tpt_/);

    const events = await admin.listAuditEvents({ entityId: acmeId, limit: 50 });
    const created = events.items.find((e) => e.action === 'token.create');
    expect(created?.actor).toEqual({ type: 'member', id: adaMemberId, email: USERS.ada.email });

    await ada.goto(`/console/entities/${acmeId}/audit`);
    await ready(ada);
    expect(
      await ada.getByRole('cell', { name: `${USERS.ada.email} (single sign-on)` }).count(),
    ).toBeGreaterThan(0);

    // The browser holds a session id only: no credential in cookies, storage or the page.
    const cookies = await ada.context().cookies(p.server.url);
    expect(cookies.every((c) => c.httpOnly)).toBe(true);
    expect(JSON.stringify(cookies)).not.toMatch(/tpms_|tpk_|tpadm_/);
    expect(await ada.content()).not.toMatch(/tpms_/);
    expect(await ada.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }))).toBe(
      '{}',
    );
    // Outside the server, a made-up member credential is nothing.
    const forged = await fetch(`${p.server.url}/v1/entities/${acmeId}`, {
      headers: { authorization: `Bearer tpms_${adaMemberId}.9999999999999.${'A'.repeat(43)}` },
    });
    expect(forged.status).toBe(401);
  });

  it('an admin member adds, changes and removes members in the console', async () => {
    await ada.goto(`/console/entities/${acmeId}`);
    await ready(ada);
    await ada.getByRole('link', { name: 'Members' }).click();
    await ready(ada);
    await accessible(ada, 'members');
    await ada.getByLabel('Email').fill('dora@example.test');
    await ada.getByLabel('Role', { exact: true }).selectOption('viewer');
    await ada.getByRole('button', { name: 'Add', exact: true }).click();
    await ready(ada);
    expect(
      await ada
        .getByRole('status')
        .filter({ hasText: 'dora@example.test added as viewer.' })
        .count(),
    ).toBe(1);

    await ada.getByLabel('Role of dora@example.test', { exact: true }).selectOption('admin');
    await ada.getByRole('button', { name: 'Change role of dora@example.test' }).click();
    await ready(ada);
    const dora = (await admin.listAllMembers(acmeId)).find((m) => m.email === 'dora@example.test');
    expect(dora?.role).toBe('admin');

    await ada.getByRole('button', { name: 'Remove dora@example.test' }).click();
    await ready(ada);
    expect((await admin.listAllMembers(acmeId)).some((m) => m.email === 'dora@example.test')).toBe(
      false,
    );
    const events = await admin.listAuditEvents({ entityId: acmeId, limit: 50 });
    const removal = events.items.find((e) => e.action === 'member.delete');
    expect(removal?.actor.email).toBe(USERS.ada.email);
    expect(removal?.detail).toContain('email=dora@example.test');
  });

  it('"Your access keys": a key of at most the member\'s role, which works on the API', async () => {
    await ada.getByRole('link', { name: 'Your access keys' }).click();
    await ready(ada);
    await accessible(ada, 'access-keys');
    await ada.getByLabel('Name').fill('laptop');
    await ada.getByLabel('Role').selectOption('viewer');
    await ada.getByRole('button', { name: 'Create' }).click();
    await ready(ada);
    const dialog = ada.getByRole('dialog', { name: /Access key "laptop" created/ });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    adaKey = (await dialog.locator('code').textContent()) ?? '';
    expect(adaKey).toMatch(/^tpk_/);
    await dialog.getByRole('button', { name: 'Close' }).click();
    expect(await ada.getByRole('rowheader', { name: 'laptop' }).count()).toBe(1);

    const asKey = new TokenplaneClient({ endpoint: p.server.url, apiKey: adaKey });
    expect((await asKey.getEntity(acmeId)).name).toBe('Acme');
    const events = await admin.listAuditEvents({ entityId: acmeId, limit: 50 });
    expect(events.items.find((e) => e.action === 'access-key.create')?.actor.email).toBe(
      USERS.ada.email,
    );
  });

  it('several memberships offer a choice; the chosen one is the session', async () => {
    const bob = await person();
    await signInAt(bob, USERS.bob, /^\/console\/oidc\/callback$/);
    expect(await bob.getByRole('heading', { name: 'Choose an organisation' }).count()).toBe(1);
    await accessible(bob, 'choice');
    await bob.getByRole('button', { name: 'Beta (admin)' }).click();
    await bob.waitForURL((url) => url.pathname === `/console/entities/${betaId}`);
    await ready(bob);
    expect(await bob.locator('.who').textContent()).toContain(
      `${USERS.bob.email}, member of "Beta"`,
    );
    // Admin of Beta: it may write there.
    expect(await bob.getByRole('button', { name: 'New', exact: true }).count()).toBe(1);
  });

  it('a stranger is refused with whom to ask, and gets no session', async () => {
    const carol = await person();
    await signInAt(carol, USERS.carol, /^\/console\/oidc\/callback$/);
    const alert = carol.getByRole('alert');
    expect(await alert.textContent()).toMatch(
      /carol@example\.test is not a member.*Ask an administrator/,
    );
    await accessible(carol, 'refused');
    expect(await sessionCookies(carol)).toEqual([]);
    await carol.goto('/console/');
    expect(new URL(carol.url()).pathname).toBe('/console/sign-in');
  });

  it('an email the provider has not verified is refused, though it is a member', async () => {
    const eve = await person();
    await signInAt(eve, USERS.eve, /^\/console\/oidc\/callback$/);
    expect(await eve.getByRole('alert').textContent()).toMatch(
      /has not verified eve@example\.test/,
    );
    expect(await sessionCookies(eve)).toEqual([]);
  });

  it('a callback without its flow, or with a wrong state, signs no one in', async () => {
    const bare = await fetch(`${p.server.url}/console/oidc/callback?code=x&state=y`, {
      redirect: 'manual',
    });
    expect(bare.status).toBe(400);
    expect(bare.headers.get('set-cookie') ?? '').not.toMatch(/tokenplane_session=[^;]/);

    const start = await fetch(`${p.server.url}/console/oidc/start`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: p.server.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(start.status).toBe(303);
    const location = new URL(start.headers.get('location') ?? '');
    expect(location.href.startsWith(keycloak.issuer)).toBe(true);
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(location.searchParams.get('nonce')).toBeTruthy();
    const flowCookie = (start.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const forged = await fetch(
      `${p.server.url}/console/oidc/callback?code=abc&state=not-the-state`,
      {
        redirect: 'manual',
        headers: { cookie: flowCookie },
      },
    );
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('Single sign-on did not complete');
    expect(forged.headers.get('set-cookie') ?? '').not.toMatch(/tokenplane_session=[^;]/);
  });

  it("a removed member's session and personal keys stop at once", async () => {
    await admin.deleteMember(adaMemberId);
    await ada.goto(`/console/entities/${acmeId}`);
    expect(new URL(ada.url()).pathname).toBe('/console/sign-in');
    expect(new URL(ada.url()).searchParams.get('ended')).toBe('1');
    const asKey = new TokenplaneClient({ endpoint: p.server.url, apiKey: adaKey });
    await expect(asKey.getEntity(acmeId)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('sign-out ends the session here and at the provider', async () => {
    const bob = await person();
    await signInAt(bob, USERS.bob, /^\/console\/oidc\/callback$/);
    await bob.getByRole('button', { name: 'Acme (viewer)' }).click();
    await bob.waitForURL((url) => url.pathname === `/console/entities/${acmeId}`);
    await ready(bob);
    // A viewer member sees no write action, yet makes its own (viewer) access keys.
    expect(await bob.getByRole('button', { name: 'New', exact: true }).count()).toBe(0);
    await bob.getByRole('link', { name: 'Your access keys' }).click();
    await ready(bob);
    expect(await bob.getByLabel('Role').locator('option').allTextContents()).toEqual(['viewer']);
    await bob.getByLabel('Name').fill('ci');
    await bob.getByRole('button', { name: 'Create' }).click();
    await ready(bob);
    await bob
      .getByRole('dialog', { name: /Access key "ci" created/ })
      .getByRole('button', { name: 'Close' })
      .click();
    await bob.getByRole('button', { name: 'Delete ci' }).click();
    await ready(bob);
    expect(await bob.getByRole('status').filter({ hasText: 'Access key deleted' }).count()).toBe(1);
    expect(await bob.getByRole('rowheader', { name: 'ci' }).count()).toBe(0);
    await bob.getByRole('button', { name: 'Sign out' }).click();
    await bob.waitForURL(
      (url) => url.origin === p.server.url && url.pathname === '/console/sign-in',
    );
    await ready(bob);
    expect(await bob.getByRole('status').filter({ hasText: 'You signed out.' }).count()).toBe(1);
    // Signed out at Keycloak too: single sign-on asks for the password again.
    await bob.getByRole('button', { name: 'Sign in with single sign-on' }).click();
    await bob.waitForURL((url) => url.href.startsWith(keycloak.issuer));
    expect(await bob.locator('#password').count()).toBe(1);
  });

  it('no credential of a member, and not the client secret, reaches the logs', () => {
    const logs = p.logs.text;
    expect(logs).toContain('/console/oidc/callback');
    expect(logs).not.toMatch(/tpms_/);
    expect(logs).not.toContain(keycloak.clientSecret);
    if (adaKey) expect(logs).not.toContain(adaKey);
  });
});
