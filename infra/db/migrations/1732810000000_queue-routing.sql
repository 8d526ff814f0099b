-- Up Migration

-- Queue routing rules: which queue a new case goes to, by line of business (the claim's
-- claimType), score band, outcome and rule hit. Rules are tried in ascending `position`; the
-- first whose every non-NULL condition holds wins; when none does, the case goes to `review`.
-- The seeded rules reproduce the original routing: any hard rule hit -> rule-hits, flag ->
-- flagged, otherwise review. Add queues to review_queues and rules here to route more finely,
-- e.g. INSERT INTO review_queue_rules (position, queue, line_of_business) VALUES (5, 'institutional', 'institutional').
CREATE TABLE review_queue_rules (
  rule_id           serial PRIMARY KEY,
  position          integer NOT NULL UNIQUE,
  queue             text NOT NULL REFERENCES review_queues (name),
  line_of_business  text,
  min_score         double precision CHECK (min_score BETWEEN 0 AND 1),
  max_score         double precision CHECK (max_score BETWEEN 0 AND 1),
  outcome           text CHECK (outcome IN ('review', 'flag')),
  -- LIKE pattern one of the decision's R_* reason codes must match ('R\_%' = any rule hit).
  rule_code         text,
  CHECK (min_score IS NULL OR max_score IS NULL OR min_score < max_score)
);
INSERT INTO review_queue_rules (position, queue, rule_code, outcome) VALUES
  (100, 'rule-hits', 'R\_%', NULL),
  (200, 'flagged', NULL, 'flag'),
  (300, 'review', NULL, NULL);

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

-- Down Migration
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
DROP TABLE review_queue_rules;
