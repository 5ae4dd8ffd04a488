/**
 * The state activities: the branch watermark, first loads, voids and departures. DynamoDB only,
 * so they run on the workflow task queue, outside the vendor's rate limit (whose tokens are the
 * vendor's quota).
 */
import type { VoidCheck } from '../shared/completeness.js';
import type { Store } from '../store/index.js';
import type { StateStore } from '../store/state.js';
import { checkDepartures, checkVoids } from '../store/voids.js';
import type { StateActivities } from './types.js';

/** What the state activities need: the synced tables' store and the state's. */
export interface StateDeps {
  store: Store;
  state: StateStore;
}

/** The state activities around their dependencies. */
export function createStateActivities({ store, state }: StateDeps): StateActivities {
  return {
    branchState: async ({ branchId }) => {
      const b = await state.branch(branchId);
      return { watermark: b?.watermark ?? null, lastSweepAt: b?.lastSweepAt ?? null };
    },
    checkVoids: async (input): Promise<VoidCheck> => {
      const r = await checkVoids(store.clients, store.names.sales, input);
      return {
        stored: r.stored,
        voided: r.marked,
        ...(r.guardedWouldMark !== undefined ? { guardedWouldVoid: r.guardedWouldMark } : {}),
      };
    },
    markDepartures: async (input) => {
      const r = await checkDepartures(store.clients, store.names.salespersons, input);
      return {
        stored: r.stored,
        departed: r.marked,
        ...(r.guardedWouldMark !== undefined ? { guardedWouldLeave: r.guardedWouldMark } : {}),
      };
    },
    markHistoryLoaded: async ({ employeeIds, at, writer }) => {
      await state.markHistoryLoaded(employeeIds, at, writer.workflowId);
    },
    advanceBranch: async (input) => ({ watermark: await state.advanceBranch(input) }),
  };
}
