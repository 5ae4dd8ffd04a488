/**
 * How `npm run worker` starts a worker process: the Node flags of the `worker` script in
 * package.json (the V8 heap bound). The benchmark and the process-fault tests start their
 * workers with the same flags, so what they measure is what a deployment runs.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PACKAGE_JSON = fileURLToPath(new URL('../package.json', import.meta.url));

/** The `--flag=value` options given to node before `--import` in the `worker` script. */
export function workerNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { scripts?: Record<string, string> };
  const script = pkg.scripts?.worker ?? '';
  const words = script.split(/\s+/);
  if (words[0] !== 'node') throw new Error(`package.json "worker" script should start with node: ${script}`);
  const flags: string[] = [];
  for (const w of words.slice(1)) {
    if (w === '--import') break;
    flags.push(w);
  }
  return flags;
}
