-- Reconcile and repair (docs/change-feed.md, "Reconcile and repair").
--   repaired_at  when a repair (reconcile --repair, the first-start snapshot) read the item it wrote
--                to the row; NULL once the stream applies a change. The stream applies only changes
--                made since (src/sql/upsert.ts, MADE_AFTER_REPAIR). Migration 003 adds the same
--                column, and either may be applied first: IF NOT EXISTS in both.
ALTER TABLE branches ADD COLUMN IF NOT EXISTS repaired_at timestamptz;
ALTER TABLE salespersons ADD COLUMN IF NOT EXISTS repaired_at timestamptz;
ALTER TABLE sales ADD COLUMN IF NOT EXISTS repaired_at timestamptz;
