/**
 * The workflow bundle: Temporal's webpack build of src/workflows, which every worker loads
 * into its workflow sandbox. It is built once per version of the sources, in a separate
 * process, into `.build/workflows-<fingerprint>.js`, and workers load it by path: webpack
 * and its ~100 MB never enter a worker process (measured in BENCHMARKS.md).
 *
 * Workers build it on first start when it is missing. A deployment whose files are read-only
 * runs `npm run bundle` when it builds its image. The file name carries a fingerprint of the
 * sources and the lockfile, so a worker never runs an out-of-date bundle.
 *
 *   npm run bundle       (prints the bundle's path)
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { filesUnder, fingerprint } from './node/fingerprint.mjs';
import { PROJECT_ROOT } from './node/root.js';

const ROOT = PROJECT_ROOT;
const SRC = join(ROOT, 'src');
const WORKFLOWS_PATH = join(SRC, 'workflows', 'index.ts');
/** Where bundles are kept (ignored by git). */
const BUNDLE_DIR = join(ROOT, '.build');

/**
 * A fingerprint of what the bundle is built from: every file under src/ (workflows import
 * shared modules) and the lockfile (the SDK and webpack versions).
 */
function sourceFingerprint(): string {
  return fingerprint(ROOT, filesUnder(SRC)).slice(0, 16);
}

/** Path of the bundle for the current sources. */
function bundlePath(): string {
  return join(BUNDLE_DIR, `workflows-${sourceFingerprint()}.js`);
}

let ready: Promise<{ codePath: string }> | undefined;

/**
 * The bundle for the current sources, as a Worker's `workflowBundle` option. Builds it in a
 * child process when missing; concurrent builders (several workers starting at once) each
 * write a temporary file and rename it into place, so a reader never sees half a file.
 */
export function workflowBundle(): Promise<{ codePath: string }> {
  ready ??= (async () => {
    const codePath = bundlePath();
    if (!existsSync(codePath)) await buildInChildProcess(codePath);
    return { codePath };
  })();
  ready.catch(() => (ready = undefined));
  return ready;
}

function buildInChildProcess(codePath: string): Promise<void> {
  // tsx's loader, by absolute URL: the worker's working directory may be anywhere.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = spawn(process.execPath, ['--import', tsx, fileURLToPath(import.meta.url), codePath], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // The builder does not need the parent's heap limit or inspector flags.
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0 && existsSync(codePath)) resolve();
      else
        reject(
          new Error(
            `building the workflow bundle failed (${signal ?? `exit ${code}`}); run \`npm run bundle\` to see why.\n${stderr.slice(-4000)}`,
          ),
        );
    });
  });
}

/** Builds the bundle into `codePath` (in this process: the builder's entry point). */
export async function buildWorkflowBundle(codePath: string): Promise<void> {
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: {
      log: () => undefined,
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: (m: string) => console.warn(m),
      error: (m: string) => console.error(m),
    },
  });
  mkdirSync(BUNDLE_DIR, { recursive: true });
  const tmp = `${codePath}.${process.pid}.tmp`;
  writeFileSync(tmp, code);
  renameSync(tmp, codePath);
  try {
    pruneOldBundles(codePath);
  } catch {
    // Best effort: another builder may be pruning at the same time.
  }
}

/**
 * Keeps the newest few bundles (workers still running an older version may restart on it),
 * and removes temporary files a killed builder left behind.
 */
function pruneOldBundles(keep: string, kept = 5): void {
  for (const f of readdirSync(BUNDLE_DIR).filter((n) => n.endsWith('.tmp'))) {
    const path = join(BUNDLE_DIR, f);
    if (Date.now() - statSync(path).mtimeMs > 10 * 60_000) rmSync(path, { force: true });
  }
  const old = readdirSync(BUNDLE_DIR)
    .filter((f) => /^workflows-[0-9a-f]+\.js$/.test(f))
    .map((f) => join(BUNDLE_DIR, f))
    .filter((f) => f !== keep)
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  for (const f of old.slice(kept - 1)) rmSync(f, { force: true });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv[2] ?? bundlePath();
  buildWorkflowBundle(out).then(
    () => console.log(out),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
