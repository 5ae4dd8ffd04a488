-- The SQL copy of the synced tables, applied from the change feed (src/sql/apply.ts).
-- Each table: the DynamoDB key, typed columns for the vendor contract's fields, the whole
-- DynamoDB item as `record` (numbers with every digit), and the feed's bookkeeping:
--   version     the stream sequence number of the change that produced the row; a change is
--               applied only when its version is higher, so a replayed or duplicated event
--               never moves a row back (docs/change-feed.md, "Order and versions")
--   changed_at  when DynamoDB recorded the change (the stream's approximate creation time)
--   written_at  when the sync wrote the item (its synced_at)
--   applied_at  when this row was last applied
--   deleted     the item was removed from DynamoDB (a tombstone keeps its version)

CREATE TABLE branches (
  branch_id    text PRIMARY KEY,
  id           numeric,
  branch_name  text,
  employees    numeric,
  location     text,
  record       jsonb,
  version      numeric NOT NULL,
  changed_at   timestamptz,
  written_at   timestamptz,
  applied_at   timestamptz NOT NULL DEFAULT now(),
  deleted      boolean NOT NULL DEFAULT false
);

CREATE TABLE salespersons (
  employee_id  text NOT NULL,
  branch_id    text NOT NULL,
  id           numeric,
  name         text,
  occupation   text,
  record       jsonb,
  version      numeric NOT NULL,
  changed_at   timestamptz,
  written_at   timestamptz,
  applied_at   timestamptz NOT NULL DEFAULT now(),
  deleted      boolean NOT NULL DEFAULT false,
  PRIMARY KEY (employee_id, branch_id)
);

CREATE TABLE sales (
  sale_id                text NOT NULL,
  employee_id            text NOT NULL,
  branch_id              text,
  id                     numeric,
  transaction_timestamp  timestamptz,
  amount                 numeric,
  product                text,
  quantity               numeric,
  customer               text,
  record                 jsonb,
  version                numeric NOT NULL,
  changed_at             timestamptz,
  written_at             timestamptz,
  applied_at             timestamptz NOT NULL DEFAULT now(),
  deleted                boolean NOT NULL DEFAULT false,
  PRIMARY KEY (sale_id, employee_id)
);
CREATE INDEX sales_branch_day ON sales (branch_id, transaction_timestamp);

-- Events that could not be applied, with the reason; one row per event however often it is replayed.
CREATE TABLE feed_dead_letter (
  table_name  text NOT NULL,
  seq         numeric NOT NULL,
  key         jsonb NOT NULL,
  reason      text NOT NULL,
  object_key  text NOT NULL,
  event       jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (table_name, seq, key)
);

-- Every change object applied (a retried batch updates its row).
CREATE TABLE feed_batches (
  object_key    text PRIMARY KEY,
  table_name    text NOT NULL,
  shard_id      text NOT NULL,
  first_seq     numeric NOT NULL,
  last_seq      numeric NOT NULL,
  events        integer NOT NULL,
  dead_letters  integer NOT NULL,
  applied_at    timestamptz NOT NULL DEFAULT now()
);

-- What the consumer of each table last did, and its lag (age of the oldest change not yet applied).
CREATE TABLE feed_progress (
  table_name  text PRIMARY KEY,
  shard_id    text,
  last_seq    numeric,
  lag_ms      bigint NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
