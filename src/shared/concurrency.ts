/**
 * How many children a run keeps in flight by default: the defaults of SYNC_BRANCH_CONCURRENCY
 * and SYNC_SALESPERSON_CONCURRENCY (src/config/sync.ts), and of a workflow input that names
 * none (src/workflows/sales-sync.ts). Plain constants: workflow code imports them.
 */
/** Branch children of a run at once. */
export const DEFAULT_BRANCH_CONCURRENCY = 4;
/** Salesperson children of a branch at once. */
export const DEFAULT_SALESPERSON_CONCURRENCY = 16;
