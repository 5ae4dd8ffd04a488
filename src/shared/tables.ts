/**
 * The tables the sync fills from the vendor's data, one list for every layer (store, change
 * feed, metrics, simulator, summaries). Pure data: workflow code may import it.
 */

/** The synced tables, in the order a run fills them (the quarantine table is not one: it holds what was set aside). */
export const SYNCED_TABLES = ['branches', 'salespersons', 'sales'] as const;

/** One synced table. */
export type SyncedTable = (typeof SYNCED_TABLES)[number];
