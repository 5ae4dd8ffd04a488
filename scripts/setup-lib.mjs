// Helpers shared by scripts/setup.mjs and its step modules (plain JavaScript: setup runs before
// node_modules exists).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root folder. */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The ignored folder that holds the installed tools. */
export const tools = join(root, '.tools');
const quiet = process.argv.includes('--quiet');
/** Children still running, stopped when setup fails so no build outlives it. */
const children = new Set();

/** Prints a progress line unless --quiet. */
export function log(msg) {
  if (!quiet) console.log(`[setup] ${msg}`);
}

/** Prints a line even with --quiet: for steps that take minutes, so a first run never looks stuck. */
export function note(msg) {
  console.log(`[setup] ${msg}`);
}

/** Stops every child this setup started, prints the error and exits 1. */
export function fail(msg) {
  for (const child of children) child.kill('SIGTERM');
  console.error(`[setup] ERROR: ${msg}`);
  process.exit(1);
}

/** Runs a command to its end, failing setup when it cannot start or exits non-zero. */
export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.error) fail(`could not run ${cmd}: ${r.error.message}. Is ${cmd} installed and on PATH?`);
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited with ${r.status}`);
}

/** Like run, but resolves when the command ends, so other steps go on meanwhile. */
export function runAsync(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
    children.add(child);
    child.once('error', (err) =>
      fail(`could not run ${cmd}: ${err.message}. Is ${cmd} installed and on PATH?`),
    );
    child.once('exit', (code, signal) => {
      children.delete(child);
      if (code === 0) resolve();
      else fail(`${cmd} ${args.join(' ')} exited with ${code ?? signal}`);
    });
  });
}

/** The path of `cmd` on PATH, or undefined. */
export function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** sha256 of the repository files named, in order. */
export function hashOf(...files) {
  const h = createHash('sha256');
  for (const f of files) h.update(readFileSync(join(root, f)));
  return h.digest('hex');
}

/** True when `bin` exists and its `.version` stamp says `want`. */
export function isCurrent(bin, want) {
  const stamp = `${bin}.version`;
  return existsSync(bin) && existsSync(stamp) && readFileSync(stamp, 'utf8') === want;
}

/** Records that `bin` is `version` (see isCurrent). */
export function stamp(bin, version) {
  writeFileSync(`${bin}.version`, version);
}
