/**
 * What one benchmark run measured (RunResult, as written to the JSON file), its table as
 * printed, and the targets judged over all runs (PASS/FAIL).
 */
import type { RequestsNeeded } from '../../src/sim/expected.js';
import type { MutationReport, SimCounters } from '../../src/sim/index.js';
import type { HistoryStats, RunRate } from './measure.js';
import {
  MEMORY_LIMIT_MB,
  type RunKind,
  type Settings,
  TEMPORAL_HISTORY_WARNING,
  WALL_FACTOR,
} from './settings.js';

/** Everything measured in one run. */
export interface RunResult {
  kind: RunKind;
  workflowId: string;
  ok: boolean;
  error: string | undefined;
  summary: string | undefined;
  wallSeconds: number;
  /** First to last vendor request, s. */
  vendorSpanSeconds: number | null;
  /** Run start to the first vendor request, s. */
  startupSeconds: number | null;
  requests: {
    made: number;
    byPath: SimCounters['requests'];
    byStatus: SimCounters['byStatus'];
    minimum: RequestsNeeded;
    /** Pages the run fetched per its summary (retries not counted). */
    pagesInSummary: number | null;
    /** Requests beyond the pages the run fetched: retried attempts. */
    retries: number | null;
    /** Requests beyond the minimum. */
    extra: number;
  };
  boundSeconds: number;
  wallOverBound: number;
  throttled429: number;
  peakRatePerSecond: number;
  /** Vendor requests in each second of the run. */
  rate: RunRate;

  /** Share of the host's CPU time (all cores) that was busy during the run. */
  hostCpuBusy: number | null;
  dynamo: {
    writeRequests: number;
    readRequests: number;
    itemsWritten: number;
    /** Requests of the synced tables' client (the store), by command: items, and the index queries of void and member checks. */
    requests: Record<string, number>;
    /** Requests of the sync state's own clients (watermark, first sight), by command. */
    state: { requests: Record<string, number>; writeRequests: number; readRequests: number };
    /** Query requests (the GSIs employee_time and branch_members) of both clients. */
    indexQueries: number;
    /** Index queries the design makes in a full run: one per branch (members) and one per distinct salesperson (voids). */
    indexQueriesByDesign: number;
    /** inserted + updated per the run's summary. */
    itemsWrittenInSummary: number | null;
    itemsChanged: number;
    itemsChangedFromDatasetDiff: number;
    tableItems: Record<string, number>;
    expectedTableItems: Record<string, number>;
  };
  mutation: MutationReport | undefined;
  mutationCounts: Record<string, number> | undefined;
  workflows: HistoryStats & {
    largestShareOfLimit: number;
    largestShareOfWarning: number;
  };
  /** Per worker process: peak RSS so far (VmHWM), RSS at the end of the run, RSS when it became ready, CPU s in the run. */
  workers: {
    pid: number;
    peakRssMb: number;
    rssMb: number;
    readyRssMb: number;
    /** Peak RSS (VmHWM) when it became ready: what start-up alone (bundling, Worker.create) cost. */
    readyPeakRssMb: number;
    /** V8 heap used / total at the end of the run, MB. */
    heapUsedMb: number;
    heapTotalMb: number;
    cpuSeconds: number;
  }[];
  /** Billable Temporal actions of the run, by type, from the server's `action` counter (null when not scraped). */
  actions: { total: number; byType: Record<string, number> } | null;
  /** Objects and bytes (gzip) the run added to the landing zone; null with --no-landing. */
  landed: { objects: number; bytes: number } | null;
  /** RSS of each worker process every 15 s, MB. */
  workerRssEvery15s: number[][];
  /** CPU seconds in the run: the stack's processes, and everything else on the host (other jobs sharing the machine). */
  cpuSeconds: {
    temporal: number | null;
    dynamo: number | null;
    /** The object server (versitygw); null with --no-landing. */
    objects: number | null;
    bench: number;
    workers: number;
    otherProcesses: number | null;
  };
}

/** Rows as a text table: the first column left-aligned, the others right-aligned. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  const sep = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(rows[0] ?? []), sep, ...rows.slice(1).map(line)].join('\n');
}

export const n = (x: number) => x.toLocaleString('en-US');
export const s1 = (x: number) => x.toFixed(1);
export const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The printed table of one run: [metric, value] rows. */
export function rowsOf(r: RunResult): [string, string][] {
  return [...requestRows(r), ...timeRows(r), ...storeRows(r), ...workflowRows(r), ...workerRows(r)];
}

/** Vendor requests: made, needed, beyond the minimum. */
function requestRows(r: RunResult): [string, string][] {
  const m = r.requests.minimum;
  const paths = r.requests.byPath;
  return [
    ['run status', r.ok ? 'completed' : `FAILED: ${r.error ?? ''}`],
    ['vendor requests made', n(r.requests.made)],
    [
      '  /branches, /employees, /sales',
      `${n(paths['/branches'])}, ${n(paths['/employees'])}, ${n(paths['/sales'])}`,
    ],
    ['requests needed (minimum)', n(m.total)],
    [
      '  lookups + employee pages + sales pages',
      `${n(m.branchLookups)} + ${n(m.employeePages)} + ${n(m.salesPages)}`,
    ],
    ['requests beyond minimum', n(r.requests.extra)],
    ['  of which retries', r.requests.retries === null ? 'n/a' : n(r.requests.retries)],
  ];
}

