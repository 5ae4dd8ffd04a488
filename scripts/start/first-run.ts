/**
 * `npm start`'s first run: the hourly schedule and its sweeps created or updated, triggered now (so the first
 * run is the schedule's like every later one), followed to its summary, then the SQL copy
 * checked and the hints printed (where to look, how to query).
 */
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import {
  finishProgress,
  followProgress,
  reconcileScheduleId,
  reportOutcome,
  runOutcome,
  scheduleHandle,
  upsertReconcileSchedule,
  upsertSyncSchedules,
} from '../../src/client.js';
import type { FeedConfig } from '../../src/config/feed.js';
import type { Config } from '../../src/config/index.js';
import { SCHEDULE_ID } from '../../src/shared/ids.js';
import { feedTaskQueue } from '../../src/shared/task-queues.js';
import { waitForCopy } from './feed-report.js';
import type { Services } from './services.js';

/** The daily reconcile of the SQL copy beside the hourly sync (docs/change-feed.md, "Reconcile and repair"). */
async function scheduleReconcile(client: Client, config: Config, feed: FeedConfig): Promise<void> {
  const suffix = config.taskQueueSuffix;
  const repair = feed.reconcileRepair;
  const what = await upsertReconcileSchedule(client, { taskQueue: feedTaskQueue(suffix), suffix, repair });
  console.log(
    `schedule           ${reconcileScheduleId(suffix)} ${what}: daily at 03:00 UTC, ${repair ? 'repairs' : 'reports only'} (RECONCILE_REPAIR)`,
  );
}

/** Upserts the schedule, triggers it and returns the ID of the run it started. */
async function triggerFirstRun(client: Client, config: Config, services: Services): Promise<string> {
  const input = {
    branches: config.sync.branches,
    windowHours: config.sync.windowHours,
    branchConcurrency: config.sync.branchConcurrency,
    salespersonConcurrency: config.sync.salespersonConcurrency,
    watermarkOverlapMinutes: config.sync.watermarkOverlapMinutes,
    voidGuardPercent: config.sync.voidGuardPercent,
  };
  const made = await upsertSyncSchedules(client, {
    queues: services.queues,
    input,
    suffix: config.taskQueueSuffix,
    sweeps: config.sweeps,
  });
  console.log(`schedule           ${SCHEDULE_ID} ${made.hourly}: every hour on the hour`);
  for (const s of made.sweeps) console.log(`schedule           ${s.scheduleId} ${s.what}: ${s.when}`);
  await scheduleReconcile(client, config, services.feedConfig);
  const handle = await scheduleHandle(client);
  const before = new Set(
    (await handle.describe()).info.recentActions.map((a) => a.action.workflow.workflowId),
  );
  await handle.trigger();
  for (let i = 0; i < 100; i++) {
    const d = await handle.describe();
    const id = [...d.info.runningActions, ...d.info.recentActions.map((a) => a.action)]
      .map((a) => a.workflow.workflowId)
      .find((wf) => !before.has(wf));
    if (id) return id;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the triggered run did not appear on the schedule within 20 s');
}

/** Where to look after the run. */
export interface Hints {
  uiUrl?: string;
  codecUrl?: string;
  /** How to open the copy with psql (the command, never a password). */
  psql: string;
  /** The landed answers' folder (local object server). */
  landedDir?: string;
}

/** Runs the first run to its end and prints its summary and the hints; resolves with the exit code of `--once`. */
export async function firstRun(config: Config, services: Services, hints: Hints): Promise<number> {
  const { client } = services;
  const workflowId = await triggerFirstRun(client, config, services);
  console.log(`first run          ${workflowId}`);
  if (hints.uiUrl)
    console.log(
      `                   ${hints.uiUrl}/namespaces/${config.temporal.namespace}/workflows/${encodeURIComponent(workflowId)}`,
    );
  const run = client.workflow.getHandle(workflowId);
  await followProgress(run);
  const outcome = await runOutcome(run);
  finishProgress(outcome);
  const report = reportOutcome(workflowId, outcome);
  for (const line of report.out) console.log(line);
  for (const line of report.err) console.error(line);
  console.log(`SQL copy           ${await waitForCopy(services.store, services.feed.pool, 120_000)}`);
  console.log(`psql               ${hints.psql}   # the SQL copy`);
  if (hints.uiUrl) console.log(`Web UI             ${hints.uiUrl}`);
  if (hints.landedDir)
    console.log(
      `landed answers     find ${hints.landedDir} -name '*.json.gz'   # zcat one to read it; replay: npm run cli -- replay --run ${workflowId}`,
    );
  if (hints.codecUrl)
    console.log(
      `Temporal CLI       eval "$(npm run -s cli -- codec-env)"   # then temporal ... decodes payloads (README, "Operations")`,
    );
  return report.code;
}

/** The landed answers' folder on the local object server, when answers land there. */
export function landedDir(config: Config, localObjects: boolean, dataDir: string): string | undefined {
  return config.landing && localObjects ? join(dataDir, 'objects', config.landing.bucket, 'raw') : undefined;
}
