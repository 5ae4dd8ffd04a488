/**
 * Headless Chromium for the Web UI test: Debian's `chromium` (or CHROMIUM_PATH), driven with
 * puppeteer-core, which never downloads a browser of its own.
 *
 * Without Chromium the test fails with a message saying how to install it, unless
 * SKIP_BROWSER_TESTS=1: then it is reported as skipped (pending), never as passed.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The Chromium to use, or undefined when none is installed. */
export function chromiumPath(): string | undefined {
  const fromEnv = process.env.CHROMIUM_PATH?.trim();
  if (fromEnv) {
    if (!existsSync(fromEnv))
      throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist: point it at a Chromium binary or unset it.`);
    return fromEnv;
  }
  return CANDIDATES.find((p) => existsSync(p));
}

export const NO_CHROMIUM = `the Web UI test needs Chromium and none was found (${CANDIDATES.join(', ')}, CHROMIUM_PATH). Install it (Debian/Ubuntu: apt-get install -y chromium) or set CHROMIUM_PATH; to run the other tests without it, set SKIP_BROWSER_TESTS=1 and this test is reported as skipped, not passed.`;

/**
 * Mocha `before` helper: the Chromium path, or skips the suite (SKIP_BROWSER_TESTS=1) or fails
 * it with NO_CHROMIUM.
 */
export function requireChromium(ctx: Mocha.Context): string {
  const path = chromiumPath();
  if (path) return path;
  if (process.env.SKIP_BROWSER_TESTS === '1') {
    console.log(`      SKIPPED (SKIP_BROWSER_TESTS=1): ${NO_CHROMIUM}`);
    ctx.skip();
  }
  throw new Error(NO_CHROMIUM);
}

/** A headless Chromium with a fresh profile; `close()` removes the profile. */
export async function launchChromium(
  executablePath: string,
): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
    userDataDir: profile,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
  return {
    browser,
    close: async () => {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
