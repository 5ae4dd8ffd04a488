/**
 * How `npm run worker` starts a worker process: the Node flags of the `worker` script in
 * package.json (the V8 heap bound), and the environment a worker started by the tooling gets.
 * The benchmark and the process-fault tests start their workers with `spawnWorker`, so what
 * they measure is what a deployment runs.
 */
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ROOT } from './stack.js';

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

/**
 * Settings of the parent's environment that would point a worker started by the tooling
 * elsewhere (another Temporal deployment or namespace, another vendor key, other payload
 * keys, other Node options): never inherited; the starter sets what it means.
 */
export const NOT_INHERITED: readonly string[] = [
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CERT_PATH',
  'TEMPORAL_TLS_KEY_PATH',
  'TEMPORAL_NAMESPACE',
  'VENDOR_API_KEY_FILE',
  'PAYLOAD_ENCRYPTION_KEY',
  'PAYLOAD_ENCRYPTION_KEY_ID',
  'PAYLOAD_DECRYPTION_KEYS',
  'NODE_OPTIONS',
];

/** The parent's environment without NOT_INHERITED, with `settings` on top (undefined values left out). */
export function workerEnv(settings: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of NOT_INHERITED) delete env[k];
  for (const [k, v] of Object.entries(settings)) if (v !== undefined) env[k] = v;
  return env;
}

/**
 * Starts `script` (relative to the project root) as `npm run worker` starts src/worker.ts:
 * `node <worker flags> --import tsx <script>`, a direct child of this process (no npm or
 * shell in between: a signal reaches the worker itself).
 */
export function spawnWorker(script: string, env: NodeJS.ProcessEnv, stdio: StdioOptions): ChildProcess {
  return spawn(process.execPath, [...workerNodeFlags(), '--import', 'tsx', script], {
    cwd: ROOT,
    env,
    stdio,
  });
}
