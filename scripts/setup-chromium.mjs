// Chromium for the Web UI test (`npm test` only): installed with apt-get when setup runs as root on
// Debian or Ubuntu, otherwise named in a message; never downloaded from elsewhere (puppeteer-core
// brings no browser).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { note } from './setup-lib.mjs';

/** Where the Web UI test looks for Chromium (test/helpers/browser.ts), CHROMIUM_PATH aside. */
export const CHROMIUM_CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
];

/** What to install by hand, and the way out, when setup cannot install Chromium itself. */
export const CHROMIUM_MISSING =
  'Chromium is missing, so the Web UI test will fail. Install it: on Debian or Ubuntu `sudo apt-get install -y chromium` ' +
  '(npm test does this itself when run as root); elsewhere install Chromium or Google Chrome and set CHROMIUM_PATH ' +
  'to its binary. SKIP_BROWSER_TESTS=1 reports that test as skipped instead (never as passed).';

/**
 * What setup does about Chromium, from the facts given: `skip` (SKIP_BROWSER_TESTS=1), `present`
 * (CHROMIUM_PATH or a candidate exists), `apt-get` (root with apt-get) or `missing` (with a message).
 * @param {{ env: Record<string, string | undefined>, exists: (path: string) => boolean, isRoot: boolean, hasAptGet: boolean }} facts
 * @returns {{ kind: 'skip' | 'present' | 'apt-get' | 'missing', detail: string }}
 */
export function chromiumAction({ env, exists, isRoot, hasAptGet }) {
  if (env.SKIP_BROWSER_TESTS === '1') return { kind: 'skip', detail: 'SKIP_BROWSER_TESTS=1' };
  const fromEnv = env.CHROMIUM_PATH?.trim();
  if (fromEnv) {
    if (exists(fromEnv)) return { kind: 'present', detail: fromEnv };
    return {
      kind: 'missing',
      detail: `CHROMIUM_PATH=${fromEnv} does not exist: point it at a Chromium binary or unset it.`,
    };
  }
  const found = CHROMIUM_CANDIDATES.find(exists);
  if (found) return { kind: 'present', detail: found };
  if (isRoot && hasAptGet) return { kind: 'apt-get', detail: 'apt-get install chromium' };
  return { kind: 'missing', detail: CHROMIUM_MISSING };
}

/** This machine's facts for chromiumAction. */
export function chromiumFacts() {
  return {
    env: process.env,
    exists: existsSync,
    isRoot: process.getuid?.() === 0,
    hasAptGet: spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0,
  };
}

/** Runs a command to its end; resolves with its exit code (a failed browser install stops no other test). */
function exitCode(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    child.once('error', () => resolve(-1));
    child.once('exit', (code) => resolve(code ?? -1));
  });
}

/**
 * Installs Debian's chromium when setup may (root, apt-get) and it is missing; otherwise says what to
 * install. Never fails setup: without Chromium only the Web UI test fails, with the same message.
 */
export async function ensureChromium() {
  const action = chromiumAction(chromiumFacts());
  if (action.kind === 'missing') note(`WARNING: ${action.detail}`);
  if (action.kind !== 'apt-get') return;
  note("installing Chromium for the Web UI test (Debian's chromium, apt-get as root)");
  const ok =
    (await exitCode('apt-get', ['update', '-q'])) === 0 &&
    (await exitCode('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'chromium'])) === 0;
  if (!ok || !CHROMIUM_CANDIDATES.some((p) => existsSync(p)))
    note(`WARNING: apt-get could not install chromium. ${CHROMIUM_MISSING}`);
}
