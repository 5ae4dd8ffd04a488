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

/**
 * Runs one full sync of kind `kind` and measures it. `before` is what the tables held after
 * the previous run (`table|key` -> content hash); the result carries what they hold now.
 */
export async function measureRun(
  ctx: RunContext,
  kind: RunKind,
  before: Map<string, string>,
): Promise<{ result: RunResult; expected: Map<string, string> }> {
  const { cfg, sim, temporal, dynamo, workers, client, queues, clients, names, branchNames, landing } = ctx;
  let mutation: MutationReport | undefined;
  let counts: ReturnType<typeof mutationCounts> | undefined;
  let changedFromReport: number | undefined;
  if (kind === 'mutated') {
    counts = mutationCounts(sim.dataset);
    mutation = sim.mutate(counts);
    changedFromReport =
      mutation.newSales.length +
      mutation.correctedSales.length +
      mutation.transfers.length +
      mutation.branchChanges.length;
  }
  const expected = expectedItems(sim.dataset, branchNames);
  const changedDiff = changedItems(before, expected);
  const itemsChanged = kind === 'first' ? expected.size : kind === 'second' ? 0 : (changedFromReport ?? 0);
  const minimum = requestsNeeded(sim.dataset, branchNames, cfg.pageSize);

  console.log(
    `\n=== ${kind} run: ${n(minimum.total)} requests needed, bound ${s1(minimum.total / cfg.quota)} s ===`,
  );
  if (mutation)
    console.log(
      `mutation: ${mutation.newSales.length} new sales, ${mutation.correctedSales.length} corrected sales, ` +
        `${mutation.transfers.length} transfers, ${mutation.branchChanges.length} branch records changed -> ${itemsChanged} items`,
    );
  const statsBefore = await Promise.all(workers.map(workerStats));
  const cpuBefore = {
    temporal: cpuSeconds(temporal.child.pid),
    dynamo: cpuSeconds(dynamo.child.pid),
    objects: landing ? cpuSeconds(landing.server.child.pid) : null,
    bench: process.cpuUsage(),
  };
  const landedBefore = landing ? await landedTotals(landing.zone) : null;
  const actionsBefore = temporal.metricsUrl ? await serverActions(temporal.metricsUrl) : null;
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
  // Requests per second as the simulator counted them, and a progress line every 15 s.
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
        `  ${timeline.length} s: ${n(c.total)}/${n(minimum.total)} requests, ${c.throttled429} x 429, ` +
          `peak ${c.peakRatePerSecond}/s, worker RSS ${rss.join('/')} MB`,
      );
    }
  }, 1000);
  let outcome: Awaited<ReturnType<typeof runOutcome>>;
  try {
    outcome = await runOutcome(handle);
  } finally {
    clearInterval(sampler);
  }
  const hostAfter = hostCpu();
  const wallSeconds = (performance.now() - t0) / 1000;
  const endedAt = new Date();
  const c = sim.counters();
  const statsAfter = await Promise.all(workers.map(workerStats));
  const cpuAfter = {
    temporal: cpuSeconds(temporal.child.pid),
    dynamo: cpuSeconds(dynamo.child.pid),
    objects: landing ? cpuSeconds(landing.server.child.pid) : null,
    bench: process.cpuUsage(cpuBefore.bench),
  };
  const landedAfter = landing ? await landedTotals(landing.zone) : null;
  const actionsAfter = temporal.metricsUrl ? await serverActions(temporal.metricsUrl) : null;
  let store = emptyStats();
  let workerCpu = 0;
  const workerRows = statsAfter.map((after, i) => {
    const b = statsBefore[i] ?? after;
    store = addStats(store, diffStats(b.store, after.store));
    const cpu = (after.cpuUserUs + after.cpuSystemUs - b.cpuUserUs - b.cpuSystemUs) / 1e6;
    workerCpu += cpu;
    const fromProc = procStatusKb(after.pid, 'VmHWM');
    const kb = Math.max(after.maxRssKb, after.vmHwmKb ?? 0, fromProc ?? 0);
    const ready = workers[i]?.ready;
    return {
      pid: after.pid,
      peakRssMb: kb / 1024,
      rssMb: (after.vmRssKb ?? 0) / 1024,
      readyRssMb: (ready?.vmRssKb ?? 0) / 1024,
      readyPeakRssMb: (ready?.vmHwmKb ?? 0) / 1024,
      heapUsedMb: after.memory.heapUsed / 2 ** 20,
      heapTotalMb: after.memory.heapTotal / 2 ** 20,
      cpuSeconds: cpu,
    };
  });
  const history = await historyStats(
    client,
    new Date(startedAt.getTime() - 1000).toISOString(),
    new Date(endedAt.getTime() + 1000).toISOString(),
    workflowId,
  );
  const tableItems = await countTableItems(clients, names);
  const summary: SyncSummary | undefined = outcome.summary;
  const bound = minimum.total / cfg.quota;
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
    requests: {
      made: c.total,
      byPath: c.requests,
      byStatus: c.byStatus,
      minimum,
      pagesInSummary: summary?.pages ?? null,
      retries: summary ? c.total - summary.pages : null,
      extra: c.total - minimum.total,
    },
    boundSeconds: bound,
    wallOverBound: wallSeconds / bound,
    throttled429: c.throttled429,
    peakRatePerSecond: c.peakRatePerSecond,
    rate: steadyRate(timeline, cfg.quota),
    hostCpuBusy:
      hostBefore && hostAfter
        ? 1 - (hostAfter.idle - hostBefore.idle) / Math.max(1, hostAfter.total - hostBefore.total)
        : null,
    dynamo: {
      writeRequests: store.writeRequests,
      readRequests: store.readRequests,
      itemsWritten: store.itemsWritten,
      requests: store.requests,
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
    workers: workerRows,
    workerRssEvery15s: rssTimeline,
    actions: actionsBefore && actionsAfter ? countersBetween(actionsBefore, actionsAfter) : null,
    landed:
      landedAfter && landedBefore
        ? {
            objects: landedAfter.objects - landedBefore.objects,
            bytes: landedAfter.bytes - landedBefore.bytes,
          }
        : null,
    cpuSeconds: {
      temporal:
        cpuAfter.temporal !== null && cpuBefore.temporal !== null
          ? cpuAfter.temporal - cpuBefore.temporal
          : null,
      dynamo:
        cpuAfter.dynamo !== null && cpuBefore.dynamo !== null ? cpuAfter.dynamo - cpuBefore.dynamo : null,
      objects:
        cpuAfter.objects !== null && cpuBefore.objects !== null ? cpuAfter.objects - cpuBefore.objects : null,
      bench: (cpuAfter.bench.user + cpuAfter.bench.system) / 1e6,
      workers: workerCpu,
      otherProcesses: null,
    },
  };
  if (hostBefore && hostAfter) {
    const c2 = result.cpuSeconds;
    const busy = (hostAfter.total - hostAfter.idle - (hostBefore.total - hostBefore.idle)) / CLK_TCK;
    c2.otherProcesses = Math.max(0, busy - (c2.temporal ?? 0) - (c2.dynamo ?? 0) - c2.bench - c2.workers);
  }
  console.log(table([['metric', kind], ...rowsOf(result)]));
  if (result.summary) console.log(`summary: ${result.summary}`);
  if (itemsChanged !== changedDiff && kind !== 'first')
    console.log(
      `note: MutationReport says ${itemsChanged} items changed, the dataset diff says ${changedDiff}`,
    );
  if (!outcome.ok) console.log(`run failed: ${outcome.error ?? ''}`);
  return { result, expected };
}
