-- Up Migration

-- The access-events outbox (monitoring/access-relay.ts): one row per audit entry, inserted by the
-- same statement that appends the entry (review/repositories/audit.repository.ts), so an entry and
-- its outbox row commit together or not at all. The relay publishes rows to the access-events topic
-- in audit id order and sets `published_at`.
--
-- The work context of a case entry is captured at the moment of access (queue, assignee, status
-- after the action): a later reassignment must not change how an earlier view is explained.
-- No identifier is stored here: the relay pseudonymises the member and provider of the case from
-- `claim_payloads` when it publishes.
CREATE TABLE access_outbox (
  audit_id          bigint PRIMARY KEY REFERENCES audit_log (audit_id),
  case_id           bigint,
  case_queue        text,
  case_assignee_id  bigint,
  case_status       text,
  published_at      timestamptz
);
CREATE INDEX access_outbox_unpublished ON access_outbox (audit_id) WHERE published_at IS NULL;

-- Down Migration
DROP TABLE access_outbox;
