-- Reconcile and repair (docs/change-feed.md, "Reconcile and repair").
--   repaired_at  when a repair (reconcile --repair, the first-start snapshot) last wrote the row from
--                the item as read at that time; NULL once the stream applies a change. A stream change
--                made before it (changed_at earlier, to the second) is not applied: the repair already
--                holds that item or a newer one. The same column may come from migration 003: IF NOT EXISTS.
ALTER TABLE branches ADD COLUMN IF NOT EXISTS repaired_at timestamptz;
ALTER TABLE salespersons ADD COLUMN IF NOT EXISTS repaired_at timestamptz;
ALTER TABLE sales ADD COLUMN IF NOT EXISTS repaired_at timestamptz;
