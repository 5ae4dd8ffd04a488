-- Values PostgreSQL cannot hold exactly, a dead letter whose insert cannot fail on an event's
-- content, rows written by a repair, and the feed's progress per shard (docs/change-feed.md).

-- inexact_fields: paths of the fields PostgreSQL cannot hold exactly (U+0000, a lone surrogate),
-- null in their typed column and in `record`; the exact value is in the change object. Empty
-- when there is none.
-- repaired_at: when a repair (reconcile --repair, the first-start snapshot) read the item it wrote
-- to the row; the stream then applies only changes made since (the rule: src/sql/upsert.ts,
-- MADE_AFTER_REPAIR). NULL once a change of the stream is applied. IF NOT EXISTS: migration 004
-- adds the same column and may have been applied first.
ALTER TABLE branches
  ADD COLUMN inexact_fields text[] NOT NULL DEFAULT '{}',
  ADD COLUMN IF NOT EXISTS repaired_at timestamptz;
ALTER TABLE salespersons
  ADD COLUMN inexact_fields text[] NOT NULL DEFAULT '{}',
  ADD COLUMN IF NOT EXISTS repaired_at timestamptz;
ALTER TABLE sales
  ADD COLUMN inexact_fields text[] NOT NULL DEFAULT '{}',
  ADD COLUMN IF NOT EXISTS repaired_at timestamptz;

CREATE OR REPLACE VIEW current_branches AS
  SELECT branch_id, branch_name, location, employees, record, inexact_fields FROM branches WHERE NOT deleted;
CREATE OR REPLACE VIEW current_salespersons AS
  SELECT employee_id, branch_id, name, occupation, record, inexact_fields FROM salespersons WHERE NOT deleted;
CREATE OR REPLACE VIEW current_sales AS
  SELECT sale_id, employee_id, branch_id, transaction_timestamp, amount, quantity, product, customer, record,
         inexact_fields
  FROM sales WHERE NOT deleted;

-- The dead letter keeps key and event as JSON text (its escapes hold U+0000 and lone surrogates,
-- which jsonb refuses), and its primary key is on the key's md5: a key of any length fits.
ALTER TABLE feed_dead_letter DROP CONSTRAINT feed_dead_letter_pkey;
ALTER TABLE feed_dead_letter
  ALTER COLUMN key TYPE text USING key::text,
  ALTER COLUMN event TYPE text USING event::text;
ALTER TABLE feed_dead_letter ADD COLUMN key_md5 text GENERATED ALWAYS AS (md5(key)) STORED;
ALTER TABLE feed_dead_letter ADD PRIMARY KEY (table_name, seq, key_md5);

-- Progress per shard: a table read from several shards has a row for each. The one row a table
-- had keeps its last shard (or '' when it had none).
DROP VIEW feed_freshness;
UPDATE feed_progress SET shard_id = '' WHERE shard_id IS NULL;
ALTER TABLE feed_progress DROP CONSTRAINT feed_progress_pkey;
ALTER TABLE feed_progress ALTER COLUMN shard_id SET NOT NULL;
ALTER TABLE feed_progress ADD PRIMARY KEY (table_name, shard_id);

-- How fresh the copy is: per table and shard, the last apply and the consumer's lag at that time.
CREATE VIEW feed_freshness AS
  SELECT table_name, shard_id, last_seq, lag_ms, updated_at FROM feed_progress;
