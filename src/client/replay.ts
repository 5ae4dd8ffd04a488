/**
 * Replay: runs a sync over the answers a past run landed (src/landing/), asking the vendor
 * nothing. The run to replay is named by its workflow ID, or found by its window end.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { windowScope } from '../shared/ids.js';
import { SYNC_KIND, SYNC_WINDOW_END } from '../shared/search-attributes.js';
import type { TaskQueues } from '../shared/task-queues.js';
import { progressQuery, salesSyncWorkflow } from '../workflows/index.js';
import type { SalesSyncInput } from '../workflows/types.js';

/**
 * The run to replay is not known (no run over that window, or neither a run nor a window named):
 * a mistake in the request, which the CLI reports with its usage (exit 2).
 */
export class ReplaySourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplaySourceError';
  }
}

/** What to replay. */
export interface ReplayRequest {
  /** The parent workflow ID of the run; or */
  run?: string;
  /** the window end of the run (the newest run over that window is taken). */
  windowEnd?: Date;
  branches?: string[];
  dryRun: boolean;
  /** Write landed content even over items fetched later (a restore from a backup, on purpose). */
  force?: boolean;
  /** Send the run's notices and follow-up step (a replay sends none by default). */
  notify?: boolean;
  /** Where the replay's sync_runs row is written (SalesSyncInput.feedTaskQueue); default: this deployment's feed. */
  feedTaskQueue?: string | null;
}

/** The newest parent run whose window ends at `end` (from Temporal's visibility: the SyncWindowEnd search attribute). */
async function runEndingAt(client: Client, end: Date): Promise<string> {
  const query = `${SYNC_KIND.name} = 'run' AND ${SYNC_WINDOW_END.name} = '${end.toISOString()}'`;
  let newest: { id: string; start: Date } | undefined;
  for await (const w of client.workflow.list({ query })) {
    if (!newest || w.startTime > newest.start) newest = { id: w.workflowId, start: w.startTime };
  }
  if (!newest)
    throw new ReplaySourceError(
      `no run with a window ending at ${end.toISOString()} is known to Temporal: check the time (runs end on the hour, UTC), or name the run with --run (see \`list\`).`,
    );
  return newest.id;
}

/** Starts the replay of a landed run; returns its handle. */
export async function startReplay(
  client: Client,
  queues: TaskQueues,
  req: ReplayRequest,
): Promise<{ handle: WorkflowHandle<typeof salesSyncWorkflow>; source: string }> {
  const source = req.run ?? (req.windowEnd ? await runEndingAt(client, req.windowEnd) : undefined);
  if (!source) throw new ReplaySourceError('replay needs --run WORKFLOW_ID or --window-end ISO.');
  // The run's window, as the run itself reports it (its progress query answers after it closed too).
  let window: { from: string | null; to: string };
  try {
    window = (await client.workflow.getHandle(source).query(progressQuery)).summary.window;
  } catch (err) {
    throw new Error(
      `cannot read the window of run ${source}: ${(err as Error).message}. Is the ID right (see \`list\`) and a worker running?`,
      { cause: err },
    );
  }
  const sourceWindow = window.from ? { from: window.from, to: window.to } : null;
  const input: SalesSyncInput = {
    vendorTaskQueue: queues.vendor,
    window: sourceWindow ?? 'full',
    replay: {
      run: { scope: windowScope(sourceWindow, window.to), workflowId: source },
      dryRun: req.dryRun,
      ...(req.force ? { force: true } : {}),
      ...(req.notify ? { notify: true } : {}),
    },
    ...(req.branches ? { branches: req.branches } : {}),
    ...(req.feedTaskQueue !== undefined ? { feedTaskQueue: req.feedTaskQueue } : {}),
  };
  const stamp = new Date().toISOString().slice(0, 19);
  const handle = await client.workflow.start(salesSyncWorkflow, {
    taskQueue: queues.workflows,
    workflowId: `sales-sync-replay${req.dryRun ? '-dry-run' : ''}-${stamp}Z-of-${source}`,
    args: [input],
    typedSearchAttributes: [{ key: SYNC_KIND, value: 'replay' }],
    staticSummary: `Replay${req.dryRun ? ' (dry run: writes nothing)' : ''}${req.force ? ' with --force (older content restored over newer)' : ''} of ${source} from the landing zone (no vendor request)`,
  });
  return { handle, source };
}
