/**
 * The project's command line: the hourly schedule, runs now, backfills, progress, recent
 * runs, tables. `npm run cli -- help` lists the commands; `<command> --help` explains one.
 * Settings come from the environment (README, "Configuration").
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { backfill, scheduleHandle, upsertSchedule, OVERLAP_POLICY, CATCHUP_WINDOW } from './cli/schedule.js';
import { followProgress, listRuns, runOutcome, startRun } from './cli/runs.js';
import { dataConverterFor, loadCodecConfig } from './codec/index.js';
import { loadDynamoConfig, loadSyncDefaults, loadTemporalConfig, parseBranchList } from './shared/config.js';
import { ConfigError } from './shared/errors.js';
import { describeSummary } from './shared/summary.js';
import { temporalConnectionOptions } from './shared/temporal-options.js';
import { taskQueues } from './shared/task-queues.js';
import { createDynamoClients, ensureTables, tableNames } from './store/index.js';
import type { SalesSyncInput } from './workflows/types.js';

/** A mistake in the command line: printed with the command's help, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

interface Command {
  usage: string;
  help: string;
  options: Record<string, { type: 'string' | 'boolean'; help: string }>;
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number>;
}

const branchesOption = {
  type: 'string',
  help: 'comma-separated exact branch names, or "all" for every branch the vendor lists (default: SYNC_BRANCHES or the 13 original branches)',
} as const;

function isoOption(values: Record<string, unknown>, name: string): Date {
  const raw = values[name];
  if (typeof raw !== 'string')
    throw new UsageError(`--${name} is required (an ISO time such as 2026-11-20T00:00:00Z).`);
  const ms = Date.parse(raw);
  if (Number.isNaN(ms))
    throw new UsageError(`--${name}=${raw} is not a time: use ISO 8601, e.g. 2026-11-20T00:00:00Z.`);
  return new Date(ms);
}

function syncInput(values: Record<string, string | boolean | undefined>): SalesSyncInput {
  const d = loadSyncDefaults();
  const branches =
    typeof values.branches === 'string' ? parseBranchList(values.branches, '--branches') : d.branches;
  const input: SalesSyncInput = {
    branches,
    windowHours: d.windowHours,
    branchConcurrency: d.branchConcurrency,
    salespersonConcurrency: d.salespersonConcurrency,
  };
  if (values.full) input.window = 'full';
  if (typeof values['window-end'] === 'string')
    input.windowEnd = isoOption(values, 'window-end').toISOString();
  if (typeof values['window-hours'] === 'string') {
    const h = Number(values['window-hours']);
    if (!Number.isInteger(h) || h < 1)
      throw new UsageError(`--window-hours=${values['window-hours']} must be a whole number of hours >= 1.`);
    input.windowHours = h;
  }
  return input;
}

async function connect(): Promise<Client> {
  const cfg = loadTemporalConfig();
  const dataConverter = dataConverterFor(loadCodecConfig());
  try {
    const connection = await Connection.connect(temporalConnectionOptions(cfg));
    return new Client({ connection, namespace: cfg.namespace, dataConverter });
  } catch (err) {
    throw new Error(
      `Cannot reach Temporal at ${cfg.address} (namespace ${cfg.namespace}): ${(err as Error).message}. Is the server up (npm start) or TEMPORAL_ADDRESS right?`,
      { cause: err },
    );
  }
}

/** Shows a run's live progress, then its summary; exit code 0 if it succeeded, 1 if it failed. */
async function followAndReport(handle: WorkflowHandle): Promise<number> {
  await followProgress(handle);
  const outcome = await runOutcome(handle);
  if (outcome.summary) console.log(describeSummary(outcome.summary));
  if (!outcome.ok) console.error(`run failed: ${outcome.error ?? ''}`);
  return outcome.ok ? 0 : 1;
}

const queues = () => taskQueues(process.env.TASK_QUEUE_SUFFIX?.trim() ?? '');

