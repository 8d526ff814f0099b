-- Up Migration

-- The investigator review app (review/): users and their credentials, cases opened from
-- flagged and review-outcome decisions, notes, dispositions and an append-only audit log.
-- Nothing here is written by the pipeline: cases are opened by a trigger on `decisions`.

CREATE TABLE review_users (
  user_id        bigserial PRIMARY KEY,
  name           text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._-]{1,63}$'),
  role           text NOT NULL CHECK (role IN ('investigator', 'supervisor', 'compliance', 'admin')),
  -- scrypt$N$r$p$salt-hex$hash-hex; NULL for token-only (service) users.
  password_hash  text,
  disabled       boolean NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL DEFAULT now()
);

-- API tokens and browser sessions are both stored as sha256 of the secret only.
CREATE TABLE review_api_tokens (
  token_hash    text PRIMARY KEY,
  user_id       bigint NOT NULL REFERENCES review_users (user_id),
  label         text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz
);

CREATE TABLE review_sessions (
  token_hash   text PRIMARY KEY,
  user_id      bigint NOT NULL REFERENCES review_users (user_id),
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL
);
CREATE INDEX review_sessions_expires ON review_sessions (expires_at);

-- Work queues and their service-level target (hours from case creation to disposition).
CREATE TABLE review_queues (
  name       text PRIMARY KEY,
  title      text NOT NULL,
  sla_hours  integer NOT NULL CHECK (sla_hours > 0),
  rank       integer NOT NULL
);
INSERT INTO review_queues (name, title, sla_hours, rank) VALUES
  ('rule-hits', 'Hard rule hits', 24, 1),
  ('flagged', 'Flagged by score', 48, 2),
  ('review', 'Review band', 120, 3);

-- decision_id has no foreign key on purpose: the decision index mirrors the log and is checked
-- by `claimtrail audit`, which must be able to see (not be prevented from seeing) a row that was
-- deleted behind its back. The case view reports a missing decision as such.
CREATE TABLE cases (
  case_id        bigserial PRIMARY KEY,
  decision_id    text NOT NULL UNIQUE,
  claim_id       text NOT NULL,
  queue          text NOT NULL REFERENCES review_queues (name),
  outcome        text NOT NULL CHECK (outcome IN ('review', 'flag')),
  score          double precision NOT NULL,
  -- totalCharged in USD from the claim payload (NULL when the payload is missing).
  amount         numeric(14, 2),
  -- score x amount (score alone without an amount): higher is worked first.
  priority       double precision NOT NULL,
  line_of_business text,
  member_id      text,
  provider_npi   text,
  rule_codes     text[] NOT NULL DEFAULT '{}',
  status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'assigned', 'snoozed', 'escalated', 'closed')),
  assignee_id    bigint REFERENCES review_users (user_id),
  assigned_at    timestamptz,
  snoozed_until  timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  due_at         timestamptz NOT NULL,
  closed_at      timestamptz,
  CHECK ((status = 'snoozed') = (snoozed_until IS NOT NULL))
);
CREATE INDEX cases_workable ON cases (priority DESC, created_at) WHERE status IN ('open', 'snoozed');
CREATE INDEX cases_assignee ON cases (assignee_id) WHERE status = 'assigned';
CREATE INDEX cases_member ON cases (member_id);
CREATE INDEX cases_provider ON cases (provider_npi);
CREATE INDEX claim_payloads_member ON claim_payloads (member_id);
CREATE INDEX claim_payloads_provider ON claim_payloads (provider_npi);

-- Opens a case for every review / flag decision as the batcher indexes it. The claim payload is
-- written by the scoring stage before its Kafka transaction commits, so it is normally present;
-- a payload that is missing or unreadable only leaves amount and line of business empty.
CREATE FUNCTION review_open_case() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  payload   jsonb;
  p         claim_payloads%ROWTYPE;
  q         text;
  rules     text[];
  amt       numeric;
