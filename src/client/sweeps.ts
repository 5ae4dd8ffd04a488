/**
 * The lookback sweeps' schedules beside the hourly one (docs/operations.md, "Sweeps, watermarks
 * and voids"): `sales-sync-sweep-lookback` re-reads the last days of every branch (late arrivals,
 * old corrections, voids an hourly window never sees), `sales-sync-sweep-full` every sale. They
 * are created, updated, paused and deleted with the hourly schedule; one switched off (0) is
 * deleted, so what `temporal schedule list` shows is what runs.
 */
import {
  type Client,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type ScheduleDescription,
  type ScheduleHandle,
  type ScheduleOptions,
} from '@temporalio/client';
import { type ScheduleSettings, upsertScheduleOptions, upsertSchedule } from './schedule.js';
import { salesSyncWorkflow } from '../workflows/index.js';
import type { SalesSyncInput } from '../workflows/types.js';

/** The two sweeps. */
export type SweepKind = 'lookback' | 'full';

/** Both kinds, in the order they are created and shown. */
export const SWEEP_KINDS: readonly SweepKind[] = ['lookback', 'full'];

/**
 * ID of a sweep's schedule, with the deployment's task queue suffix (as the reconcile's). Its runs
 * are `<id>-<scheduled time>`: never an ID of the hourly schedule's runs.
 */
export function sweepScheduleId(kind: SweepKind, suffix = ''): string {
  return `sales-sync-sweep-${kind}${suffix}`;
}

/** How often the sweeps run and how far back (the SWEEP_* settings); 0 switches a sweep off. */
export interface SweepSchedules {
  lookbackDays: number;
  lookbackEveryHours: number;
  fullEveryDays: number;
}

/** The hourly schedule's settings, the deployment's suffix and the sweeps'. */
export interface SyncSchedulesSettings extends ScheduleSettings {
  /** The deployment's task queue suffix (part of the sweeps' IDs). */
  suffix?: string;
  sweeps: SweepSchedules;
}

/** What became of one sweep's schedule. */
export interface SweepOutcome {
  kind: SweepKind;
  scheduleId: string;
  /** `off`: switched off and not there. */
  what: 'created' | 'updated' | 'deleted' | 'off';
  /** When it runs and what it reads, for people. */
  when: string;
}

const MINUTE = 60;
const DAY_MINUTES = 24 * 60;
/** The Unix epoch was a Thursday: 3 days later is a Sunday. */
const EPOCH_TO_SUNDAY_DAYS = 3;

/** The hourly input without its window: a sweep sets its own. */
function sweepBase(s: SyncSchedulesSettings): SalesSyncInput {
  const { window: _window, windowEnd: _end, windowHours: _hours, ...rest } = s.input;
  return { vendorTaskQueue: s.queues.vendor, ...rest };
}

/** Schedule options shared by both sweeps. */
function sweepOptions(
  id: string,
  s: SyncSchedulesSettings,
  every: number,
  offset: number,
  input: SalesSyncInput,
  staticSummary: string,
): ScheduleOptions {
  return {
    scheduleId: id,
    spec: { intervals: [{ every: `${every}m`, offset: `${offset}m` }] },
    action: {
      type: 'startWorkflow',
      workflowType: salesSyncWorkflow,
      workflowId: id,
      taskQueue: s.queues.workflows,
      args: [input],
      staticSummary,
    },
    // SKIP: a sweep still going when the next is due makes that one pointless (the hourly runs
    // keep the recent hours fresh meanwhile). Catchup 1 hour: a missed sweep waits for its next turn.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1h', pauseOnFailure: false },
    state: { note: 'Created by the sales-sync CLI' },
  };
}

/** The lookback sweep: at :30 past 01:00 UTC for a daily one, away from the hourly runs on the hour. */
function lookback(s: SyncSchedulesSettings): { options: ScheduleOptions; when: string } {
  const { lookbackDays: days, lookbackEveryHours: hours } = s.sweeps;
  const offset = hours >= 2 ? 90 : 30;
  const when = `${hours === 24 ? 'daily at 01:30 UTC' : `every ${hours} h at :30 past the hour`}, the last ${days} days`;
  return {
    when,
    options: sweepOptions(
      sweepScheduleId('lookback', s.suffix),
      s,
      hours * MINUTE,
      offset,
      { ...sweepBase(s), sweep: 'lookback', windowHours: 24 * days },
      `Lookback sweep: re-reads the last ${days} days of every branch (late arrivals, corrections, voids)`,
    ),
  };
}

/** The full sweep: at 02:30 UTC, on Sundays when weekly. */
function full(s: SyncSchedulesSettings): { options: ScheduleOptions; when: string } {
  const days = s.sweeps.fullEveryDays;
  const offset = (EPOCH_TO_SUNDAY_DAYS % days) * DAY_MINUTES + 150;
  const when = `${days === 7 ? 'weekly on Sunday' : `every ${days} days`} at 02:30 UTC, every sale`;
  return {
    when,
    options: sweepOptions(
      sweepScheduleId('full', s.suffix),
      s,
      days * DAY_MINUTES,
      offset,
      { ...sweepBase(s), sweep: 'full', window: 'full' },
      'Full sweep: re-reads every sale of every branch (voids and corrections at any age)',
    ),
  };
}

/** Deletes a schedule; false when it was not there. */
async function deleteIfThere(client: Client, id: string): Promise<boolean> {
  try {
    await client.schedule.getHandle(id).delete();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}

/** Creates or updates each sweep switched on, deletes each switched off. */
export async function upsertSweepSchedules(
  client: Client,
  s: SyncSchedulesSettings,
): Promise<SweepOutcome[]> {
  const out: SweepOutcome[] = [];
  for (const kind of SWEEP_KINDS) {
    const scheduleId = sweepScheduleId(kind, s.suffix);
    const on = kind === 'lookback' ? s.sweeps.lookbackDays > 0 : s.sweeps.fullEveryDays > 0;
    if (!on) {
      const gone = await deleteIfThere(client, scheduleId);
      out.push({ kind, scheduleId, what: gone ? 'deleted' : 'off', when: 'off' });
      continue;
    }
    const { options, when } = kind === 'lookback' ? lookback(s) : full(s);
    out.push({ kind, scheduleId, what: await upsertScheduleOptions(client, options), when });
  }
  return out;
}

/**
 * The hourly schedule and its sweeps, created or updated together (the CLI's `schedule create`,
 * `npm start`): the sweeps run the hourly input with their own window.
 */
export async function upsertSyncSchedules(
  client: Client,
  s: SyncSchedulesSettings,
): Promise<{ hourly: 'created' | 'updated'; sweeps: SweepOutcome[] }> {
  const hourly = await upsertSchedule(client, s);
  return { hourly, sweeps: await upsertSweepSchedules(client, s) };
}

/** The sweeps' schedules that exist, with their descriptions. */
export async function existingSweeps(
  client: Client,
  suffix = '',
): Promise<{ kind: SweepKind; handle: ScheduleHandle; description: ScheduleDescription }[]> {
  const found = [];
  for (const kind of SWEEP_KINDS) {
    const handle = client.schedule.getHandle(sweepScheduleId(kind, suffix));
    try {
      found.push({ kind, handle, description: await handle.describe() });
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
  }
  return found;
}
