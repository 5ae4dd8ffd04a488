/**
 * Sets the sync's state as if the branches had been synced before: a watermark at `watermark`
 * and every salesperson's whole history read. A test of a window (a backfill, two runs over the
 * same hours) starts from there, so the runs read their own windows and not whole histories.
 */
import type { Dataset } from '../../src/sim/dataset.js';
import type { StateStore } from '../../src/store/state.js';

/** Branches `names` of `ds` synced up to `watermark` (ISO), their salespersons' histories read. */
export async function syncedBefore(
  state: StateStore,
  ds: Dataset,
  names: readonly string[],
  watermark: string,
): Promise<void> {
  for (const name of names) {
    const b = ds.branchByName(name);
    if (!b) throw new Error(`syncedBefore: the dataset has no branch ${name}`);
    const lastRun = { workflowId: 'before', at: watermark, voided: 0, departed: 0 };
    await state.advanceBranch({ branchId: String(b.id), branchName: name, watermark, lastRun });
    const ids = ds.salespersonsOf(b.id).map((sp) => String(sp.id));
    await state.markHistoryLoaded(ids, watermark, 'before');
  }
}