BEGIN
  IF NEW.outcome NOT IN ('review', 'flag') THEN
    RETURN NEW;
  END IF;
  SELECT * INTO p FROM claim_payloads WHERE decision_id = NEW.decision_id;
  BEGIN
    payload := convert_from(p.claim_bytes, 'UTF8')::jsonb;
    amt := (payload ->> 'totalCharged')::numeric;
  EXCEPTION WHEN others THEN
    payload := NULL;
    amt := NULL;
  END;
  SELECT coalesce(array_agg(r ->> 'code'), '{}') INTO rules
    FROM jsonb_array_elements(NEW.reasons) AS r WHERE r ->> 'code' LIKE 'R\_%';
  q := CASE WHEN cardinality(rules) > 0 THEN 'rule-hits' WHEN NEW.outcome = 'flag' THEN 'flagged' ELSE 'review' END;
  INSERT INTO cases (decision_id, claim_id, queue, outcome, score, amount, priority, line_of_business,
                     member_id, provider_npi, rule_codes, created_at, due_at)
  SELECT NEW.decision_id, NEW.claim_id, q, NEW.outcome, NEW.score, amt, NEW.score * coalesce(amt, 1),
         payload ->> 'claimType', p.member_id, p.provider_npi, rules, now(),
         now() + make_interval(hours => rq.sla_hours)
    FROM review_queues rq WHERE rq.name = q
  ON CONFLICT (decision_id) DO NOTHING;
  RETURN NEW;
END $$;

CREATE TRIGGER decisions_open_case AFTER INSERT ON decisions
  FOR EACH ROW EXECUTE FUNCTION review_open_case();

CREATE TABLE case_notes (
  note_id     bigserial PRIMARY KEY,
  case_id     bigint NOT NULL REFERENCES cases (case_id),
  user_id     bigint NOT NULL REFERENCES review_users (user_id),
  body        text NOT NULL CHECK (length(btrim(body)) > 0),
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_notes_case ON case_notes (case_id);

-- One row per disposition; `published_at` is set once the verdict is on the verdicts topic
-- (rows still NULL are re-published when the review server starts: a small outbox).
CREATE TABLE dispositions (
  disposition_id  bigserial PRIMARY KEY,
  case_id         bigint NOT NULL REFERENCES cases (case_id),
  decision_id     text NOT NULL,
  claim_id        text NOT NULL,
  user_id         bigint NOT NULL REFERENCES review_users (user_id),
  disposition     text NOT NULL CHECK (disposition IN ('confirmed_fraud', 'false_positive', 'needs_information', 'escalated')),
  note            text NOT NULL CHECK (length(btrim(note)) > 0),
  created_at      timestamptz NOT NULL DEFAULT now(),
  published_at    timestamptz
);
CREATE INDEX dispositions_case ON dispositions (case_id);
CREATE INDEX dispositions_unpublished ON dispositions (disposition_id) WHERE published_at IS NULL;

-- A random identity of this database's audit log. Sealed audit batches live in `batches` under
-- the pseudo-topic `claimtrail.audit-log.<instance id>`, so two databases (staging, a restore, a
-- test schema) anchoring to the same contract never produce the same batch id.
CREATE TABLE review_instance (
  singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  instance_id  uuid NOT NULL DEFAULT gen_random_uuid()
);
INSERT INTO review_instance DEFAULT VALUES;

-- Every view of claim data and every action: who, what, when, from where. Append-only.
CREATE TABLE audit_log (
  audit_id     bigserial PRIMARY KEY,
  at           timestamptz NOT NULL DEFAULT now(),
  user_id      bigint REFERENCES review_users (user_id),
  user_name    text NOT NULL,
  role         text NOT NULL,
  action       text NOT NULL,
  target_type  text,
  target_id    text,
  ip           text,
  details      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at DESC);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Down Migration
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE review_instance;
DROP TABLE dispositions;
DROP TABLE case_notes;
DROP TRIGGER decisions_open_case ON decisions;
DROP FUNCTION review_open_case();
DROP TABLE cases;
DROP INDEX claim_payloads_provider;
DROP INDEX claim_payloads_member;
DROP TABLE review_queues;
DROP TABLE review_sessions;
DROP TABLE review_api_tokens;
DROP TABLE review_users;
