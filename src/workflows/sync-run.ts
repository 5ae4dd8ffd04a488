/**
 * Writes one sync run's row into `sync_runs`. It runs on the change feed's task queue, whose
 * worker is the one process with PostgreSQL, as a child the sync run starts and abandons: the
 * sync run ends at once, and the row is written as soon as a feed worker polls, however long
 * the feed was down or not yet deployed.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { SyncRunActivities, SyncRunRecord } from '../activities/types.js';

/** Records `row`, retrying until PostgreSQL takes it (the write is an idempotent upsert). */
export async function recordSyncRunWorkflow(row: SyncRunRecord): Promise<void> {
  const { recordSyncRun } = proxyActivities<SyncRunActivities>({
    startToCloseTimeout: '1m',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
  });
  await recordSyncRun(row);
}
