/**
 * What `npm start` prints about the change feed: where its change objects go and its consumers,
 * and whether the SQL copy caught up with DynamoDB after the first run. `npm run feed` prints
 * neither (src/feed/service.ts).
 */
import type pg from 'pg';
import type { FeedTable } from '../../src/feed/events.js';
import { copyDifferences } from '../../src/feed/compare.js';
import type { FeedService } from '../../src/feed/service.js';
import { feedWorkflowId } from '../../src/feed/worker.js';
import type { LandingConfig } from '../../src/config/landing.js';
import { within } from '../../src/shutdown.js';
import type { Store } from '../../src/store/index.js';

/** One line for `npm start`: where the change objects go and the consumers. */
export function describeFeed(feed: FeedService, landing: LandingConfig | null): string {
  const path = landing
    ? `s3://${landing.bucket}/${landing.prefix}changes/<table>/<yyyy>/<mm>/<dd>/<hh>/ -> PostgreSQL`
    : 'PostgreSQL; no change objects (LANDING=off)';
  const started = feed.consumersStarted.length ? 'started now' : 'running';
  return `DynamoDB Streams -> ${path}; consumers ${feedWorkflowId('<table>' as FeedTable)} (${started})`;
}

/** Longest one comparison of the copy may wait on PostgreSQL before the check gives up. */
const COPY_CHECK_CALL_MS = 10_000;

/**
 * Waits until the SQL copy equals DynamoDB (at most `timeoutMs`) and says how it went: the rows
 * and the wait, or what still differs. It never waits longer: a PostgreSQL that fails or does not
 * answer within 10 s ends the check with what it said.
 */
export async function waitForCopy(store: Store, pool: pg.Pool, timeoutMs: number): Promise<string> {
  const t0 = Date.now();
  let diff: string[] = [];
  const late = Symbol('late');
  const call = async <T>(p: Promise<T>): Promise<T> => {
    const r = await within<T | typeof late>(p, COPY_CHECK_CALL_MS, late);
    if (r === late) throw new Error(`PostgreSQL did not answer within ${COPY_CHECK_CALL_MS / 1000} s`);
    return r;
  };
  try {
    while (Date.now() - t0 < timeoutMs) {
      diff = await call(copyDifferences(store, pool, 3));
      if (diff.length === 0) {
        const { rows } = await call(
          pool.query<{ t: string; n: string }>(
            `SELECT 'branches' t, count(*) n FROM branches UNION ALL SELECT 'salespersons', count(*) FROM salespersons UNION ALL SELECT 'sales', count(*) FROM sales`,
          ),
        );
        return `equals DynamoDB field by field (${rows.map((r) => `${r.n} ${r.t}`).join(', ')}), ${((Date.now() - t0) / 1000).toFixed(1)} s after the run`;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  } catch (err) {
    return `not checked: ${(err as Error).message}`;
  }
  return `not caught up after ${timeoutMs / 1000} s: ${diff.join('; ')}`;
}
