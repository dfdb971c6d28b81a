/**
 * The console suites' browser is found on a fresh machine: TOKENPLANE_CHROMIUM
 * first, Debian's package where installed, else the one `npm install` brought.
 */
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { chromiumBinary, launchHeadlessChromium } from '../harness/chromium.ts';

describe('chromiumBinary', () => {
  const saved = process.env.TOKENPLANE_CHROMIUM;
  afterEach(() => {
    if (saved === undefined) delete process.env.TOKENPLANE_CHROMIUM;
    else process.env.TOKENPLANE_CHROMIUM = saved;
  });

  it('refuses a TOKENPLANE_CHROMIUM that does not exist, saying what to do', async () => {
    process.env.TOKENPLANE_CHROMIUM = '/nonexistent/chromium';
    await expect(chromiumBinary()).rejects.toThrow(
      /TOKENPLANE_CHROMIUM=\/nonexistent\/chromium does not exist: unset it/,
    );
  });

  it('finds a browser without TOKENPLANE_CHROMIUM, and it starts', async () => {
    delete process.env.TOKENPLANE_CHROMIUM;
    const found = await chromiumBinary();
    expect(existsSync(found.path)).toBe(true);
    expect(found.source).toBe(existsSync('/usr/lib/chromium/chromium') ? 'debian' : 'npm');
    const browser = await launchHeadlessChromium();
    try {
      expect(browser.version()).toMatch(/^\d+\./);
    } finally {
      await browser.close();
    }
  });
});
