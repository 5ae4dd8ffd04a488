/**
 * The project's root folder (the one holding package.json), found from this file: the same
 * answer from the TypeScript sources (src/node) and from their compiled copy
 * (.build/js/src/node, see scripts/build.mjs). Paths to the project's own folders
 * (migrations, .data, .build, .tools) start here, never at `import.meta.url`.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}: is the project complete?`);
  }
}

export const PROJECT_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));
