/** A database of its own per test on a shared local PostgreSQL: tests never share rows. */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { LocalPostgres } from '../../scripts/lib/postgres.js';
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
