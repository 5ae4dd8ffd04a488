/**
 * One benchmark run: mutates the data for the "mutated" run, starts a full sync, samples the
 * vendor's request rate and the workers' memory while it runs, and gathers everything the
 * run cost (RunResult). Prints its own progress and table.
 */
import type { Client } from '@temporalio/client';
import { runOutcome, startRun } from '../../src/client.js';
import { describeSummary, itemsWritten, type SyncSummary } from '../../src/shared/summary.js';
import type { TaskQueues } from '../../src/shared/task-queues.js';
import { requestsNeeded } from '../../src/sim/expected.js';
import type { MutationReport, VendorSimulator } from '../../src/sim/index.js';
import type { DynamoClients, TableNames } from '../../src/store/index.js';
import { CLK_TCK, cpuSeconds, hostCpu, procStatusKb } from '../lib/proc.js';
import type { Landing } from '../../src/landing/index.js';
import type { DynamoLocal, ObjectServer, TemporalDevServer } from '../stack.js';
import {
  countersBetween,
  serverActions,
  changedItems,
  countByTable,
  countTableItems,
  expectedItems,
  historyStats,
  mutationCounts,
  steadyRate,
} from './measure.js';
import { type RunResult, n, rowsOf, s1, table } from './report.js';
import { type RunKind, type Settings, TEMPORAL_HISTORY_LIMIT, TEMPORAL_HISTORY_WARNING } from './settings.js';
import { type WorkerProc, addStats, diffStats, emptyStats, workerStats } from './workers.js';

/** What a run works with: the settings and the stack the benchmark started. */
export interface RunContext {
  cfg: Settings;
  sim: VendorSimulator;
  temporal: TemporalDevServer;
  dynamo: DynamoLocal;
  workers: WorkerProc[];
  client: Client;
  queues: TaskQueues;
  clients: DynamoClients;
  names: TableNames;
  branchNames: string[];
  /** The landing zone and its server; null with --no-landing. */
  landing: { zone: Landing; server: ObjectServer } | null;
}

/** Objects and bytes in the landing zone now. */
async function landedTotals(zone: Landing): Promise<{ objects: number; bytes: number }> {
  const keys = await zone.keys('raw/');
  return { objects: keys.length, bytes: keys.reduce((sum, k) => sum + k.size, 0) };
}

/** Readings taken before and after a run: the workers' stats, processes' CPU, the landing zone, Temporal's actions. */
interface Readings {
  stats: Awaited<ReturnType<typeof workerStats>>[];
  cpu: {
    temporal: number | null;
    dynamo: number | null;
    objects: number | null;
    bench: NodeJS.CpuUsage;
  };
  landed: { objects: number; bytes: number } | null;
  actions: Awaited<ReturnType<typeof serverActions>> | null;
}

/** Takes the readings; after a run, `benchSince` makes the bench's CPU the usage since the first. */
async function readings(ctx: RunContext, benchSince?: NodeJS.CpuUsage): Promise<Readings> {
  const { temporal, dynamo, landing } = ctx;
  const stats = await Promise.all(ctx.workers.map(workerStats));
  const cpu = {
    temporal: cpuSeconds(temporal.child.pid),
    dynamo: cpuSeconds(dynamo.child.pid),
    objects: landing ? cpuSeconds(landing.server.child.pid) : null,
    bench: process.cpuUsage(benchSince),
  };
  const landed = landing ? await landedTotals(landing.zone) : null;
  const actions = temporal.metricsUrl ? await serverActions(temporal.metricsUrl) : null;
  return { stats, cpu, landed, actions };
}

/** For the "mutated" run: mutates the simulator's data and counts the items the report says changed. */
function mutateFor(ctx: RunContext, kind: RunKind) {
  if (kind !== 'mutated') return { mutation: undefined, counts: undefined, changedFromReport: undefined };
  const counts = mutationCounts(ctx.sim.dataset);
  const mutation = ctx.sim.mutate(counts);
  const changedFromReport =
    mutation.newSales.length +
    mutation.correctedSales.length +
    mutation.transfers.length +
    mutation.branchChanges.length +
    // Each history move rewrites one sale (none in the default mutation: measure.ts mutationCounts).
    mutation.voids.length +
    mutation.reappearances.length +
    mutation.lateSales.length +
    mutation.oldCorrections.length;
  return { mutation, counts, changedFromReport };
}

