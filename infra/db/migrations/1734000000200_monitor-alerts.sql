-- Up Migration

-- Alerts of the monitor (monitoring/alert.repository.ts): chain alerts (chain watch) and access
-- alerts (a user-day's behaviour). Each alert is also written to the audit log in the same
-- transaction (`monitor.alert`), so alerts are sealed into the anchored audit batches; so are
-- their dispositions. Reasons are codes with non-identifying numbers; evidence holds chain
-- coordinates (transaction hash, block, addresses) or pseudonyms, never a member id.
CREATE TABLE monitor_alerts (
  alert_id         bigserial PRIMARY KEY,
  kind             text NOT NULL CHECK (kind IN ('chain', 'access')),
  severity         text NOT NULL CHECK (severity IN ('high', 'medium', 'low')),
  -- The review user an access alert is about (NULL for chain alerts): nobody sees or dispositions alerts about themselves.
  subject_user_id  bigint REFERENCES review_users (user_id),
  day              date,
  score            double precision,
  reasons          jsonb NOT NULL,
  evidence         jsonb NOT NULL DEFAULT '{}',
  -- One alert per finding: a rescan or a redelivery raises nothing twice.
  dedupe_key       text NOT NULL UNIQUE,
  status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'benign', 'policy_violation', 'needs_review')),
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX monitor_alerts_open ON monitor_alerts (created_at DESC) WHERE status IN ('open', 'needs_review');

-- Where the chain watch has read up to, per contract.
CREATE TABLE chain_watch_cursor (
  contract    text PRIMARY KEY,
  last_block  bigint NOT NULL CHECK (last_block >= 0),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE chain_watch_cursor;
DROP TABLE monitor_alerts;
