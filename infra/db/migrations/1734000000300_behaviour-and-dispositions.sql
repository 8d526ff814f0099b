-- Up Migration

-- The behaviour model's user-days (monitoring/behaviour-monitor.ts): the features of one user's
-- day (UTC), its score and reasons. Earlier user-days are the detector's history and each user's
-- own baseline. Numbers only: no member, no address.
CREATE TABLE monitor_user_days (
  user_id    bigint NOT NULL REFERENCES review_users (user_id),
  day        date NOT NULL,
  role       text NOT NULL,
  features   jsonb NOT NULL,
  score      double precision NOT NULL,
  anomaly    double precision NOT NULL,
  reasons    jsonb NOT NULL,
  scored_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, day)
);
CREATE INDEX monitor_user_days_day ON monitor_user_days (day);

-- Compliance's dispositions of alerts (review/services/alert.service.ts): the labels of the next
-- behaviour model (policy_violation = 1, benign = 0, needs_review = none yet). Each is written with
-- its audit entry (`alert.dispose`), so dispositions are sealed into the anchored audit batches.
CREATE TABLE alert_dispositions (
  disposition_id  bigserial PRIMARY KEY,
  alert_id        bigint NOT NULL REFERENCES monitor_alerts (alert_id),
  user_id         bigint NOT NULL REFERENCES review_users (user_id),
  disposition     text NOT NULL CHECK (disposition IN ('benign', 'policy_violation', 'needs_review')),
  note            text NOT NULL CHECK (length(btrim(note)) > 0),
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_dispositions_alert ON alert_dispositions (alert_id);

-- Down Migration
DROP TABLE alert_dispositions;
DROP TABLE monitor_user_days;
