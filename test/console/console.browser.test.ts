/// <reference lib="dom" />
/**
 * The console in real Chromium against a real platform on loopback: every flow of
 * README "Console" found by accessible role and name, the clipboard after "Copy", quota
 * and ceiling refusals, viewer vs admin, keyboard alone, sign-out and expiry, a
 * forged cross-site form, no secret left in storage, script-readable cookies or
 * the page, axe-core on every view (no serious or critical violation), 360 px.
 * Screenshots go to test-artifacts/console/.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Platform, startPlatform } from '../platform/helpers.ts';
import {
  cspViolations,
  launchChromium,
  newContext,
  type PageHealth,
  screenshot,
  seriousViolations,
} from './browser.ts';

const IDLE_MS = 15 * 60_000;

describe('console in Chromium', () => {
  let p: Platform;
  let browser: Browser;
  let admin: { context: BrowserContext; page: Page; health: PageHealth };
  let page: Page;
  /** Every secret handed out; none may stay in the page, storage or cookies. */
  const secrets = new Set<string>();
  let acmeId = '';

  beforeAll(async () => {
    p = await startPlatform('sqlite', { console: { idleMs: IDLE_MS } });
    secrets.add(p.server.adminKey);
    browser = await launchChromium();
    admin = await newContext(browser, p.server.url);
    page = admin.page;
  });
  afterAll(async () => {
    await browser?.close();
    await p?.close();
  });

  /** Runs `action`, which loads a new page, and waits until its script is ready. */
  async function loads(on: Page, action: () => Promise<unknown>): Promise<void> {
    await on.evaluate(() => {
      delete document.documentElement.dataset.ready;
    });
    await action();
    await on.waitForSelector('html[data-ready="true"]', { state: 'attached' });
  }

  async function open(on: Page, path: string): Promise<void> {
    await on.goto(path);
    await on.waitForSelector('html[data-ready="true"]', { state: 'attached' });
  }

  async function accessible(on: Page, view: string): Promise<void> {
    expect(await seriousViolations(on), view).toEqual([]);
    await screenshot(on, view);
  }

  async function signIn(on: Page, key: string): Promise<void> {
    await open(on, '/console/');
    await on.getByLabel('Access key').fill(key);
    await loads(on, () => on.getByRole('button', { name: 'Sign in' }).click());
  }

  const row = (name: string): Locator =>
    page
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: new RegExp(`^${name} `) }) });

  async function readValueDialog(title: RegExp, prefix = /^tpt_/): Promise<string> {
    const dialog = page.getByRole('dialog', { name: title });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    const value = (await dialog.locator('code').textContent()) ?? '';
    expect(value).toMatch(prefix);
    secrets.add(value);
    return value;
  }

  async function copyAndClose(title: RegExp, value: string): Promise<void> {
    const dialog = page.getByRole('dialog', { name: title });
    await dialog.getByRole('button', { name: 'Copy' }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(value);
    await dialog.getByRole('button', { name: 'Close' }).click();
    await expect.poll(() => dialog.isVisible()).toBe(false);
    // The dialog's close event (queued after close()) drops the value.
    await expect.poll(() => page.content()).not.toContain(value);
  }

  async function menu(tokenName: string, item: string): Promise<void> {
    await row(tokenName).getByRole('button', { name: 'More actions' }).click();
    await expect.poll(() => page.getByRole('menu').isVisible()).toBe(true);
    await page.getByRole('menuitem', { name: item }).click();
  }

  async function alertText(on: Page): Promise<string> {
    const alert = on.getByRole('alert').filter({ hasText: /\S/ });
    await expect.poll(() => alert.count()).toBeGreaterThan(0);
    return (await alert.first().textContent()) ?? '';
  }

  it('signs in with the administrator key', async () => {
    await open(page, '/');
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    await accessible(page, '01-sign-in');
    await page.getByLabel('Access key').fill('tpk_not-a-key');
    await loads(page, () => page.getByRole('button', { name: 'Sign in' }).click());
    expect(await alertText(page)).toContain('not a valid');
    await signIn(page, p.server.adminKey);
    await expect
      .poll(() => page.getByRole('heading', { level: 1, name: 'Entities' }).isVisible())
      .toBe(true);
    await accessible(page, '02-home');
  });

  it('creates a top-level reseller; its default token is shown once, with Copy', async () => {
    await page.getByRole('button', { name: 'New entity' }).click();
    const dialog = page.getByRole('dialog', { name: 'New top-level entity' });
    await dialog.waitFor();
    await accessible(page, '03-new-entity-dialog');
    await dialog.getByLabel('Name').fill('Acme');
    await dialog.getByLabel('Kind').selectOption('reseller');
    await dialog.getByLabel('Tier').selectOption('advanced');
    await loads(page, () => dialog.getByRole('button', { name: 'Create' }).click());
    const title = /Entity "Acme" created, with its token "default"/;
    const value = await readValueDialog(title);
    await accessible(page, '04-value-once');
    await copyAndClose(title, value);
    acmeId = new URL(page.url()).pathname.split('/').pop() as string;
    await page.reload();
    expect(await page.content()).not.toContain(value);
  });

  it("shows the entity's name, kind, tier and tokens against the quota, and the tokens table", async () => {
    await expect
      .poll(() => page.getByRole('heading', { level: 1, name: 'Acme' }).isVisible())
      .toBe(true);
    expect(await page.locator('dl.facts dt').allTextContents()).toEqual(['Kind', 'Tier', 'Tokens']);
    expect(await page.locator('dl.facts dd').allTextContents()).toEqual([
      'Reseller',
      'Advanced',
      '1 of 5',
    ]);
    const headers = await page.getByRole('columnheader').allTextContents();
    expect(headers.slice(0, 5)).toEqual(['Name', 'Status', 'Expires', 'Last used', 'Created']);
    expect(await page.getByRole('navigation', { name: 'Entities' }).textContent()).toContain(
      '1 of 5 tokens',
    );
    await accessible(page, '05-entity-tokens');
  });

  it('New: name only, Create, the value in a dialog with Copy', async () => {
    await page.getByRole('button', { name: 'New', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'New token' });
    await dialog.waitFor();
    await accessible(page, '06-new-token-dialog');
    await dialog.getByLabel('Name').fill('ci');
    await loads(page, () => dialog.getByRole('button', { name: 'Create' }).click());
    const value = await readValueDialog(/Token "ci" created/);
    await copyAndClose(/Token "ci" created/, value);
    const cells = await row('ci').getByRole('cell').allTextContents();
    expect(cells[0]).toBe('Active');
    expect(cells[1]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
    expect(cells[2]).toBe('Never');

    // "Show token" fetches the same value, only when asked; closing drops it.
    await row('ci').getByRole('button', { name: 'Show token' }).click();
    const shown = page.getByRole('dialog', { name: 'Token "ci"' });
    await expect.poll(() => shown.locator('code').textContent()).toBe(value);
    await accessible(page, '07-show-token');
    await copyAndClose(/^Token "ci"$/, value);

    // "More actions" → "Copy" puts it on the clipboard without showing it.
    await page.evaluate(() => navigator.clipboard.writeText(''));
    await row('ci').getByRole('button', { name: 'More actions' }).click();
    expect(await page.getByRole('menuitem').allTextContents()).toEqual([
      'Edit',
      'Copy',
      'Rotate',
      'Remove',
    ]);
    await accessible(page, '08-more-actions-menu');
    await page.getByRole('menuitem', { name: 'Copy' }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(value);
    expect(await page.content()).not.toContain(value);
  });

  it('New publishable token: needs an allowed origin (refused as an alert without one)', async () => {
    await page.getByRole('button', { name: 'New', exact: true }).click();
    let dialog = page.getByRole('dialog', { name: 'New token' });
    await dialog.getByLabel('Name').fill('web');
    await dialog.getByLabel('Type').selectOption('publishable');
    await loads(page, () => dialog.getByRole('button', { name: 'Create' }).click());
    expect(await alertText(page)).toMatch(/publishable token needs at least one allowed origin/);
    await page.getByRole('button', { name: 'New', exact: true }).click();
    dialog = page.getByRole('dialog', { name: 'New token' });
    await dialog.getByLabel('Name').fill('web');
    await dialog.getByLabel('Type').selectOption('publishable');
    await dialog.getByLabel('Allowed origins').fill('https://shop.example.com');
    await loads(page, () => dialog.getByRole('button', { name: 'Create' }).click());
    const value = await readValueDialog(/Token "web" created/, /^tpp_/);
    await copyAndClose(/Token "web" created/, value);
    const cells = await row('web').getByRole('cell').allTextContents();
    expect(cells.slice(4, 6)).toEqual(['Publishable', 'metrics:core:read']);
    const web = (await p.api.get(`/v1/entities/${acmeId}/tokens`)).body.items.find(
      (t: { name: string }) => t.name === 'web',
    );
    expect(web.allowedOrigins).toEqual(['https://shop.example.com']);
    expect((await p.api.delete(`/v1/tokens/${web.id}`)).status).toBe(204);
  });

  it('Edit: name, expiry and status; Save', async () => {
    await menu('ci', 'Edit');
    const dialog = page.getByRole('dialog', { name: 'Edit token "ci"' });
    await dialog.waitFor();
    await accessible(page, '09-edit-token');
    await dialog.getByLabel('Name').fill('ci-2');
    await dialog.getByLabel('Expires').fill('2031-01-02T03:04');
    await dialog.getByLabel('Status').selectOption('disabled');
    await loads(page, () => dialog.getByRole('button', { name: 'Save' }).click());
    const cells = await row('ci-2').getByRole('cell').allTextContents();
    expect(cells.slice(0, 2)).toEqual(['Disabled', '2031-01-02 03:04 UTC']);
    const token = (await p.api.get(`/v1/entities/${acmeId}/tokens`)).body.items.find(
      (t: { name: string }) => t.name === 'ci-2',
    );
    expect(token).toMatchObject({ status: 'disabled', expiresAt: '2031-01-02T03:04:00.000Z' });

    // Saved again without touching the expiry: it keeps its seconds.
    await menu('ci-2', 'Edit');
    await loads(page, () =>
      page
        .getByRole('dialog', { name: 'Edit token "ci-2"' })
        .getByRole('button', { name: 'Save' })
        .click(),
    );
    const again = (await p.api.get(`/v1/tokens/${token.id}`)).body;
    expect(again.expiresAt).toBe(token.expiresAt);
  });

  it('Edit: the permissions and limits; the usage of a usage-limited token', async () => {
    await menu('ci-2', 'Edit');
    const dialog = page.getByRole('dialog', { name: 'Edit token "ci-2"' });
    await dialog.getByLabel('Status').selectOption('active');
    await dialog.getByRole('checkbox', { name: /All metrics of the tier/ }).uncheck();
    await dialog.getByLabel('Single metrics').fill('requests latency_p50');
    await dialog.getByLabel('Allowed IP addresses').fill('127.0.0.1\n::1');
    await dialog.getByLabel('Requests per window').fill('100');
    await dialog.getByLabel('Window (seconds)').fill('60');
    await dialog.getByLabel('Requests per period').fill('1000');
    await dialog.getByLabel('Period', { exact: true }).selectOption('month');
    await accessible(page, '09b-edit-permissions');
    await loads(page, () => dialog.getByRole('button', { name: 'Save' }).click());
    const token = (await p.api.get(`/v1/entities/${acmeId}/tokens`)).body.items.find(
      (t: { name: string }) => t.name === 'ci-2',
    );
    expect(token).toMatchObject({
      status: 'active',
      scopes: ['metric:requests:read', 'metric:latency_p50:read'],
      allowedIps: ['127.0.0.1', '::1'],
      allowedOrigins: [],
      rateLimit: { requests: 100, perSeconds: 60 },
      usageLimit: { limit: 1000, period: 'month' },
      requireSignedRequests: false,
    });
    const value = (await p.api.post(`/v1/tokens/${token.id}/reveal`)).body.value;
    secrets.add(value);
    expect((await p.api.metric(value, 'requests')).status).toBe(200);
    await page.reload();
    const cells = await row('ci-2').getByRole('cell').allTextContents();
    expect(cells.slice(4, 7)).toEqual([
      'Secret',
      'metric:requests:read metric:latency_p50:read',
      expect.stringMatching(/^1 of 1000 this month, resets \d{4}-\d{2}-01 00:00 UTC$/),
    ]);
  });

  it('Rotate with a grace period: a new value, shown once; the old one keeps verifying', async () => {
    const before = (await p.api.get(`/v1/entities/${acmeId}/tokens`)).body.items.find(
      (t: { name: string }) => t.name === 'ci-2',
    );
    await p.api.patch(`/v1/tokens/${before.id}`, { status: 'active' });
    const old = (await p.api.post(`/v1/tokens/${before.id}/reveal`)).body.value;
    await page.reload();
    await menu('ci-2', 'Rotate');
    const dialog = page.getByRole('dialog', { name: 'Rotate token "ci-2"' });
    await dialog.waitFor();
    await accessible(page, '10-rotate');
    await dialog.getByLabel('Old value keeps working for').selectOption('3600');
    await loads(page, () => dialog.getByRole('button', { name: 'Rotate' }).click());
    const value = await readValueDialog(/Token "ci-2" rotated/);
    expect(value).not.toBe(old);
    await copyAndClose(/Token "ci-2" rotated/, value);
    expect((await p.api.metric(old, 'requests')).status).toBe(200);
    expect((await p.api.metric(value, 'requests')).status).toBe(200);
  });

  it('Remove asks for confirmation: Cancel keeps the token, Remove removes it', async () => {
    await menu('ci-2', 'Remove');
    const dialog = page.getByRole('dialog', { name: 'Remove token "ci-2"?' });
    await dialog.waitFor();
    await accessible(page, '11-remove-confirm');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expect(await row('ci-2').count()).toBe(1);
    await menu('ci-2', 'Remove');
    await loads(page, () => dialog.getByRole('button', { name: 'Remove' }).click());
    expect(await row('ci-2').count()).toBe(0);
    expect(await page.getByRole('status').filter({ hasText: 'removed' }).count()).toBe(1);
  });

  it('at the quota, "New" is disabled with the reason on screen; a racing create is refused as an alert', async () => {
    for (const name of ['a', 'b', 'c']) {
      expect((await p.api.post(`/v1/entities/${acmeId}/tokens`, { name })).status).toBe(201);
    }
    await page.reload();
    // 4 of 5: open the form, then another client takes the last place.
    await page.getByRole('button', { name: 'New', exact: true }).click();
    expect((await p.api.post(`/v1/entities/${acmeId}/tokens`, { name: 'd' })).status).toBe(201);
    const dialog = page.getByRole('dialog', { name: 'New token' });
    await dialog.getByLabel('Name').fill('late');
    await loads(page, () => dialog.getByRole('button', { name: 'Create' }).click());
    expect(await alertText(page)).toMatch(/holds 5 of 5 token/);
    const button = page.getByRole('button', { name: 'New', exact: true });
    expect(await button.isDisabled()).toBe(true);
    const reason = await page.locator('#quota-reason').textContent();
    expect(reason).toMatch(/holds 5 of the 5 tokens its tier "advanced" allows/);
    expect(await button.getAttribute('aria-describedby')).toBe('quota-reason');
    await accessible(page, '12-quota-full');
  });

  it("tier choices stop at the parent's tier, with the reason; a refused downgrade shows as an alert", async () => {
    // A Lite reseller under Acme: its children may not be Advanced.
    await page.getByRole('button', { name: 'New entity' }).click();
    let dialog = page.getByRole('dialog', { name: 'New entity under "Acme"' });
    await dialog.getByLabel('Name').fill('Small');
    await dialog.getByLabel('Kind').selectOption('reseller');
    await dialog.getByLabel('Tier').selectOption('lite');
    await loads(page, () => dialog.getByRole('button', { name: 'Create' }).click());
    await readValueDialog(/Entity "Small" created/);
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'New entity' }).click();
    dialog = page.getByRole('dialog', { name: 'New entity under "Small"' });
    const advanced = dialog.getByRole('option', { name: /Advanced/ });
    expect(await advanced.isDisabled()).toBe(true);
    expect(await dialog.textContent()).toMatch(
      /Advanced is not available: Tier "advanced" is above the tier "lite" of parent "Small"/,
    );
    await accessible(page, '13-tier-ceiling');
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    // An Advanced customer under Acme, then Acme cannot drop to Lite.
    await open(page, `/console/entities/${acmeId}`);
    await page.getByRole('button', { name: 'New entity' }).click();
    dialog = page.getByRole('dialog', { name: 'New entity under "Acme"' });
    await dialog.getByLabel('Name').fill('Big');
    await dialog.getByLabel('Tier').selectOption('advanced');
    await loads(page, () => dialog.getByRole('button', { name: 'Create' }).click());
    await page.keyboard.press('Escape');
    await open(page, `/console/entities/${acmeId}`);
    await page.getByRole('button', { name: 'Edit entity' }).click();
    dialog = page.getByRole('dialog', { name: 'Edit entity "Acme"' });
    await dialog.waitFor();
    await accessible(page, '14-edit-entity');
    // Five tokens do not fit Lite's one: the form says so before the API would.
    expect(await dialog.getByRole('option', { name: /Lite/ }).isDisabled()).toBe(true);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    const tokens = (await p.api.get(`/v1/entities/${acmeId}/tokens`)).body.items;
    for (const t of tokens.slice(1)) await p.api.delete(`/v1/tokens/${t.id}`);
    await page.reload();
    await page.getByRole('button', { name: 'Edit entity' }).click();
    await dialog.getByLabel('Tier').selectOption('lite');
    await loads(page, () => dialog.getByRole('button', { name: 'Save' }).click());
    expect(await alertText(page)).toMatch(
      /cannot drop to tier "lite": a child entity has tier "advanced"/,
    );
    await accessible(page, '15-ceiling-alert');
    expect((await p.api.get(`/v1/entities/${acmeId}`)).body.tier).toBe('advanced');
  });

  it('a scope above the tier: not offered, and refused as an alert when named', async () => {
    const small = (await p.api.get(`/v1/entities?parentId=${acmeId}&search=Small`)).body.items[0];
    await open(page, `/console/entities/${small.id}`);
    await menu('default', 'Edit');
    const dialog = page.getByRole('dialog', { name: 'Edit token "default"' });
    expect(await dialog.getByRole('checkbox', { name: /Extensive metrics/ }).isDisabled()).toBe(
      true,
    );
    expect(await dialog.textContent()).toMatch(
      /Not available: Scope "metrics:premium:read" needs tier "advanced"/,
    );
    await dialog.getByLabel('Single metrics').fill('latency_p99');
    await loads(page, () => dialog.getByRole('button', { name: 'Save' }).click());
    expect(await alertText(page)).toMatch(
      /"metric:latency_p99:read" needs tier "advanced"; the entity has tier "lite"/,
    );
    await accessible(page, '15b-scope-alert');
  });

  it('works with the keyboard alone: menu, dialogs, forms', async () => {
    await open(page, `/console/entities/${acmeId}`);
    const more = row('default').getByRole('button', { name: 'More actions' });
    await more.focus();
    await page.keyboard.press('Enter');
    const focused = () => page.evaluate(() => document.activeElement?.textContent?.trim());
    await expect.poll(focused).toBe('Edit');
    await page.keyboard.press('ArrowDown');
    await expect.poll(focused).toBe('Copy');
    await page.keyboard.press('End');
    await expect.poll(focused).toBe('Remove');
    await page.keyboard.press('ArrowDown');
    await expect.poll(focused).toBe('Edit');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('menu').count()).toBe(0);
    await expect.poll(() => more.evaluate((el) => el === document.activeElement)).toBe(true);
    // Edit by keyboard: the dialog takes focus, Escape gives it back.
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Edit token "default"' });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.getAttribute('name')))
      .toBe('name');
    await page.keyboard.press('Escape');
    await expect.poll(() => more.evaluate((el) => el === document.activeElement)).toBe(true);
    // New by keyboard: type the name and press Enter.
    await page.getByRole('button', { name: 'New', exact: true }).focus();
    await page.keyboard.press('Enter');
    await page.keyboard.type('keyboard');
    await loads(page, () => page.keyboard.press('Enter'));
    await readValueDialog(/Token "keyboard" created/);
    await page.keyboard.press('Escape');
    expect(await row('keyboard').count()).toBe(1);
  });

  it("the audit view lists the entity's events", async () => {
    await loads(page, () => page.getByRole('link', { name: 'Audit log' }).click());
    await expect
      .poll(() => page.getByRole('heading', { level: 1, name: 'Audit log of Acme' }).isVisible())
      .toBe(true);
    const actions = await page.getByRole('rowheader').allTextContents();
    expect(actions).toEqual(
      expect.arrayContaining(['token.create', 'token.rotate', 'token.delete']),
    );
    await accessible(page, '16-audit');
  });

  it('a reseller with many customers: paged list and search', async () => {
    const many = (
      await p.api.post('/v1/entities', { name: 'Many', kind: 'reseller', defaultToken: false })
    ).body;
    for (let i = 0; i < 60; i++) {
      const name = `Customer ${String(i).padStart(3, '0')}`;
      await p.api.post('/v1/entities', {
        name,
        kind: 'customer',
        parentId: many.id,
        defaultToken: false,
      });
    }
    await open(page, `/console/entities/${many.id}`);
    const nav = page.getByRole('navigation', { name: 'Entities' });
    expect(await nav.getByRole('listitem').count()).toBe(50);
    await loads(page, () => nav.getByRole('link', { name: 'Next page' }).click());
    expect(await nav.getByRole('listitem').count()).toBeGreaterThan(0);
    await nav.getByLabel('Search entities').fill('customer 042');
    await loads(page, () => nav.getByRole('button', { name: 'Search' }).click());
    expect(await nav.getByRole('link').allTextContents()).toEqual(['Customer 042']);
    await loads(page, () => nav.getByRole('link', { name: 'Customer 042' }).click());
    await expect
      .poll(() => page.getByRole('heading', { level: 1, name: 'Customer 042' }).isVisible())
      .toBe(true);
  });

  it('readable at 360 px: no sideways scrolling, still accessible', async () => {
    const narrow = await newContext(browser, p.server.url, { width: 360, height: 780 });
    await signIn(narrow.page, p.server.adminKey);
    await open(narrow.page, `/console/entities/${acmeId}`);
    const overflow = await narrow.page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await accessible(narrow.page, '17-entity-360px');
    await narrow.page.getByRole('button', { name: 'More actions' }).first().click();
    await accessible(narrow.page, '18-menu-360px');
    await narrow.context.close();
  });

  it('a viewer sees tokens but no write action; an admin key cannot govern its own entity', async () => {
    const viewerKey = (
      await p.api.post(`/v1/entities/${acmeId}/access-keys`, { name: 'v', role: 'viewer' })
    ).body.key;
    const adminKey = (
      await p.api.post(`/v1/entities/${acmeId}/access-keys`, { name: 'a', role: 'admin' })
    ).body.key;
    secrets.add(viewerKey);
    secrets.add(adminKey);
    const viewer = await newContext(browser, p.server.url);
    await signIn(viewer.page, viewerKey);
    expect(new URL(viewer.page.url()).pathname).toBe(`/console/entities/${acmeId}`);
    expect(await viewer.page.locator('header').textContent()).toContain(
      'access key (viewer) of "Acme"',
    );
    expect(await viewer.page.getByRole('row').count()).toBeGreaterThan(1);
    for (const name of ['New', 'Show token', 'More actions', 'Edit entity', 'New entity']) {
      expect(await viewer.page.getByRole('button', { name, exact: true }).count(), name).toBe(0);
    }
    await accessible(viewer.page, '19-viewer');
    await viewer.context.close();

    const own = await newContext(browser, p.server.url);
    await signIn(own.page, adminKey);
    expect(await own.page.getByRole('button', { name: 'Edit entity' }).count()).toBe(0);
    expect(await own.page.getByRole('button', { name: 'New', exact: true }).count()).toBe(1);
    const child = (await p.api.get(`/v1/entities?parentId=${acmeId}&search=Small`)).body.items[0];
    await open(own.page, `/console/entities/${child.id}`);
    expect(await own.page.getByRole('button', { name: 'Edit entity' }).count()).toBe(1);
    // Outside its subtree there is nothing to see.
    const many = (await p.api.get('/v1/entities?search=Many')).body.items[0];
    const outside = await own.page.goto(`/console/entities/${many.id}`);
    expect(outside?.status()).toBe(404);
    await own.context.close();
  });

  it('a form posted from another site is refused and changes nothing', async () => {
    const target = p.server.url.replace('127.0.0.1', 'localhost');
    const attacker: Server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<form id="f" method="post" action="${p.server.url}/console/entities">
<input name="name" value="Evil"><input name="kind" value="customer"><input name="tier" value="lite">
</form><script>document.getElementById('f').submit()</script>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    const port = (attacker.address() as AddressInfo).port;
    try {
      expect(target).not.toBe(p.server.url);
      await page.goto(`http://localhost:${port}/`);
      await page.waitForURL((url) => url.pathname.startsWith('/console/'));
      expect((await p.api.get('/v1/entities?search=Evil')).body.items).toEqual([]);
      // The session itself is untouched.
      await open(page, `/console/entities/${acmeId}`);
      expect(await page.getByRole('heading', { level: 1, name: 'Acme' }).count()).toBe(1);
    } finally {
      attacker.close();
    }
  });

  it('keeps no secret in storage, script-readable cookies or the page, and the page reports no CSP violation', async () => {
    await open(page, `/console/entities/${acmeId}`);
    await row('default').getByRole('button', { name: 'Show token' }).click();
    await page
      .getByRole('dialog', { name: 'Token "default"' })
      .getByRole('button', { name: 'Close' })
      .click();
    await expect.poll(() => page.locator('#value-text').textContent()).toBe('');
    const seen = await page.evaluate(() => ({
      local: JSON.stringify({ ...localStorage }),
      session: JSON.stringify({ ...sessionStorage }),
      cookies: document.cookie,
      html: document.documentElement.outerHTML,
    }));
    expect(seen.local).toBe('{}');
    expect(seen.session).toBe('{}');
    expect(seen.cookies).toBe('');
    for (const secret of secrets) {
      expect(seen.html.includes(secret)).toBe(false);
    }
    const cookies = await admin.context.cookies();
    expect(cookies.every((c) => c.httpOnly && c.sameSite === 'Strict')).toBe(true);
    expect(await cspViolations(page)).toEqual([]);
    expect(admin.health.errors).toEqual([]);
  });

  it('sign-out ends the session; an idle session expires', async () => {
    await loads(page, () => page.getByRole('button', { name: 'Sign out' }).click());
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    expect(await page.getByRole('status').filter({ hasText: 'You signed out.' }).count()).toBe(1);
    await open(page, `/console/entities/${acmeId}`);
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');

    await signIn(page, p.server.adminKey);
    p.clock.advance(IDLE_MS + 1000);
    await open(page, `/console/entities/${acmeId}`);
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    expect(await page.getByRole('status').filter({ hasText: 'Your session ended' }).count()).toBe(
      1,
    );
  });

  it('past 10 failed sign-ins in a minute, the page says to wait', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${p.server.url}/console/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: p.server.url },
        body: new URLSearchParams({ key: `tpk_guess${i}` }).toString(),
      });
      expect(res.status).toBe(401);
    }
    await open(page, '/console/sign-in');
    await page.getByLabel('Access key').fill(p.server.adminKey);
    await loads(page, () => page.getByRole('button', { name: 'Sign in' }).click());
    expect(await alertText(page)).toMatch(
      /Too many failed sign-in attempts from your address\. Wait \d+ seconds, then try again\./,
    );
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    await accessible(page, '20-sign-in-limited');
    p.clock.advance(60_000);
    await signIn(page, p.server.adminKey);
    expect(new URL(page.url()).pathname).toBe('/console/');
  });
});
