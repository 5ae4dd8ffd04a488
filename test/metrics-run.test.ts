/**
 * The completeness counters a run records at its end (src/metrics/run.ts), from its summary's
 * `completeness`, on a meter that keeps what it is given: the names, labels and amounts the
 * worker's exporter serves (test/metrics.test.ts scrapes them from a real run of the local stack).
 */
import assert from 'node:assert/strict';
import type { MetricMeter, MetricTags } from '@temporalio/common';
import { COMPLETENESS } from '../src/metrics/definitions.js';
import { recordCompleteness } from '../src/metrics/run.js';
import { type Completeness, emptyCompleteness } from '../src/shared/completeness.js';

/** A meter that sums what each counter is given, by name and labels. */
function keepingMeter(): { meter: MetricMeter; totals: Map<string, number> } {
  const totals = new Map<string, number>();
  const counter = (name: string) => ({
    add(value: number, tags: MetricTags = {}) {
      const key = `${name}${JSON.stringify(tags)}`;
      totals.set(key, (totals.get(key) ?? 0) + value);
    },
  });
  const meter = { createCounter: counter } as unknown as MetricMeter;
  return { meter, totals };
}

describe('completeness metrics of a run (recorded from its summary)', () => {
  it('counts voids, restores, departures, guard trips by list, widened windows and first sights by kind', () => {
    const c: Completeness = {
      ...emptyCompleteness(),
      firstSightBranches: ['Akron', 'Scranton'],
      firstSightSalespersons: 5,
      firstSightSalespersonIds: ['1', '2', '3', '4', '5'],
      widened: [{ branch: 'Akron', from: '2026-01-01T00:00:00.000Z', reason: 'watermark' }],
      voided: 7,
      restored: 2,
      voidGuarded: [{ branch: 'Akron', employeeId: '9', wouldVoid: 40, stored: 50 }],
      voidGuardTrips: 3,
      departed: 4,
      departureGuarded: [
        { branch: 'Scranton', wouldLeave: 9, stored: 10 },
        { branch: 'Akron', wouldLeave: 8, stored: 10 },
      ],
    };
    const { meter, totals } = keepingMeter();
    recordCompleteness(meter, c);
    recordCompleteness(meter, { ...emptyCompleteness(), voided: 1 });
    assert.deepEqual(
      Object.fromEntries(totals),
      Object.fromEntries([
        [`${COMPLETENESS.voided.name}{}`, 8],
        [`${COMPLETENESS.restored.name}{}`, 2],
        [`${COMPLETENESS.departures.name}{}`, 4],
        [`${COMPLETENESS.guardTrips.name}{"list":"sales"}`, 3],
        [`${COMPLETENESS.guardTrips.name}{"list":"salespersons"}`, 2],
        [`${COMPLETENESS.widened.name}{}`, 1],
        [`${COMPLETENESS.firstSight.name}{"kind":"branch"}`, 2],
        [`${COMPLETENESS.firstSight.name}{"kind":"salesperson"}`, 5],
      ]),
    );
  });

  it('adds nothing for a summary without completeness (older runs) or with nothing in it', () => {
    const { meter, totals } = keepingMeter();
    recordCompleteness(meter, undefined);
    recordCompleteness(meter, emptyCompleteness());
    assert.deepEqual(
      [...totals.values()].filter((n) => n !== 0),
      [],
    );
  });
});
