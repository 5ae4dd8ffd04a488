// The fingerprint of a set of source files: what the compiled tree (scripts/build.mjs) and
// the workflow bundle (src/workflow-bundle.ts) are built from. Plain JavaScript, because
// scripts/build.mjs runs before any TypeScript loader; scripts/build.mjs copies it into the
// compiled tree next to the modules that import it.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Files under `dir`, recursively, sorted. */
export function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]))
    .sort();
}

/**
 * SHA-256 (hex) over each file's path relative to `root` and its content, and over the
 * lockfile (the versions of the SDK, the compiler and the bundler).
 */
export function fingerprint(root, files) {
  const hash = createHash('sha256');
  for (const file of [...files, join(root, 'package-lock.json')]) {
    if (!existsSync(file)) continue;
    hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}
