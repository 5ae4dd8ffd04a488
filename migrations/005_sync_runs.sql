-- One row per sync run, written at its end through the change feed's worker (src/sql/runs.ts),
-- so analysts see which runs and windows the copy holds.
--   kind         scheduled | manual | backfill | replay | dry-run replay
--   window_from  start of the run's window; NULL for a full resync (every sale)
--   window_to    end of the run's window (a full resync: its start)
--   status       succeeded (every branch synced) | partial (branches failed within the
--                tolerated share, or were skipped: another run held them) | failed
--   counts       per table: fetched, inserted, updated, unchanged, setAside, newerKept
--   started_at   when the run started; ended_at when it wrote this row

CREATE TABLE sync_runs (
  workflow_id         text NOT NULL,
  run_id              text NOT NULL,
  kind                text NOT NULL,
  window_from         timestamptz,
  window_to           timestamptz NOT NULL,
  status              text NOT NULL,
  counts              jsonb NOT NULL,
  branches_requested  integer NOT NULL,
  branches_synced     integer NOT NULL,
  failed_branches     text[] NOT NULL DEFAULT '{}',
  started_at          timestamptz NOT NULL,
  ended_at            timestamptz NOT NULL,
  recorded_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workflow_id, run_id)
);
CREATE INDEX sync_runs_window_to ON sync_runs (window_to);

-- Per table, the latest window a run fetched from the vendor completely (status succeeded):
-- the copy holds what the vendor sent for that window as of ended_at. Replays are left out:
-- they ask the vendor nothing, so they say nothing of how fresh the data is.
CREATE VIEW latest_complete_window AS
  SELECT DISTINCT ON (t.table_name)
         t.table_name, r.window_from, r.window_to, r.workflow_id, r.kind, r.ended_at
  FROM sync_runs r CROSS JOIN LATERAL jsonb_object_keys(r.counts) AS t(table_name)
  WHERE r.status = 'succeeded' AND r.kind IN ('scheduled', 'manual', 'backfill')
  ORDER BY t.table_name, r.window_to DESC, r.ended_at DESC;
