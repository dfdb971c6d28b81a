/// <reference lib="dom" />
/**
 * Real Chromium for the console suites (test/harness/chromium.ts says which,
 * driven by playwright-core): launch, a context per signed-in person with clipboard
 * permissions, an axe-core check, screenshots into test-artifacts/console/
 * (git-ignored), and the page's own CSP violations and script errors.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchHeadlessChromium } from '../harness/chromium.ts';

export const ARTIFACTS = join(import.meta.dirname, '../../test-artifacts/console');

export async function launchChromium(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return launchHeadlessChromium();
}

/** What a page reported about itself: CSP violations and uncaught script errors. */
export type PageHealth = { cspViolations: string[]; errors: string[] };

export async function newContext(
  browser: Browser,
  origin: string,
  viewport = { width: 1280, height: 900 },
): Promise<{ context: BrowserContext; page: Page; health: PageHealth }> {
  const context = await browser.newContext({ viewport, baseURL: origin });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  context.setDefaultTimeout(20_000);
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const w = window as unknown as { __csp?: string[] };
      w.__csp = [...(w.__csp ?? []), `${e.violatedDirective} ${e.blockedURI}`];
    });
  });
  const page = await context.newPage();
  const health: PageHealth = { cspViolations: [], errors: [] };
  page.on('pageerror', (error) => health.errors.push(error.message));
  return { context, page, health };
}

export async function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []);
}

const axeSource = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

type AxeResult = {
  violations: {
    id: string;
    impact: string | null;
    help: string;
    nodes: { target: unknown[] }[];
  }[];
};

/**
 * axe-core's serious and critical violations on the page as it is now. It is
 * evaluated through the DevTools protocol, so the page's strict CSP (which would
 * refuse an injected <script>) stays on.
 */
export async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const result = (await page.evaluate(() =>
    (window as unknown as { axe: { run: (c: unknown, o: unknown) => Promise<unknown> } }).axe.run(
      document,
      { resultTypes: ['violations'] },
    ),
  )) as AxeResult;
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} — ${v.nodes.length} node(s): ${v.nodes
          .slice(0, 3)
          .map((n) => JSON.stringify(n.target))
          .join(', ')}`,
    );
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}
