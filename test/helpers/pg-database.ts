/** A database of its own per test on a suite's local PostgreSQL: tests never share rows. */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { type LocalPostgres, startPostgres } from '../../scripts/lib/postgres.js';
import { freePort } from '../../scripts/stack.js';
import { MIGRATIONS_DIR, createPool, migrate } from '../../src/sql/db.js';

/** A fresh database on `server`, migrated with the files of `dir`: its pool and URL. */
export async function freshDatabase(
  server: LocalPostgres | undefined,
  dir = MIGRATIONS_DIR,
): Promise<{ pool: pg.Pool; url: string }> {
  if (!server) throw new Error('PostgreSQL is not started');
  const db = `t_${randomUUID().slice(0, 8)}`;
  const admin = createPool(server.url, 1);
  await admin.query(`CREATE DATABASE ${db}`);
  await admin.end();
  const url = server.url.replace(/\/[^/]+$/, `/${db}`);
  const pool = createPool(url);
  await migrate(pool, dir);
  return { pool, url };
}

/** A suite's PostgreSQL: its own local server, and a fresh migrated database per test (`pool`). */
export interface SuiteDatabases {
  /** The current test's database. */
  readonly pool: pg.Pool;
  /** Another fresh database, migrated with the files of `dir` (the test ends its pool). */
  database(dir?: string): Promise<pg.Pool>;
}

/** Registers the hooks of a suite on its own PostgreSQL (see SuiteDatabases). */
export function useSuiteDatabases(): SuiteDatabases {
  let server: LocalPostgres | undefined;
  let pool: pg.Pool | undefined;
  before(async () => {
    server = await startPostgres({ port: await freePort() });
  });
  beforeEach(async () => {
    pool = (await freshDatabase(server)).pool;
  });
  afterEach(async () => {
    await pool?.end();
    pool = undefined;
  });
  after(async () => {
    await server?.stop();
  });
  return {
    get pool() {
      if (!pool) throw new Error('no database: a test of this suite uses it');
      return pool;
    },
    database: async (dir) => (await freshDatabase(server, dir)).pool,
  };
}
