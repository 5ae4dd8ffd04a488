/**
 * Runs one SQL statement on the SQL copy and prints the rows (`psql` is not installed by setup):
 *
 *   npm run sql -- "SELECT * FROM sales_per_branch_day ORDER BY day DESC LIMIT 10"
 *
 * The database is DATABASE_URL, else the local stack's (`npm start` must be running).
 */
import { loadFeedConfig } from '../src/config/feed.js';
import { createPool } from '../src/sql/db.js';

const sql = process.argv.slice(2).join(' ').trim();
if (!sql || sql === '--help') {
  console.log('usage: npm run sql -- "<SQL statement>"   (DATABASE_URL, else the local stack\'s PostgreSQL)');
  process.exit(sql ? 0 : 2);
}
const cfg = loadFeedConfig();
const pool = createPool(cfg.databaseUrl ?? `postgres://postgres@127.0.0.1:${cfg.localPort}/sales`, 1);
try {
  const r = await pool.query<Record<string, unknown>>(sql);
  if (r.rows.length) console.table(r.rows);
  else console.log(`${r.command} ${r.rowCount ?? 0}`);
} catch (err) {
  console.error(`error: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await pool.end();
}