/** Wall time against the bound, the vendor's 429s, the request rate, the host's CPU, Temporal actions. */
function timeRows(r: RunResult): [string, string][] {
  return [
    ['wall time', `${s1(r.wallSeconds)} s`],
    ['  startup (run start -> 1st request)', r.startupSeconds === null ? 'n/a' : `${s1(r.startupSeconds)} s`],
    ['lower bound R/Q', `${s1(r.boundSeconds)} s`],
    ['wall / bound', r.wallOverBound.toFixed(3)],
    ['429s sent by the vendor', n(r.throttled429)],
    ['peak request rate (1 s window)', `${n(r.peakRatePerSecond)}/s`],
    [
      '  steady mean; seconds < 90% of quota',
      `${s1(r.rate.steadyMean)}/s; ${r.rate.secondsBelow90} of ${r.rate.steadySeconds}`,
    ],
    ['host CPU busy (all cores)', r.hostCpuBusy === null ? 'n/a' : pct(r.hostCpuBusy)],
    [
      'Temporal actions (billable): run; a month of hourly runs',
      r.actions ? `${n(r.actions.total)}; ${n(r.actions.total * 24 * 30)}` : 'n/a',
    ],
  ];
}

/** The landing zone and DynamoDB. */
function storeRows(r: RunResult): [string, string][] {
  return [
    [
      'landed: objects, bytes (gzip)',
      r.landed ? `${n(r.landed.objects)}, ${n(r.landed.bytes)}` : 'off (--no-landing)',
    ],
    ['DynamoDB write requests', n(r.dynamo.writeRequests)],
    ['DynamoDB read requests', n(r.dynamo.readRequests)],
    ['  synced tables, by command', byCommand(r.dynamo.requests)],
    [
      '  index queries (voids, members): made / design',
      `${n(r.dynamo.indexQueries)} / ${n(r.dynamo.indexQueriesByDesign)}`,
    ],
    ['DynamoDB requests of the sync state, by command', byCommand(r.dynamo.state.requests)],
    ['items written', n(r.dynamo.itemsWritten)],
    ['items that changed', n(r.dynamo.itemsChanged)],
    [
      'table items (branches/salespersons/sales)',
      `${n(r.dynamo.tableItems.branches ?? 0)}/${n(r.dynamo.tableItems.salespersons ?? 0)}/${n(r.dynamo.tableItems.sales ?? 0)}`,
    ],
    [
      '  expected',
      `${n(r.dynamo.expectedTableItems.branches ?? 0)}/${n(r.dynamo.expectedTableItems.salespersons ?? 0)}/${n(r.dynamo.expectedTableItems.sales ?? 0)}`,
    ],
  ];
}

/** Requests by command, e.g. "BatchGetItem 3,080, Query 620"; "none" when there were none. */
export function byCommand(requests: Record<string, number>): string {
  const entries = Object.entries(requests)
    .filter(([, c]) => c > 0)
    .sort(([a], [b]) => a.localeCompare(b));
  return entries.length
    ? entries.map(([cmd, c]) => `${cmd.replace(/Command$/, '')} ${n(c)}`).join(', ')
    : 'none';
}

/** Workflow executions and history sizes. */
function workflowRows(r: RunResult): [string, string][] {
  return [
    ['workflow executions started', n(r.workflows.executions)],
    ['  continued as new', n(r.workflows.continuedAsNew)],
    ['largest history (events)', `${n(r.workflows.largest.events)} (${r.workflows.largest.type})`],
    [
      '  parent / branch / salesperson',
      ['salesSyncWorkflow', 'branchSyncWorkflow', 'salespersonSyncWorkflow']
        .map((t) => n(r.workflows.largestByType[t] ?? 0))
        .join(' / '),
    ],
    [
      '  share of 51,200 limit / 10,240 warning',
      `${pct(r.workflows.largestShareOfLimit)} / ${pct(r.workflows.largestShareOfWarning)}`,
    ],
  ];
}

