/**
 * A change-object store on a local folder. Interim: the landing bucket's S3 client replaces it.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { ChangeObjectStore } from './objects.js';

export function folderObjectStore(root: string): ChangeObjectStore {
  const walk = async (dir: string): Promise<string[]> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    const out: string[] = [];
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) out.push(...(await walk(p)));
      else if (!e.name.endsWith('.tmp')) out.push(relative(root, p));
    }
    return out;
  };
  return {
    where: root,
    async put(key, body) {
      const path = join(root, key);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(`${path}.tmp`, body);
      await rename(`${path}.tmp`, path);
    },
    get: (key) => readFile(join(root, key)),
    list: async (prefix) => (await walk(root)).filter((k) => k.startsWith(prefix)).sort(),
  };
}
