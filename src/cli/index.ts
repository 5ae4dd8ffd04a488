/**
 * The project's command line: the hourly schedule and its sweeps, runs now, backfills, progress,
 * recent runs, each branch's status, tables, reconcile of the SQL copy. `npm run cli -- help`
 * lists the commands; `<command> --help` explains one.
 * Settings come from the environment (README, "Configuration").
 */
import { parseArgs } from 'node:util';
import type { Client, WorkflowHandle } from '@temporalio/client';
import {
  ReplaySourceError,
  connectClient,
  finishProgress,
  followProgress,
  listRuns,
  reportOutcome,
  runOutcome,
  startReplay,
  startRun,
} from '../client.js';
import {
  type ClientSettings,
  describeCodecConfig,
  localDataDir,
  readLocalCodecSecrets,
  resolveClientSettings,
} from '../codec/index.js';
import { loadDynamoConfig } from '../config/aws.js';
import { loadTemporalConfig } from '../config/temporal.js';
import { loadTaskQueueSuffix } from '../config/worker.js';
import { ConfigError } from '../shared/errors.js';
import { taskQueues } from '../shared/task-queues.js';
import { createDynamoClients, ensureTables, tableNames } from '../store/index.js';
import { type Command, UsageError, branchesOption, intOption, isoOption, syncInput } from './options.js';
import { reconcileCommands } from './reconcile.js';
import { scheduleCommands } from './schedule.js';
import { statusCommand } from './status.js';

/** The client's settings: the codec (required unless PAYLOAD_ENCRYPTION=off) and Temporal's address. */
function clientSettings(): ClientSettings & { temporal: ReturnType<typeof loadTemporalConfig> } {
  const settings = resolveClientSettings(process.env);
  return { ...settings, temporal: loadTemporalConfig({ ...process.env, ...settings.overrides }) };
}

/**
 * Connects to Temporal with the codec. Commands call it only after every check of their
 * arguments, so that a mistake never reaches the server.
 */
async function connect(): Promise<Client> {
  const { codec, temporal } = clientSettings();
  return (await connectClient(temporal, codec)).client;
}

/** Single-quotes a value for a POSIX shell. */
const shellQuote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

/** Shows a run's live progress, then its outcome; the exit code of reportOutcome. */
async function followAndReport(handle: WorkflowHandle): Promise<number> {
  await followProgress(handle);
  const outcome = await runOutcome(handle);
  finishProgress(outcome);
  const report = reportOutcome(handle.workflowId, outcome);
  for (const line of report.out) console.log(line);
  for (const line of report.err) console.error(line);
  return report.code;
}

const queues = () => taskQueues(loadTaskQueueSuffix());