/** Requests per second as the simulator counted them, and a progress line every 15 s, until stop. */
function sampleProgress(ctx: RunContext, needed: number) {
  const { sim, workers } = ctx;
  const timeline: number[] = [];
  const rssTimeline: number[][] = [];
  let lastTotal = 0;
  const sampler = setInterval(() => {
    const c = sim.counters();
    timeline.push(c.total - lastTotal);
    lastTotal = c.total;
    if (timeline.length % 15 === 0) {
      const rss = workers.map((w) => s1((procStatusKb(w.pid, 'VmRSS') ?? 0) / 1024));
      rssTimeline.push(rss.map(Number));
      console.log(
        `  ${timeline.length} s: ${n(c.total)}/${n(needed)} requests, ${c.throttled429} x 429, ` +
          `peak ${c.peakRatePerSecond}/s, worker RSS ${rss.join('/')} MB`,
      );
    }
  }, 1000);
  return { timeline, rssTimeline, stop: () => clearInterval(sampler) };
}

/** Each worker's memory and CPU over the run, and the store's requests of all of them together. */
function workerFigures(workers: WorkerProc[], before: Readings['stats'], after: Readings['stats']) {
  let store = emptyStats();
  let state = emptyStats();
  let workerCpu = 0;
  const rows = after.map((a, i) => {
    const b = before[i] ?? a;
    store = addStats(store, diffStats(b.store, a.store));
    state = addStats(state, diffStats(b.state, a.state));
    const cpu = (a.cpuUserUs + a.cpuSystemUs - b.cpuUserUs - b.cpuSystemUs) / 1e6;
    workerCpu += cpu;
    const fromProc = procStatusKb(a.pid, 'VmHWM');
    const kb = Math.max(a.maxRssKb, a.vmHwmKb ?? 0, fromProc ?? 0);
    const ready = workers[i]?.ready;
    return {
      pid: a.pid,
      peakRssMb: kb / 1024,
      rssMb: (a.vmRssKb ?? 0) / 1024,
      readyRssMb: (ready?.vmRssKb ?? 0) / 1024,
      readyPeakRssMb: (ready?.vmHwmKb ?? 0) / 1024,
      heapUsedMb: a.memory.heapUsed / 2 ** 20,
      heapTotalMb: a.memory.heapTotal / 2 ** 20,
      cpuSeconds: cpu,
    };
  });
  return { rows, store, state, workerCpu };
}

/** CPU seconds of each process over the run; the rest of the host's busy time is other processes'. */
function cpuFigures(
  before: Readings['cpu'],
  after: Readings['cpu'],
  workerCpu: number,
  hostBefore: ReturnType<typeof hostCpu>,
  hostAfter: ReturnType<typeof hostCpu>,
): RunResult['cpuSeconds'] {
  const diff = (a: number | null, b: number | null) => (a !== null && b !== null ? a - b : null);
  const cpu: RunResult['cpuSeconds'] = {
    temporal: diff(after.temporal, before.temporal),
    dynamo: diff(after.dynamo, before.dynamo),
    objects: diff(after.objects, before.objects),
    bench: (after.bench.user + after.bench.system) / 1e6,
    workers: workerCpu,
    otherProcesses: null,
  };
  if (hostBefore && hostAfter) {
    const busy = (hostAfter.total - hostAfter.idle - (hostBefore.total - hostBefore.idle)) / CLK_TCK;
    cpu.otherProcesses = Math.max(
      0,
      busy - (cpu.temporal ?? 0) - (cpu.dynamo ?? 0) - cpu.bench - cpu.workers,
    );
  }
  return cpu;
}

