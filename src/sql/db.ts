/**
 * The PostgreSQL copy's connection pool and its migrations. The schema is the SQL files in
 * `migrations/` (NNN_name.sql), applied in name order, each in its own transaction, under an
 * advisory lock so that two processes starting at once apply each file once. Applied files are
 * recorded in `schema_migrations`; a recorded file whose content changed stops the start.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../node/root.js';
import pg from 'pg';

/** The project's migrations folder. */
export const MIGRATIONS_DIR = join(PROJECT_ROOT, 'migrations');

/** Any number that fits: an arbitrary lock id of this project's migrations. */
const MIGRATION_LOCK = 7_311_013;

/** A pool on DATABASE_URL. Numeric and bigint columns come back as text (every digit). */
export function createPool(url: string, max = 4): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 10_000 });
  // An idle client whose server went away (PostgreSQL restarted) is dropped, not fatal.
  pool.on('error', () => undefined);
  // So is a checked-out client's, between two of its queries: its next query fails instead (the
  // caller's retry), and the pool discards it when it is released. Unhandled, it ended the process.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** Applies the migrations not yet applied; returns their names. */
export async function migrate(pool: pg.Pool, dir = MIGRATIONS_DIR): Promise<string[]> {
  const files = readdirSync(dir)
    .filter((f) => /^\d+_[\w-]+\.sql$/.test(f))
    .sort();
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, sha256 text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Map(
      (
        await client.query<{ name: string; sha256: string }>('SELECT name, sha256 FROM schema_migrations')
      ).rows.map((r) => [r.name, r.sha256]),
    );
    for (const file of files) {
      const sql = readFileSync(join(dir, file), 'utf8');
      const sha = createHash('sha256').update(sql).digest('hex');
      const before = done.get(file);
      if (before !== undefined) {
        if (before !== sha)
          throw new Error(
            `migration ${file} was changed after it was applied: add a new migration instead of editing it`,
          );
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (name, sha256) VALUES ($1, $2)', [file, sha]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${file} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(file);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
  return applied;
}
