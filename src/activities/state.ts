/**
 * The state activities: the branch watermark, first loads, voids and departures. DynamoDB only,
 * so they run on the workflow task queue, outside the vendor's rate limit (whose tokens are the
 * vendor's quota).
 */
import type { VoidCheck } from '../shared/completeness.js';
import type { Store } from '../store/index.js';
import type { StateStore } from '../store/state.js';
import { checkDepartures, checkVoids } from '../store/voids.js';
import { alive } from './attempt.js';
import type { StateActivities } from './types.js';

/** What the state activities need: the synced tables' store and the state's. */
export interface StateDeps {
  store: Store;
  state: StateStore;
}

/** The state activities around their dependencies. */
export function createStateActivities({ store, state }: StateDeps): StateActivities {
  // Each heartbeats while it runs (alive): the workflows give them a 15 s heartbeat timeout.
  return {
    branchState: ({ branchId }) =>
      alive(async () => {
        const b = await state.branch(branchId);
        return { watermark: b?.watermark ?? null, lastSweepAt: b?.lastSweepAt ?? null };
      }),
    checkVoids: (input): Promise<VoidCheck> =>
      alive(async () => {
        const r = await checkVoids(store.clients, store.names.sales, input);
        return {
          stored: r.stored,
          voided: r.marked,
          ...(r.guardedWouldMark !== undefined ? { guardedWouldVoid: r.guardedWouldMark } : {}),
        };
      }),
    markDepartures: (input) =>
      alive(async () => {
        const r = await checkDepartures(store.clients, store.names.salespersons, input);
        return {
          stored: r.stored,
          departed: r.marked,
          ...(r.guardedWouldMark !== undefined ? { guardedWouldLeave: r.guardedWouldMark } : {}),
        };
      }),
    markHistoryLoaded: ({ employeeIds, at, writer }) =>
      alive(() => state.markHistoryLoaded(employeeIds, at, writer.workflowId)),
    advanceBranch: (input) => alive(async () => ({ watermark: await state.advanceBranch(input) })),
  };
}
