/**
 * The metrics of a whole run, recorded by the parent workflow as it ends (workflow code:
 * deterministic, no I/O). The SDK's workflow `metricMeter` skips recording while a workflow
 * replays, so a run is counted once, by the worker that runs its last workflow task.
 *
 * Why at the end and from the summary, not by each activity as it goes: the summary is what a
 * run reports, and some work never reaches it (an activity attempt that wrote its page but whose
 * completion was lost is retried and counted once; a salesperson child that fails after some
 * pages adds none of them). Counting the summary makes the counters equal it exactly. What
 * happens during a run shows in the vendor request metrics, recorded per request.
 */
import type { MetricMeter } from '@temporalio/common';
import { metricMeter, workflowInfo } from '@temporalio/workflow';
import type { Completeness } from '../shared/completeness.js';
import type { SyncSummary } from '../shared/summary.js';
import { COMPLETENESS, RUN, TABLES } from './definitions.js';

const counter = (d: { name: string; help: string }) => metricMeter.createCounter(d.name, undefined, d.help);

/** Records the end of a run: its outcome, duration, branches and items, from its summary. */
export function recordRun(summary: SyncSummary, failed: boolean): void {
  const now = Date.now();
  counter(RUN.runs).add(1, { outcome: failed ? 'failed' : 'succeeded' });
  metricMeter
    .createHistogram(RUN.duration.name, 'float', undefined, RUN.duration.help)
    .record(Math.max(0, now - workflowInfo().startTime.getTime()) / 1000);
  if (!failed)
    metricMeter.createGauge(RUN.lastSuccess.name, 'float', undefined, RUN.lastSuccess.help).set(now / 1000);
  const add = (c: ReturnType<typeof counter>, n: number, labels: Record<string, string>) => {
    if (n > 0) c.add(n, labels);
  };
  const branches = counter(RUN.branches);
  add(branches, summary.branchesSynced, { outcome: 'synced' });
  add(branches, summary.unknownBranches.length, { outcome: 'unknown' });
  add(branches, summary.failedBranches.length, { outcome: 'failed' });
  add(branches, summary.skippedBranches.length, { outcome: 'skipped' });
  const fetched = counter(RUN.fetched);
  const items = counter(RUN.items);
  for (const table of TABLES) {
    const c = summary.counts[table];
    add(fetched, c.fetched, { table });
    add(items, c.inserted, { table, outcome: 'inserted' });
    add(items, c.updated, { table, outcome: 'updated' });
    add(items, c.unchanged, { table, outcome: 'unchanged' });
    add(items, c.setAside, { table, outcome: 'set_aside' });
  }
  recordCompleteness(metricMeter, summary.completeness);
}

/**
 * Records a run's first loads, widened windows, voids, departures and guard trips on `meter`
 * (the workflow's; a parameter so the amounts can be checked without a worker). Nothing for a
 * summary without completeness (a run that reports none).
 */
export function recordCompleteness(meter: MetricMeter, c: Completeness | undefined): void {
  if (!c) return;
  const add = (d: { name: string; help: string }, n: number, labels: Record<string, string> = {}) => {
    if (n > 0) meter.createCounter(d.name, undefined, d.help).add(n, labels);
  };
  add(COMPLETENESS.voided, c.voided);
  add(COMPLETENESS.restored, c.restored);
  add(COMPLETENESS.departures, c.departed);
  add(COMPLETENESS.guardTrips, c.voidGuardTrips, { list: 'sales' });
  add(COMPLETENESS.guardTrips, c.departureGuarded.length, { list: 'salespersons' });
  add(COMPLETENESS.widened, c.widened.length);
  add(COMPLETENESS.firstSight, c.firstSightBranches.length, { kind: 'branch' });
  add(COMPLETENESS.firstSight, c.firstSightSalespersons, { kind: 'salesperson' });
}
