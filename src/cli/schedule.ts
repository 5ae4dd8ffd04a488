/**
 * `npm run cli -- schedule ...`: the hourly schedule and its lookback sweeps (created, paused,
 * unpaused, described and deleted together), trigger and backfill (the hourly schedule's).
 */
import type { Client, ScheduleDescription, ScheduleHandle } from '@temporalio/client';
import {
  CATCHUP_WINDOW,
  OVERLAP_POLICY,
  backfill,
  existingSweeps,
  scheduleHandle,
  upsertSyncSchedules,
} from '../client.js';
import { loadSweepSettings } from '../config/sync.js';
import type { TaskQueues } from '../shared/task-queues.js';
import { type Command, UsageError, branchesOption, intOption, isoOption, syncInput } from './options.js';

/** The hourly schedule's handle and those of the sweeps that exist. */
async function allHandles(client: Client, suffix: string): Promise<ScheduleHandle[]> {
  return [await scheduleHandle(client), ...(await existingSweeps(client, suffix)).map((s) => s.handle)];
}

/** What `schedule describe` prints of one schedule. */
function describeLines(d: ScheduleDescription): string[] {
  const summary = (d.action as { staticSummary?: string }).staticSummary;
  return [
    `schedule ${d.scheduleId}: ${d.state.paused ? `paused (${d.state.note ?? ''})` : 'active'}${summary ? ` — ${summary}` : ''}`,
    `next runs: ${d.info.nextActionTimes.map((t) => t.toISOString()).join(', ')}`,
    ...d.info.recentActions.map(
      (a) => `  ran ${a.scheduledAt.toISOString()} -> ${a.action.workflow.workflowId}`,
    ),
    ...d.info.runningActions.map((a) => `  running: ${a.workflow.workflowId}`),
  ];
}

/** The commands, given the CLI's connect (after the arguments are checked), task queues and suffix. */
// One function on purpose: a table of the schedule commands, each a few lines, read side by side.
export function scheduleCommands(
  connect: () => Promise<Client>,
  queues: () => TaskQueues,
  suffix: () => string,
): Record<string, Command> {
  return {
    'schedule create': {
      usage: 'schedule create [--branches LIST] [--every-minutes N]',
      help: `Creates the hourly schedule and its lookback sweeps (SWEEP_LOOKBACK_DAYS, SWEEP_FULL_EVERY_DAYS; 0 deletes that sweep), or updates them in place. Overlap policy ${String(OVERLAP_POLICY)}, catchup window ${CATCHUP_WINDOW} (see README).`,
      options: {
        branches: branchesOption,
        'every-minutes': { type: 'string', help: 'interval in minutes (default 60: on the hour)' },
      },
      async run(v) {
        const every = intOption(v, 'every-minutes', 60, 1, 24 * 60);
        const input = syncInput(v);
        const sweeps = loadSweepSettings();
        const made = await upsertSyncSchedules(await connect(), {
          queues: queues(),
          input,
          everyMinutes: every,
          suffix: suffix(),
          sweeps,
        });
        console.log(`schedule ${made.hourly}: runs every ${every} minutes`);
        for (const s of made.sweeps) console.log(`schedule ${s.scheduleId} ${s.what}: ${s.when}`);
        return 0;
      },
    },
    'schedule pause': {
      usage: 'schedule pause [--note TEXT]',
      help: 'Pauses the schedule and its sweeps: no new runs start until unpause (running ones go on).',
      options: { note: { type: 'string', help: 'why, shown in the Web UI' } },
      async run(v) {
        const note = typeof v.note === 'string' ? v.note : 'paused from the CLI';
        for (const h of await allHandles(await connect(), suffix())) await h.pause(note);
        console.log('schedule paused');
        return 0;
      },
    },
    'schedule unpause': {
      usage: 'schedule unpause',
      help: 'Resumes a paused schedule and its sweeps.',
      options: {},
      async run() {
        for (const h of await allHandles(await connect(), suffix())) await h.unpause('unpaused from the CLI');
        console.log('schedule unpaused');
        return 0;
      },
    },
    'schedule trigger': {
      usage: 'schedule trigger',
      help: 'Starts a scheduled run now (its window ends now).',
      options: {},
      async run() {
        await (await scheduleHandle(await connect())).trigger();
        console.log('schedule triggered: `npm run cli -- list` shows the run');
        return 0;
      },
    },
    'schedule backfill': {
      usage: 'schedule backfill --from ISO --to ISO',
      help: 'Starts one run per hour in [from, to), each syncing the window before its own hour; runs go one after the other.',
      options: {
        from: { type: 'string', help: 'first hour, e.g. 2026-11-20T00:00:00Z' },
        to: { type: 'string', help: 'end (exclusive), e.g. 2026-11-20T06:00:00Z' },
      },
      async run(v) {
        const from = isoOption(v, 'from');
        const to = isoOption(v, 'to');
        if (!(from < to))
          throw new UsageError(
            `--from (${from.toISOString()}) must be before --to (${to.toISOString()}): the backfill covers [from, to).`,
          );
        const n = await backfill(await scheduleHandle(await connect()), from, to);
        console.log(`backfill requested: ${n} hourly runs from ${from.toISOString()} to ${to.toISOString()}`);
        return 0;
      },
    },
    'schedule describe': {
      usage: 'schedule describe',
      help: 'Shows the schedule and its sweeps: state, next run times, recent runs.',
      options: {},
      async run() {
        const client = await connect();
        const hourly = await (await scheduleHandle(client)).describe();
        const sweeps = await existingSweeps(client, suffix());
        for (const d of [hourly, ...sweeps.map((s) => s.description)])
          for (const line of describeLines(d)) console.log(line);
        if (sweeps.length < 2)
          console.log('sweeps switched off: SWEEP_LOOKBACK_DAYS or SWEEP_FULL_EVERY_DAYS is 0');
        return 0;
      },
    },
    'schedule delete': {
      usage: 'schedule delete',
      help: 'Deletes the schedule and its sweeps (runs already started go on).',
      options: {},
      async run() {
        for (const h of await allHandles(await connect(), suffix())) await h.delete();
        console.log('schedule deleted');
        return 0;
      },
    },
  };
}