const commands: Record<string, Command> = {
  ...scheduleCommands(connect, queues, loadTaskQueueSuffix),
  run: {
    usage: 'run [--branches LIST] [--full] [--window-end ISO] [--window-hours N] [--detach]',
    help: 'Runs a sync now, shows its progress and prints its summary. Exit code 1 if the run failed or skipped branches another run was syncing.',
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
      const input = syncInput(v);
      const handle = await startRun(await connect(), queues(), input);
      console.log(`started ${handle.workflowId}`);
      if (v.detach) return 0;
      return followAndReport(handle);
    },
  },
  replay: {
    usage:
      'replay (--run WORKFLOW_ID | --window-end ISO) [--branches LIST] [--dry-run] [--force] [--notify] [--detach]',
    help: 'Replays a past run from the answers it landed (the raw landing zone): validation, change detection and upserts as a run does them, with zero vendor requests. Use it after a validation rule was fixed, or to refill restored or recreated tables. Exit code as for run.',
    options: {
      run: { type: 'string', help: 'workflow ID of the run to replay (see `list`)' },
      'window-end': {
        type: 'string',
        help: 'or: the window end of the run to replay (the newest run over that window)',
      },
      branches: { type: 'string', help: 'only these branches (default: every branch the run synced)' },
      'dry-run': {
        type: 'boolean',
        help: 'write nothing; the summary counts what the replay would insert and update',
      },
      force: {
        type: 'boolean',
        help: 'write the landed content even over items fetched later (a restore from a backup); without it such items are kept and counted "newer kept"',
      },
      notify: {
        type: 'boolean',
        help: 'send the run notices and the follow-up step, as a run does (a replay sends none by default)',
      },
      detach: { type: 'boolean', help: 'start it and return at once, printing its workflow ID' },
    },
    async run(v) {
      const run = typeof v.run === 'string' ? v.run.trim() : undefined;
      const hasEnd = v['window-end'] !== undefined;
      if (Boolean(run) === hasEnd)
        throw new UsageError('replay needs exactly one of --run WORKFLOW_ID and --window-end ISO.');
      const branches =
        typeof v.branches === 'string' ? syncInput({ branches: v.branches }).branches : undefined;
      const { handle, source } = await startReplay(await connect(), queues(), {
        run,
        windowEnd: hasEnd ? isoOption(v, 'window-end') : undefined,
        branches: Array.isArray(branches) ? branches : undefined,
        dryRun: v['dry-run'] === true,
        force: v.force === true,
        notify: v.notify === true,
      }).catch((err: unknown) => {
        throw err instanceof ReplaySourceError ? new UsageError(err.message) : err;
      });
      console.log(
        `started ${handle.workflowId} (replay of ${source}${v['dry-run'] ? ', dry run: nothing is written' : ''}${v.force ? ', --force: older content is written over items fetched later' : ''})`,
      );
      if (v.detach) return 0;
      return followAndReport(handle);
    },
  },
  progress: {
    usage: 'progress WORKFLOW_ID',
    help: 'Shows a live progress bar of a running sync (the `progress` query), then its summary. Exit code as for run.',
    options: {},
    positionals: ['WORKFLOW_ID'],
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
      const limit = intOption(v, 'limit', 10, 1, 1000);
      for (const r of await listRuns(await connect(), limit)) {
        console.log(`${r.startTime.toISOString()}  ${r.status.padEnd(10)} ${r.workflowId}\n    ${r.summary}`);
      }
      return 0;
    },
  },
  status: statusCommand,
  'codec-env': {
    usage: 'codec-env',
    help: 'Prints the settings the official Temporal CLI needs to decode this deployment\'s payloads through the codec server, as shell exports: eval "$(npm run -s cli -- codec-env)". Local stack: read from DATA_DIR; elsewhere from CODEC_SERVER_URL and CODEC_SERVER_TOKEN.',
    options: {},
    run() {
      const settings = resolveClientSettings(process.env);
      const dataDir = localDataDir();
      const url = process.env.CODEC_SERVER_URL?.trim() || settings.localStack?.codecUrl;
      const token =
        process.env.CODEC_SERVER_TOKEN?.trim() ||
        (settings.localStack ? readLocalCodecSecrets(dataDir)?.CODEC_SERVER_TOKEN : undefined);
      const missing = [...(url ? [] : ['CODEC_SERVER_URL']), ...(token ? [] : ['CODEC_SERVER_TOKEN'])];
      if (!url || !token)
        throw new ConfigError(
          `the codec server is not known: set ${missing.join(' and ')} (the codec server's URL and its token), or start the local stack (\`npm start\`) with this DATA_DIR (${dataDir}).`,
        );
      const exports: Array<[string, string]> = [
        ...(settings.overrides.TEMPORAL_ADDRESS
          ? ([['TEMPORAL_ADDRESS', settings.overrides.TEMPORAL_ADDRESS]] as Array<[string, string]>)
          : []),
        ...(settings.overrides.TEMPORAL_NAMESPACE
          ? ([['TEMPORAL_NAMESPACE', settings.overrides.TEMPORAL_NAMESPACE]] as Array<[string, string]>)
          : []),
        ['TEMPORAL_CODEC_ENDPOINT', url],
        ['TEMPORAL_CODEC_AUTH', `Bearer ${token}`],
      ];
      for (const [k, val] of exports) console.log(`export ${k}=${shellQuote(val)}`);
      console.error(`# codec: ${describeCodecConfig(settings.codec)}; source: ${settings.source}`);
      return Promise.resolve(0);
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
  ...reconcileCommands(connect, loadTaskQueueSuffix),
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
function generalHelp(): string {
  return [
    'usage: npm run cli -- COMMAND [options]      (COMMAND --help for details)',
    '',
    ...Object.entries(commands).map(([n, c]) => `  ${n.padEnd(18)} ${c.help.split('. ')[0]}`),
    '',
    'Settings come from the environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, PAYLOAD_ENCRYPTION_KEY (on the local stack: found in DATA_DIR), SYNC_BRANCHES, ... (README, "Configuration").',
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
    const allowed = command.positionals ?? [];
    if (positionals.length > allowed.length)
      throw new UsageError(
        `unexpected argument${positionals.length - allowed.length > 1 ? 's' : ''} ${positionals
          .slice(allowed.length)
          .map((p) => JSON.stringify(p))
          .join(' ')}: \`${name}\` takes ${allowed.length ? allowed.join(' ') : 'no words, only options'}.`,
      );
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
