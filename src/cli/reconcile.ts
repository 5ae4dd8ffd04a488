/**
 * `npm run cli -- reconcile` (compare the SQL copy with DynamoDB, and repair it) and `schedule
 * reconcile` (its daily schedule). Both go through Temporal: the reconcile runs as
 * `reconcileWorkflow` on the feed's task queue, whose worker has PostgreSQL and DynamoDB.
 */
import type { Client } from '@temporalio/client';
import type { FeedTable } from '../feed/events.js';
import { SYNCED_TABLES } from '../shared/tables.js';
import { loadFeedConfig } from '../config/feed.js';
import { feedTaskQueue } from '../shared/task-queues.js';
import {
  DEFAULT_SETTLE_SECONDS,
  DIFFERENCE_KINDS,
  type ReconcileInput,
  type ReconcileReport,
} from '../shared/reconcile.js';
import { reconcileScheduleId, startReconcile, upsertReconcileSchedule } from '../client.js';
import { type Command, UsageError, intOption } from './options.js';

/** The lines of a report and the exit code: 1 when a difference is left (found and not repaired). */
export function reconcileReportLines(report: ReconcileReport): { lines: string[]; code: number } {
  const lines: string[] = [];
  let left = 0;
  for (const t of report.tables) {
    const n = DIFFERENCE_KINDS.reduce((s, k) => s + t.found[k], 0);
    const kinds = DIFFERENCE_KINDS.filter((k) => t.found[k] > 0).map((k) => `${t.found[k]} ${k}`);
    lines.push(
      `${t.table}: ${t.items} items, ${n ? `${n} differences (${kinds.join(', ')})` : 'no difference'}${report.repair ? `, ${t.repaired} repaired` : ''}`,
    );
    for (const e of t.examples) lines.push(`  ${e}`);
    left += report.repair ? Math.max(0, n - t.repaired) : n;
  }
  if (report.repair && left > 0)
    lines.push(
      `${left} not repaired: the stream changed them around the time they were read; the next reconcile repairs them.`,
    );
  return { lines, code: left > 0 ? 1 : 0 };
}

function tablesOption(v: Record<string, unknown>): FeedTable[] | undefined {
  if (typeof v.table !== 'string') return undefined;
  const t = v.table.trim();
  if (!(SYNCED_TABLES as readonly string[]).includes(t))
    throw new UsageError(`--table=${t} is not a table of the copy: use one of ${SYNCED_TABLES.join(', ')}.`);
  return [t as FeedTable];
}

/** The commands, given the CLI's connect (after the arguments are checked) and task queue suffix. */
export function reconcileCommands(
  connect: () => Promise<Client>,
  suffix: () => string,
): Record<string, Command> {
  return {
    reconcile: {
      usage: 'reconcile [--table T] [--repair] [--settle-seconds N]',
      help: `Compares the PostgreSQL copy with DynamoDB item by item and lists each difference (missing, deleted, different, extra); with --repair makes them equal. Runs as a workflow on the change feed's worker (npm start or npm run feed). Exit code 1 if a difference is left.`,
      options: {
        table: { type: 'string', help: `only this table (${SYNCED_TABLES.join(', ')}; default: all)` },
        repair: {
          type: 'boolean',
          help: 'write the items where the copy differs, tombstone rows whose item is gone',
        },
        'settle-seconds': {
          type: 'string',
          help: `a difference counts only if it is still there this long after the pass, so the feed can apply what it has not yet (default ${DEFAULT_SETTLE_SECONDS})`,
        },
      },
      async run(v) {
        const input: ReconcileInput = {
          repair: v.repair === true,
          settleSeconds: intOption(v, 'settle-seconds', DEFAULT_SETTLE_SECONDS, 0, 3600),
        };
        const tables = tablesOption(v);
        if (tables) input.tables = tables;
        const handle = await startReconcile(await connect(), suffix(), input);
        console.log(`started ${handle.workflowId} (${input.repair ? 'repair' : 'report only'})`);
        const report = await handle.result();
        const { lines, code } = reconcileReportLines(report);
        for (const line of lines) console.log(line);
        return code;
      },
    },
    'schedule reconcile': {
      usage: 'schedule reconcile [--every-hours N]',
      help: 'Creates the reconcile schedule (daily at 03:00 UTC), or updates it in place. It repairs what it finds unless RECONCILE_REPAIR=off.',
      options: { 'every-hours': { type: 'string', help: 'interval in hours (default 24)' } },
      async run(v) {
        const everyHours = intOption(v, 'every-hours', 24, 1, 24 * 7);
        const repair = loadFeedConfig().reconcileRepair;
        const what = await upsertReconcileSchedule(await connect(), {
          taskQueue: feedTaskQueue(suffix()),
          suffix: suffix(),
          repair,
          everyHours,
        });
        console.log(
          `schedule ${reconcileScheduleId(suffix())} ${what}: every ${everyHours} h, ${repair ? 'repairs' : 'reports only'}`,
        );
        return 0;
      },
    },
  };
}
