-- Up Migration

-- The review app now sets an audit entry's `at` from its own clock (review/clock.ts; the
-- access-monitoring simulator injects a virtual one). The sealer's minimum-age wait, which guards
-- against a transaction still committing a lower audit id, must not trust that clock: it reads
-- the database's own insertion time. Not part of the sealed leaf (review/audit/audit-leaf.ts lists
-- the sealed columns); the append-only triggers still refuse UPDATE / DELETE / TRUNCATE.
-- Existing rows take the migration's time (so they wait one more minimum age at most).
ALTER TABLE audit_log ADD COLUMN written_at timestamptz NOT NULL DEFAULT now();

-- Down Migration
ALTER TABLE audit_log DROP COLUMN written_at;
