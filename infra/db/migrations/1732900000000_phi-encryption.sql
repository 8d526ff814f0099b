-- Up Migration

-- Privacy at rest (docs/privacy.md). Claim payloads (PHI) are stored encrypted with AES-256-GCM
-- under one data key per member; data keys are stored only wrapped by the master key
-- (PHI_MASTER_KEY / PHI_MASTER_KEY_FILE, or a KMS). Erasing a member (`claimtrail erase`) deletes
-- its data key, so its payloads can never be decrypted again (crypto-shredding), and clears its
-- member id; decisions, leaves, batches and proofs are untouched and still verify.

-- Which master key wraps this database's data keys (fingerprint only): a process started with
-- another master key refuses to run instead of silently writing under a second key.
CREATE TABLE phi_keyring (
  singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  kms            text NOT NULL,
  master_key_id  text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);

-- One data key per member, wrapped (AES-256-GCM under the master key, AAD = key id). Deleting a
-- row crypto-shreds every payload encrypted under it.
CREATE TABLE member_data_keys (
  key_id         uuid PRIMARY KEY,
  member_id      text NOT NULL UNIQUE,
  wrapped_key    bytea NOT NULL,
  kms            text NOT NULL,
  master_key_id  text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);

-- ciphertext: version 0x01 | 12-byte nonce | AES-256-GCM ciphertext | 16-byte tag, AAD =
-- 'claimtrail-phi-payload-v1' NUL decision_id NUL key_id. claim_bytes is kept only for rows written
-- in clear before this migration (or by an older scoring process during a rolling upgrade) until
-- the scoring stage encrypts them at start; never both. claim_type and total_charged are the two
-- non-identifying fields the review trigger needs, so it no longer reads the payload.
ALTER TABLE claim_payloads
  ALTER COLUMN claim_bytes DROP NOT NULL,
  ALTER COLUMN member_id DROP NOT NULL,
  ADD COLUMN claim_type text,
  ADD COLUMN total_charged numeric(14, 2),
  ADD COLUMN key_id uuid REFERENCES member_data_keys (key_id) ON DELETE SET NULL,
  ADD COLUMN ciphertext bytea,
  ADD COLUMN erased_at timestamptz,
  ADD CONSTRAINT claim_payloads_clear_or_sealed CHECK (claim_bytes IS NULL OR ciphertext IS NULL);
CREATE INDEX claim_payloads_key ON claim_payloads (key_id);

-- Rows stored in clear so far: copy their claim type and total into the clear columns (their
-- payloads are encrypted by the scoring stage at its next start).
CREATE FUNCTION pg_temp.phi_legacy_fields(bytes bytea, OUT claim_type text, OUT total_charged numeric) LANGUAGE plpgsql AS $$
DECLARE
  payload jsonb;
BEGIN
  payload := convert_from(bytes, 'UTF8')::jsonb;
  claim_type := payload ->> 'claimType';
  total_charged := round((payload ->> 'totalCharged')::numeric, 2);
EXCEPTION WHEN others THEN
  claim_type := NULL;
  total_charged := NULL;
END $$;
UPDATE claim_payloads p SET (claim_type, total_charged) = (SELECT f.claim_type, f.total_charged FROM pg_temp.phi_legacy_fields(p.claim_bytes) f)
 WHERE p.claim_bytes IS NOT NULL;

-- Opens a case from the clear columns; parses claim_bytes only for a row still in clear that has
-- no claim_type (written by a scoring process of an older version during a rolling upgrade).
CREATE OR REPLACE FUNCTION review_open_case() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  payload   jsonb;
  p         claim_payloads%ROWTYPE;
  q         text;
  rules     text[];
  amt       numeric;
  lob       text;