/** The run's vendor requests: made, by path and status, against the minimum and the summary's pages. */
function requestFigures(
  c: ReturnType<VendorSimulator['counters']>,
  minimum: RunResult['requests']['minimum'],
  summary: SyncSummary | undefined,
): RunResult['requests'] {
  return {
    made: c.total,
    byPath: c.requests,
    byStatus: c.byStatus,
    minimum,
    pagesInSummary: summary?.pages ?? null,
    retries: summary ? c.total - summary.pages : null,
    extra: c.total - minimum.total,
  };
}

/** Objects and bytes landed between two readings (null with --no-landing). */
function landedDuring(before: Readings['landed'], after: Readings['landed']): RunResult['landed'] {
  return after && before
    ? { objects: after.objects - before.objects, bytes: after.bytes - before.bytes }
    : null;
}

/** The host's busy share between two readings of hostCpu (null when either is missing). */
function hostBusy(before: ReturnType<typeof hostCpu>, after: ReturnType<typeof hostCpu>): number | null {
  return before && after ? 1 - (after.idle - before.idle) / Math.max(1, after.total - before.total) : null;
}

/** Prints the run's heading: requests needed, the bound, and the mutation when there is one. */
function printRunStart(
  kind: RunKind,
  needed: number,
  quota: number,
  mutation: MutationReport | undefined,
  itemsChanged: number,
): void {
  console.log(`\n=== ${kind} run: ${n(needed)} requests needed, bound ${s1(needed / quota)} s ===`);
  if (mutation)
    console.log(
      `mutation: ${mutation.newSales.length} new sales, ${mutation.correctedSales.length} corrected sales, ` +
        `${mutation.transfers.length} transfers, ${mutation.branchChanges.length} branch records changed -> ${itemsChanged} items`,
    );
}

/** Starts the run on fresh vendor counters and waits for its outcome, timing it and sampling its progress. */
async function timedRun(ctx: RunContext, kind: RunKind, needed: number) {
  const { cfg, sim, client, queues, branchNames } = ctx;
  sim.resetCounters();
  const workflowId = `bench-${kind}-${Date.now()}`;
  const startedAt = new Date();
  const t0 = performance.now();
  const handle = await startRun(
    client,
    queues,
    {
      branches: branchNames,
      window: 'full',
      ...(cfg.branchConcurrency ? { branchConcurrency: cfg.branchConcurrency } : {}),
      ...(cfg.salespersonConcurrency ? { salespersonConcurrency: cfg.salespersonConcurrency } : {}),
    },
    workflowId,
  );
  const hostBefore = hostCpu();
  const progress = sampleProgress(ctx, needed);
  let outcome: Awaited<ReturnType<typeof runOutcome>>;
  try {
    outcome = await runOutcome(handle);
  } finally {
    progress.stop();
  }
  const hostAfter = hostCpu();
  const wallSeconds = (performance.now() - t0) / 1000;
  const endedAt = new Date();
  const c = sim.counters();
  return { workflowId, startedAt, endedAt, wallSeconds, outcome, hostBefore, hostAfter, c, progress };
}

/**
 * Runs one full sync of kind `kind` and measures it. `before` is what the tables held after
 * the previous run (`table|key` -> content hash); the result carries what they hold now.
 */
