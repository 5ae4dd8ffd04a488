/**
 * `npm start` as a user runs it in a terminal, for the stop tests: scripts/start.ts (what the
 * `start` script runs after its setup check) in a process group of its own, on free ports and a
 * fresh DATA_DIR, with the servers it starts watched in the process tree. `interrupt()` sends
 * SIGINT to the whole group, as Ctrl-C in a terminal does.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, cmdline, descendants } from '../../scripts/lib/proc.js';
import { ROOT, freePort } from '../../scripts/stack.js';

/** The environment of a user's shell: none of the project's settings. */
export function userEnv(extra: Record<string, string>): Record<string, string> {
  const drop =
    /^(PAYLOAD_|TEMPORAL_|CODEC_|SYNC_|VENDOR_|DYNAMODB_|SIM_|NOTIFY_|FOLLOW_UP|TASK_QUEUE|TABLE_|DATA_DIR|USE_AWS|AWS_ENDPOINT|LANDING|S3_|DATABASE_URL|POSTGRES_|FEED_|METRICS_|RECONCILE_)/;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !drop.test(k)) env[k] = v;
  return { ...env, ...extra };
}

/** A running `npm start`. */
export class StartProcess {
  readonly child: ChildProcess;
  readonly dataDir = mkdtempSync(join(tmpdir(), 'stop-start-'));
  output = '';
  /** Every process seen below it (pid -> command line): the stack's servers. */
  readonly seen = new Map<number, string>();
  exitedAt = 0;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly #watch: NodeJS.Timeout;

  private constructor(env: Record<string, string>, args: string[]) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts', ...args], {
      cwd: ROOT,
      env: userEnv({ DATA_DIR: this.dataDir, ...env }),
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, like a terminal's foreground job: Ctrl-C reaches the whole group.
      detached: true,
    });
    this.child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.exitedAt = Date.now();
        resolve({ code, signal });
      }),
    );
    this.#watch = setInterval(() => this.noteTree(), 500);
  }

  /** Starts scripts/start.ts with `args` on free ports, a small simulated vendor and `env` on top. */
  static async start(env: Record<string, string>, args: string[] = []): Promise<StartProcess> {
    const ports: Record<string, string> = {};
    for (const k of [
      'TEMPORAL_PORT',
      'TEMPORAL_UI_PORT',
      'DYNAMODB_LOCAL_PORT',
      'SIM_PORT',
      'CODEC_SERVER_PORT',
      'S3_LOCAL_PORT',
      'METRICS_PORT',
      'POSTGRES_PORT',
    ])
      ports[k] = String(await freePort());
    return new StartProcess(
      {
        ...ports,
        SIM_EMPLOYEES_PER_BRANCH: '1',
        SIM_SALES_PER_SALESPERSON: '2',
        SIM_LATENCY_MS: '0',
        ...env,
      },
      args,
    );
  }

  get pid(): number {
    return this.child.pid as number;
  }

  private noteTree(): void {
    if (!alive(this.pid)) return;
    for (const pid of descendants(this.pid)) {
      if (this.seen.has(pid)) continue;
      try {
        this.seen.set(pid, cmdline(pid).join(' ').slice(0, 160));
      } catch {
        // Exited in the meantime.
      }
    }
  }

  /** Resolves with the time (ms) at which the output first matched `re`; rejects after `timeoutMs` or on exit. */
  async waitForOutput(re: RegExp, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(this.output)) {
      if (this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(`npm start exited before printing ${re}:\n${this.output}`);
      if (Date.now() > deadline)
        throw new Error(`npm start did not print ${re} within ${timeoutMs} ms:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    this.noteTree();
    return Date.now();
  }

  /** Ctrl-C in the terminal: SIGINT to the process group. */
  interrupt(): void {
    this.noteTree();
    process.kill(-this.pid, 'SIGINT');
  }

  /** Waits for the exit, at most `timeoutMs`; undefined when it is still running then. */
  async exit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>(
      (resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)),
    );
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The processes of the tree still alive (a second later, so that a server that was just told has exited). */
  async leftovers(): Promise<string[]> {
    const left = () => [...this.seen].filter(([pid]) => alive(pid));
    for (let i = 0; i < 20 && left().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    return left().map(([pid, what]) => `${pid} ${what}`);
  }

  /** Ends whatever is left (SIGKILL to the group and to every process seen) and removes DATA_DIR. */
  cleanup(): void {
    clearInterval(this.#watch);
    for (const pid of [this.pid, ...this.seen.keys()])
      try {
        if (alive(pid)) process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
