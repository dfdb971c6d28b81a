/**
 * Which Chromium the console suites and bench:console drive: `TOKENPLANE_CHROMIUM`
 * if set, else Debian's `chromium` package where it is installed, else the
 * headless Chromium that `npm install` brought (@sparticuz/chromium, unpacked
 * into the system temp folder on first use), so that a fresh machine needs
 * nothing beyond `npm install`.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

const DEBIAN_CHROMIUM = '/usr/lib/chromium/chromium';

export type ChromiumBinary = { path: string; source: 'TOKENPLANE_CHROMIUM' | 'debian' | 'npm' };

export async function chromiumBinary(): Promise<ChromiumBinary> {
  const given = process.env.TOKENPLANE_CHROMIUM;
  if (given) {
    if (!existsSync(given))
      throw new Error(
        `TOKENPLANE_CHROMIUM=${given} does not exist: unset it or point it at a Chromium binary.`,
      );
    return { path: given, source: 'TOKENPLANE_CHROMIUM' };
  }
  if (existsSync(DEBIAN_CHROMIUM)) return { path: DEBIAN_CHROMIUM, source: 'debian' };
  const { default: packaged } = await import('@sparticuz/chromium');
  return { path: await packaged.executablePath(), source: 'npm' };
}

/**
 * Headless Chromium as the tests run it: as root it needs --no-sandbox; no
 * background networking, so it asks nothing of the closed network.
 */
export async function launchHeadlessChromium(): Promise<Browser> {
  const { path } = await chromiumBinary();
  return chromium.launch({
    executablePath: path,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update'],
  });
}
