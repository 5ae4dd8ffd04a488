/**
 * What the sync activities are built around. Apart from the contracts (./types.ts) because it
 * names implementations (the vendor client, the store, the landing zone), which workflow code
 * must never reach.
 */
import type { Landing } from '../landing/index.js';
import type { Store } from '../store/index.js';
import type { StateStore } from '../store/state.js';
import type { VendorClient } from '../vendor-api/client.js';

/** What the activities need, built once per worker process. */
export interface ActivityDeps {
  vendor: VendorClient;
  store: Store;
  /** Page size asked of the vendor for every list. */
  pageSize: number;
  /** The raw landing zone; null when LANDING=off (then nothing lands and nothing can be replayed). */
  landing: Landing | null;
  /** The sync's own state: which salespersons' whole history was read (first sight). */
  state: StateStore;
}
