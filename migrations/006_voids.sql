-- Voids and departures (docs/change-feed.md, "Voids and departures"). The sync never deletes a
-- sale the vendor stopped listing, nor a membership a branch stopped listing: it marks the item
-- (DynamoDB `voided_at`, `left_at`, ISO instants) and removes the mark when the item is listed
-- again. The copy keeps such rows, with the mark in a typed column (NULL: not marked), and the
-- current_* views leave them out.
--   voided_at  sales: when the sync found the sale no longer listed
--   left_at    salespersons: when the sync found the membership no longer listed
-- A mark that is no instant is NULL in its column and its path (`voided_at`, `left_at`) is in
-- `inexact_fields`; the item still carries it, so the row counts as marked in the views below.
-- Every statement can run again (IF NOT EXISTS, CREATE OR REPLACE), as 003 and 004 do.
ALTER TABLE sales ADD COLUMN IF NOT EXISTS voided_at timestamptz;
ALTER TABLE salespersons ADD COLUMN IF NOT EXISTS left_at timestamptz;
CREATE INDEX IF NOT EXISTS sales_voided ON sales (voided_at) WHERE voided_at IS NOT NULL;

-- Same columns as before (views built on them keep working); only the rows change.
CREATE OR REPLACE VIEW current_salespersons AS
  SELECT employee_id, branch_id, name, occupation, record, inexact_fields FROM salespersons
  WHERE NOT deleted AND left_at IS NULL AND NOT 'left_at' = ANY (inexact_fields);
CREATE OR REPLACE VIEW current_sales AS
  SELECT sale_id, employee_id, branch_id, transaction_timestamp, amount, quantity, product, customer, record,
         inexact_fields
  FROM sales WHERE NOT deleted AND voided_at IS NULL AND NOT 'voided_at' = ANY (inexact_fields);

-- Sales per salesperson: a salesperson who left every branch keeps the name on the sales made
-- before (a current membership's name first).
CREATE OR REPLACE VIEW sales_per_salesperson AS
  SELECT s.employee_id,
         (SELECT p.name FROM salespersons p WHERE p.employee_id = s.employee_id AND NOT p.deleted
          ORDER BY p.left_at IS NOT NULL, p.branch_id LIMIT 1) AS name,
         count(*)                    AS sales,
         sum(s.quantity)             AS quantity,
         sum(s.amount)               AS amount,
         min(s.transaction_timestamp) AS first_sale,
         max(s.transaction_timestamp) AS last_sale
  FROM current_sales s
  GROUP BY s.employee_id;

-- Voided sales, the most recent void first (a mark that is no instant last).
CREATE OR REPLACE VIEW voided_sales AS
  SELECT sale_id, employee_id, branch_id, transaction_timestamp, amount, quantity, product, customer, voided_at,
         record, inexact_fields
  FROM sales WHERE NOT deleted AND (voided_at IS NOT NULL OR 'voided_at' = ANY (inexact_fields))
  ORDER BY voided_at DESC NULLS LAST, sale_id, employee_id;

-- Memberships that ended, the most recent departure first.
CREATE OR REPLACE VIEW departed_salespersons AS
  SELECT employee_id, branch_id, name, occupation, left_at, record, inexact_fields
  FROM salespersons WHERE NOT deleted AND (left_at IS NOT NULL OR 'left_at' = ANY (inexact_fields))
  ORDER BY left_at DESC NULLS LAST, employee_id, branch_id;

-- Sweeps (the lookback and full sweeps' schedules) fetch from the vendor like hourly runs: their
-- complete windows count for freshness too. Replays still do not.
CREATE OR REPLACE VIEW latest_complete_window AS
  SELECT DISTINCT ON (t.table_name)
         t.table_name, r.window_from, r.window_to, r.workflow_id, r.kind, r.ended_at
  FROM sync_runs r CROSS JOIN LATERAL jsonb_object_keys(r.counts) AS t(table_name)
  WHERE r.status = 'succeeded' AND r.kind IN ('scheduled', 'manual', 'backfill', 'sweep', 'full sweep')
  ORDER BY t.table_name, r.window_to DESC, r.ended_at DESC;