// One function on purpose: the steps of one measured run in the order they happen, each a few lines.
export async function measureRun(
  ctx: RunContext,
  kind: RunKind,
  before: Map<string, string>,
): Promise<{ result: RunResult; expected: Map<string, string> }> {
  const { cfg, sim, client, clients, names, branchNames } = ctx;
  const { mutation, counts, changedFromReport } = mutateFor(ctx, kind);
  const expected = expectedItems(sim.dataset, branchNames);
  const changedDiff = changedItems(before, expected);
  const itemsChanged = kind === 'first' ? expected.size : kind === 'second' ? 0 : (changedFromReport ?? 0);
  const minimum = requestsNeeded(sim.dataset, branchNames, cfg.pageSize);
  printRunStart(kind, minimum.total, cfg.quota, mutation, itemsChanged);
  const readingsBefore = await readings(ctx);
  const { workflowId, startedAt, endedAt, wallSeconds, outcome, hostBefore, hostAfter, c, progress } =
    await timedRun(ctx, kind, minimum.total);
  const readingsAfter = await readings(ctx, readingsBefore.cpu.bench);
  const perWorker = workerFigures(ctx.workers, readingsBefore.stats, readingsAfter.stats);
  const history = await historyStats(
    client,
    new Date(startedAt.getTime() - 1000).toISOString(),
    new Date(endedAt.getTime() + 1000).toISOString(),
    workflowId,
  );
  const tableItems = await countTableItems(clients, names);
  const summary: SyncSummary | undefined = outcome.summary;
  const bound = minimum.total / cfg.quota;
  const { store, state } = perWorker;
  const [actionsBefore, actionsAfter] = [readingsBefore.actions, readingsAfter.actions];
  const result: RunResult = {
    kind,
    workflowId,
    ok: outcome.ok,
    error: outcome.error,
    summary: summary ? describeSummary(summary) : undefined,
    wallSeconds,
    vendorSpanSeconds:
      c.firstRequestAt !== null && c.lastRequestAt !== null
        ? (c.lastRequestAt - c.firstRequestAt) / 1000
        : null,
    startupSeconds: c.firstRequestAt !== null ? (c.firstRequestAt - startedAt.getTime()) / 1000 : null,
    requests: requestFigures(c, minimum, summary),
    boundSeconds: bound,
    wallOverBound: wallSeconds / bound,
    throttled429: c.throttled429,
    peakRatePerSecond: c.peakRatePerSecond,
    rate: steadyRate(progress.timeline, cfg.quota),
    hostCpuBusy: hostBusy(hostBefore, hostAfter),
    dynamo: {
      writeRequests: store.writeRequests,
      readRequests: store.readRequests,
      itemsWritten: store.itemsWritten,
      requests: store.requests,
      state: {
        requests: state.requests,
        writeRequests: state.writeRequests,
        readRequests: state.readRequests,
      },
      indexQueries: (store.requests.QueryCommand ?? 0) + (state.requests.QueryCommand ?? 0),
      indexQueriesByDesign: minimum.branchLookups + minimum.uniqueSalespersons,
      itemsWrittenInSummary: summary ? itemsWritten(summary.counts) : null,
      itemsChanged,
      itemsChangedFromDatasetDiff: changedDiff,
      tableItems,
      expectedTableItems: { ...countByTable(expected), quarantine: 0 },
    },
    mutation: mutation ? { ...mutation } : undefined,
    mutationCounts: counts,
    workflows: {
      ...history,
      largestShareOfLimit: history.largest.events / TEMPORAL_HISTORY_LIMIT,
      largestShareOfWarning: history.largest.events / TEMPORAL_HISTORY_WARNING,
    },
    workers: perWorker.rows,
    workerRssEvery15s: progress.rssTimeline,
    actions: actionsBefore && actionsAfter ? countersBetween(actionsBefore, actionsAfter) : null,
    landed: landedDuring(readingsBefore.landed, readingsAfter.landed),
    cpuSeconds: cpuFigures(readingsBefore.cpu, readingsAfter.cpu, perWorker.workerCpu, hostBefore, hostAfter),
  };
  printRunEnd(result, changedDiff);
  return { result, expected };
}

/** Prints the run's table and summary, and says when the mutation's report and the data disagree. */
function printRunEnd(result: RunResult, changedDiff: number): void {
  const { kind, dynamo } = result;
  console.log(table([['metric', kind], ...rowsOf(result)]));
  if (result.summary) console.log(`summary: ${result.summary}`);
  if (dynamo.itemsChanged !== changedDiff && kind !== 'first')
    console.log(
      `note: MutationReport says ${dynamo.itemsChanged} items changed, the dataset diff says ${changedDiff}`,
    );
  if (!result.ok) console.log(`run failed: ${result.error ?? ''}`);
}
