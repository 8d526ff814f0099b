-- Up Migration

-- The access monitor (monitoring/access-monitor.stage.ts): one row per access event it recorded,
-- with the explanation the work context gave it (NULL: unexplained). Keyed by the event's audit
-- log and audit id, so an event delivered twice is recorded once. People and addresses appear
-- only as keyed pseudonyms (member, provider, client address); the user is the review user id.
CREATE TABLE access_records (
  source              uuid NOT NULL,
  audit_id            bigint NOT NULL,
  at                  timestamptz NOT NULL,
  -- NULL for a system actor (the CLI operator).
  user_id             bigint REFERENCES review_users (user_id),
  role                text NOT NULL,
  action              text NOT NULL,
  -- Whether the access disclosed claim data (a case, its attachments, an unmasked case list).
  phi                 boolean NOT NULL,
  case_id             bigint,
  case_queue          text,
  member_pseudonym    text,
  provider_pseudonym  text,
  ip_pseudonym        text,
  -- E_* code of the work context that accounts for the access; NULL: none did.
  explanation         text,
  detail              jsonb NOT NULL DEFAULT '{}',
  recorded_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, audit_id)
);
CREATE INDEX access_records_user_at ON access_records (user_id, at);
CREATE INDEX access_records_member ON access_records (member_pseudonym, at) WHERE member_pseudonym IS NOT NULL;
CREATE INDEX access_records_provider ON access_records (provider_pseudonym, at) WHERE provider_pseudonym IS NOT NULL;

-- Work context the monitor keeps from the events themselves: queues a user takes cases from, and
-- the cases a user escalated.
CREATE TABLE monitor_user_queues (
  user_id  bigint NOT NULL REFERENCES review_users (user_id),
  queue    text NOT NULL,
  last_at  timestamptz NOT NULL,
  PRIMARY KEY (user_id, queue)
);
CREATE TABLE monitor_escalations (
  user_id  bigint NOT NULL REFERENCES review_users (user_id),
  case_id  bigint NOT NULL,
  at       timestamptz NOT NULL,
  PRIMARY KEY (user_id, case_id)
);

-- Down Migration
DROP TABLE monitor_escalations;
DROP TABLE monitor_user_queues;
DROP TABLE access_records;