BEGIN
  IF NEW.outcome NOT IN ('review', 'flag') THEN
    RETURN NEW;
  END IF;
  SELECT * INTO p FROM claim_payloads WHERE decision_id = NEW.decision_id;
  lob := p.claim_type;
  amt := p.total_charged;
  IF lob IS NULL AND p.claim_bytes IS NOT NULL THEN
    BEGIN
      payload := convert_from(p.claim_bytes, 'UTF8')::jsonb;
      amt := (payload ->> 'totalCharged')::numeric;
      lob := payload ->> 'claimType';
    EXCEPTION WHEN others THEN
      amt := NULL;
      lob := NULL;
    END;
  END IF;
  SELECT coalesce(array_agg(r ->> 'code'), '{}') INTO rules
    FROM jsonb_array_elements(NEW.reasons) AS r WHERE r ->> 'code' LIKE 'R\_%';
  SELECT rr.queue INTO q FROM review_queue_rules rr
   WHERE (rr.line_of_business IS NULL OR rr.line_of_business = lob)
     AND (rr.min_score IS NULL OR NEW.score >= rr.min_score)
     AND (rr.max_score IS NULL OR NEW.score < rr.max_score)
     AND (rr.outcome IS NULL OR rr.outcome = NEW.outcome)
     AND (rr.rule_code IS NULL OR EXISTS (SELECT 1 FROM unnest(rules) AS code WHERE code LIKE rr.rule_code))
   ORDER BY rr.position
   LIMIT 1;
  q := coalesce(q, 'review');
  INSERT INTO cases (decision_id, claim_id, queue, outcome, score, amount, priority, line_of_business,
                     member_id, provider_npi, rule_codes, created_at, due_at)
  SELECT NEW.decision_id, NEW.claim_id, q, NEW.outcome, NEW.score, amt, NEW.score * coalesce(amt, 1),
         lob, p.member_id, p.provider_npi, rules, now(),
         now() + make_interval(hours => rq.sla_hours)
    FROM review_queues rq WHERE rq.name = q
  ON CONFLICT (decision_id) DO NOTHING;
  RETURN NEW;
END $$;

-- Down Migration
-- Encrypted payloads cannot be turned back into clear text in SQL (the key is not here): refuse.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM claim_payloads WHERE ciphertext IS NOT NULL OR claim_bytes IS NULL) THEN
    RAISE EXCEPTION 'claim_payloads holds encrypted or erased payloads; migrating down would lose them';
  END IF;
END $$;
CREATE OR REPLACE FUNCTION review_open_case() RETURNS trigger LANGUAGE plpgsql AS $$
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
  SELECT rr.queue INTO q FROM review_queue_rules rr
   WHERE (rr.line_of_business IS NULL OR rr.line_of_business = payload ->> 'claimType')
     AND (rr.min_score IS NULL OR NEW.score >= rr.min_score)
     AND (rr.max_score IS NULL OR NEW.score < rr.max_score)
     AND (rr.outcome IS NULL OR rr.outcome = NEW.outcome)
     AND (rr.rule_code IS NULL OR EXISTS (SELECT 1 FROM unnest(rules) AS code WHERE code LIKE rr.rule_code))
   ORDER BY rr.position
   LIMIT 1;
  q := coalesce(q, 'review');
  INSERT INTO cases (decision_id, claim_id, queue, outcome, score, amount, priority, line_of_business,
                     member_id, provider_npi, rule_codes, created_at, due_at)
  SELECT NEW.decision_id, NEW.claim_id, q, NEW.outcome, NEW.score, amt, NEW.score * coalesce(amt, 1),
         payload ->> 'claimType', p.member_id, p.provider_npi, rules, now(),
         now() + make_interval(hours => rq.sla_hours)
    FROM review_queues rq WHERE rq.name = q
  ON CONFLICT (decision_id) DO NOTHING;
  RETURN NEW;
END $$;
ALTER TABLE claim_payloads
  DROP CONSTRAINT claim_payloads_clear_or_sealed,
  DROP COLUMN erased_at,
  DROP COLUMN ciphertext,
  DROP COLUMN key_id,
  DROP COLUMN total_charged,
  DROP COLUMN claim_type,
  ALTER COLUMN member_id SET NOT NULL,
  ALTER COLUMN claim_bytes SET NOT NULL;
DROP TABLE member_data_keys;
DROP TABLE phi_keyring;