/** The workers' memory and every process's CPU. */
function workerRows(r: RunResult): [string, string][] {
  const salespersons = r.dynamo.expectedTableItems.salespersons ?? 0;
  return [
    ['worker peak RSS (VmHWM)', r.workers.map((w) => `${s1(w.peakRssMb)} MB`).join(', ')],
    ['  peak RSS when ready (start-up alone)', r.workers.map((w) => `${s1(w.readyPeakRssMb)} MB`).join(', ')],
    [
      '  RSS when ready / at end of run',
      r.workers.map((w) => `${s1(w.readyRssMb)}/${s1(w.rssMb)} MB`).join(', '),
    ],
    [
      '  V8 heap used / total at end of run',
      r.workers.map((w) => `${s1(w.heapUsedMb)}/${s1(w.heapTotalMb)} MB`).join(', '),
    ],
    [
      'CPU s: temporal/dynamo/objects/workers/bench/other',
      [
        r.cpuSeconds.temporal,
        r.cpuSeconds.dynamo,
        r.cpuSeconds.objects,
        r.cpuSeconds.workers,
        r.cpuSeconds.bench,
        r.cpuSeconds.otherProcesses,
      ]
        .map((c) => (c === null ? 'n/a' : s1(c)))
        .join(' / '),
    ],
    [
      '  CPU ms per salesperson: temporal/dynamo/objects/workers',
      [r.cpuSeconds.temporal, r.cpuSeconds.dynamo, r.cpuSeconds.objects, r.cpuSeconds.workers]
        .map((c) => (c === null || salespersons === 0 ? 'n/a' : s1((c * 1000) / salespersons)))
        .join(' / '),
    ],
  ];
}

export interface Target {
  name: string;
  /** null: not applicable to these settings (reported, not judged). */
  pass: boolean | null;
  detail: string;
}

/** The targets over all runs (stated for the default settings). */
export function evaluate(settings: Settings, runs: RunResult[]): Target[] {
  const targets: Target[] = [];
  const by = (k: RunKind) => runs.find((r) => r.kind === k);
  for (const k of ['first', 'mutated'] as const) {
    const r = by(k);
    if (!r) continue;
    targets.push({
      name: `${k} run wall time <= ${WALL_FACTOR} x R/Q`,
      // The scale preset raises the quota past what this stack can dispatch: the bound says nothing there.
      pass: settings.scale ? null : r.ok && r.wallOverBound <= WALL_FACTOR,
      detail:
        `${s1(r.wallSeconds)} s vs bound ${s1(r.boundSeconds)} s (x${r.wallOverBound.toFixed(3)})` +
        (settings.scale ? '; not judged at the scale preset (quota raised to check history and memory)' : ''),
    });
  }
  targets.push({
    name: `zero 429s in every run (${settings.workers} worker${settings.workers > 1 ? 's' : ''})`,
    pass: runs.every((r) => r.throttled429 === 0),
    detail: runs.map((r) => `${r.kind}: ${r.throttled429}`).join(', '),
  });
  targets.push({
    name: 'requests made = minimum needed in every run',
    pass: runs.every((r) => r.requests.extra === 0),
    detail: runs
      .map(
        (r) =>
          `${r.kind}: ${n(r.requests.made)}/${n(r.requests.minimum.total)}` +
          (r.requests.extra ? ` (+${r.requests.extra}, retries ${r.requests.retries ?? '?'})` : ''),
      )
      .join(', '),
  });
  const second = by('second');
  if (second) {
    targets.push({
      name: 'second run: zero DynamoDB writes',
      pass: second.ok && second.dynamo.writeRequests === 0,
      detail: `${second.dynamo.writeRequests} write requests, ${second.dynamo.itemsWritten} items`,
    });
  }
  const mutated = by('mutated');
  if (mutated) {
    targets.push({
      name: 'mutated run: items written = items changed',
      pass: mutated.ok && mutated.dynamo.itemsWritten === mutated.dynamo.itemsChanged,
      detail: `${mutated.dynamo.itemsWritten} written, ${mutated.dynamo.itemsChanged} changed`,
    });
  }
  const largest = Math.max(...runs.map((r) => r.workflows.largest.events));
  targets.push({
    name: `no workflow history above ${n(TEMPORAL_HISTORY_WARNING)} events (at ${settings.branches} x ${settings.salespersons})`,
    pass: largest <= TEMPORAL_HISTORY_WARNING,
    detail: `largest ${n(largest)} events`,
  });
  const peak = Math.max(...runs.flatMap((r) => r.workers.map((w) => w.peakRssMb)));
  targets.push({
    name: `worker peak memory < ${MEMORY_LIMIT_MB} MB`,
    pass: peak < MEMORY_LIMIT_MB,
    detail: `${s1(peak)} MB`,
  });
  return targets;
}

/** The runs' billable actions by type, one column per run (types of any run, most frequent first). */
export function actionsTable(runs: RunResult[]): string | undefined {
  if (!runs.some((r) => r.actions)) return undefined;
  const totals = new Map<string, number>();
  for (const r of runs)
    for (const [t, c] of Object.entries(r.actions?.byType ?? {})) totals.set(t, (totals.get(t) ?? 0) + c);
  const types = [...totals.entries()].sort(([, a], [, b]) => b - a).map(([t]) => t);
  return table([
    ['Temporal action type', ...runs.map((r) => r.kind)],
    ...types.map((t) => [t, ...runs.map((r) => n(r.actions?.byType[t] ?? 0))]),
    ['total', ...runs.map((r) => n(r.actions?.total ?? 0))],
  ]);
}
