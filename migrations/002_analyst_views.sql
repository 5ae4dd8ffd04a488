-- Views analysts query (README, "The SQL copy"). Removed items are left out.

CREATE VIEW current_branches AS
  SELECT branch_id, branch_name, location, employees, record FROM branches WHERE NOT deleted;

-- A salesperson listed under two branches (a transfer in progress) has one row per branch.
CREATE VIEW current_salespersons AS
  SELECT employee_id, branch_id, name, occupation, record FROM salespersons WHERE NOT deleted;

CREATE VIEW current_sales AS
  SELECT sale_id, employee_id, branch_id, transaction_timestamp, amount, quantity, product, customer, record
  FROM sales WHERE NOT deleted;

-- Sales per branch per day (UTC).
CREATE VIEW sales_per_branch_day AS
  SELECT s.branch_id,
         b.branch_name,
         (s.transaction_timestamp AT TIME ZONE 'UTC')::date AS day,
         count(*)          AS sales,
         sum(s.quantity)   AS quantity,
         sum(s.amount)     AS amount
  FROM current_sales s LEFT JOIN current_branches b USING (branch_id)
  GROUP BY s.branch_id, b.branch_name, day;

-- Sales per salesperson (all time), with the salesperson's name.
CREATE VIEW sales_per_salesperson AS
  SELECT s.employee_id,
         (SELECT p.name FROM current_salespersons p WHERE p.employee_id = s.employee_id
          ORDER BY p.branch_id LIMIT 1) AS name,
         count(*)                    AS sales,
         sum(s.quantity)             AS quantity,
         sum(s.amount)               AS amount,
         min(s.transaction_timestamp) AS first_sale,
         max(s.transaction_timestamp) AS last_sale
  FROM current_sales s
  GROUP BY s.employee_id;

-- How fresh the copy is: per table, the last apply and the consumer's lag.
CREATE VIEW feed_freshness AS
  SELECT table_name, last_seq, lag_ms, updated_at FROM feed_progress;