const commands: Record<string, Command> = {
  'schedule create': {
    usage: 'schedule create [--branches LIST] [--every-minutes N]',
    help: `Creates the hourly schedule, or updates it in place. Overlap policy ${String(OVERLAP_POLICY)}, catchup window ${CATCHUP_WINDOW} (see README).`,
    options: {
      branches: branchesOption,
      'every-minutes': { type: 'string', help: 'interval in minutes (default 60: on the hour)' },
    },
    async run(v) {
      const client = await connect();
      const every = v['every-minutes'] === undefined ? 60 : Number(v['every-minutes']);
      if (!Number.isInteger(every) || every < 1)
        throw new UsageError(`--every-minutes=${String(v['every-minutes'])} must be a whole number >= 1.`);
      const what = await upsertSchedule(client, {
        queues: queues(),
        input: syncInput(v),
        everyMinutes: every,
      });
      console.log(`schedule ${what}: runs every ${every} minutes`);
      return 0;
    },
  },
  'schedule pause': {
    usage: 'schedule pause [--note TEXT]',
    help: 'Pauses the schedule: no new runs start until unpause (running ones go on).',
    options: { note: { type: 'string', help: 'why, shown in the Web UI' } },
    async run(v) {
      await (
        await scheduleHandle(await connect())
      ).pause(typeof v.note === 'string' ? v.note : 'paused from the CLI');
      console.log('schedule paused');
      return 0;
    },
  },
  'schedule unpause': {
    usage: 'schedule unpause',
    help: 'Resumes a paused schedule.',
    options: {},
    async run() {
      await (await scheduleHandle(await connect())).unpause('unpaused from the CLI');
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
      const n = await backfill(await scheduleHandle(await connect()), from, to);
      console.log(`backfill requested: ${n} hourly runs from ${from.toISOString()} to ${to.toISOString()}`);
      return 0;
    },
  },
  'schedule describe': {
    usage: 'schedule describe',
    help: 'Shows the schedule: state, next run times, recent runs.',
    options: {},
    async run() {
      const d = await (await scheduleHandle(await connect())).describe();
      console.log(
        `schedule ${d.scheduleId}: ${d.state.paused ? `paused (${d.state.note ?? ''})` : 'active'}`,
      );
      console.log(`next runs: ${d.info.nextActionTimes.map((t) => t.toISOString()).join(', ')}`);
      for (const a of d.info.recentActions)
        console.log(`  ran ${a.scheduledAt.toISOString()} -> ${a.action.workflow.workflowId}`);
      for (const a of d.info.runningActions) console.log(`  running: ${a.workflow.workflowId}`);
      return 0;
    },
  },
  'schedule delete': {
    usage: 'schedule delete',
    help: 'Deletes the schedule (runs already started go on).',
    options: {},
    async run() {
      await (await scheduleHandle(await connect())).delete();
      console.log('schedule deleted');
      return 0;
    },
  },
  run: {
    usage: 'run [--branches LIST] [--full] [--window-end ISO] [--window-hours N] [--detach]',
    help: 'Runs a sync now, shows its progress and prints its summary. Exit code 1 if the run failed.',
    options: {
      branches: branchesOption,
      full: { type: 'boolean', help: 'sync every sale, not only the window (full resync)' },
      'window-end': { type: 'string', help: 'end of the sales window (default: now)' },
      'window-hours': {
        type: 'string',
        help: 'length of the window in hours (default SYNC_WINDOW_HOURS or 24)',
      },
      detach: { type: 'boolean', help: 'start it and return at once, printing its workflow ID' },
    },
    async run(v) {
      const client = await connect();
      const handle = await startRun(client, queues(), syncInput(v));
      console.log(`started ${handle.workflowId}`);
      if (v.detach) return 0;
      return followAndReport(handle);
    },
  },
  progress: {
    usage: 'progress WORKFLOW_ID',
    help: 'Shows a live progress bar of a running sync (the `progress` query), then its summary.',
    options: {},
    async run(_v, positionals) {
      const id = positionals[0];
      if (!id) throw new UsageError('progress needs the workflow ID of a run (see `list`).');
      const handle = (await connect()).workflow.getHandle(id);
      return followAndReport(handle);
    },
  },
  list: {
    usage: 'list [--limit N]',
    help: 'Lists recent sync runs, newest first, with their summaries.',
    options: { limit: { type: 'string', help: 'how many (default 10)' } },
    async run(v) {
      const limit = v.limit === undefined ? 10 : Number(v.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new UsageError(`--limit=${String(v.limit)} must be a whole number >= 1.`);
      for (const r of await listRuns(await connect(), limit)) {
        console.log(`${r.startTime.toISOString()}  ${r.status.padEnd(10)} ${r.workflowId}\n    ${r.summary}`);
      }
      return 0;
    },
  },
  'tables create': {
    usage: 'tables create',
    help: 'Creates the DynamoDB tables that are missing (names: TABLE_PREFIX + table + TABLE_SUFFIX).',
    options: {},
    async run() {
      const cfg = loadDynamoConfig();
      const clients = createDynamoClients(cfg);
      const names = tableNames(cfg.tablePrefix, cfg.tableSuffix);
      const created = await ensureTables(clients.raw, names);
      console.log(
        created.length
          ? `created: ${created.join(', ')}`
          : `all tables exist: ${Object.values(names).join(', ')}`,
      );
      clients.raw.destroy();
      return 0;
    },
  },
};

function commandHelp(name: string, c: Command): string {
  const opts = Object.entries(c.options).map(
    ([o, d]) => `  --${o}${d.type === 'string' ? ' VALUE' : ''}\n      ${d.help}`,
  );
  return [
    `usage: npm run cli -- ${c.usage}`,
    '',
    c.help,
    ...(opts.length ? ['', 'options:', ...opts] : []),
  ].join('\n');
}

/** The list of commands. */
export function generalHelp(): string {
  return [
    'usage: npm run cli -- COMMAND [options]      (COMMAND --help for details)',
    '',
    ...Object.entries(commands).map(([n, c]) => `  ${n.padEnd(18)} ${c.help.split('. ')[0]}`),
    '',
    'Settings come from the environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, SYNC_BRANCHES, ... (README, "Configuration").',
  ].join('\n');
}

/** Runs the CLI with `argv` (without node and script). Returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const two = `${argv[0] ?? ''} ${argv[1] ?? ''}`;
  const name = commands[two] ? two : (argv[0] ?? '');
  const rest = argv.slice(commands[two] ? 2 : 1);
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    console.log(generalHelp());
    return 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`unknown command "${argv.join(' ')}"\n\n${generalHelp()}`);
    return 2;
  }
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: {
        ...Object.fromEntries(Object.entries(command.options).map(([k, d]) => [k, { type: d.type }])),
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      console.log(commandHelp(name, command));
      return 0;
    }
    return await command.run(values, positionals);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(err as Error).message}\n\n${commandHelp(name, command)}`);
      return 2;
    }
    if (err instanceof ConfigError) {
      console.error(`configuration error: ${err.message}`);
      return 2;
    }
    console.error(`error: ${(err as Error).message}`);
    return 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
