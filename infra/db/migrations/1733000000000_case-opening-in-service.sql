-- Up Migration

-- Review cases are opened by the review app's CaseOpeningService (review/services/case-opening.service.ts)
-- in the batching stage's transaction that records the decisions, so queue routing, priority and
-- SLA are TypeScript with unit tests. The trigger on `decisions` that did the same is dropped.
DROP TRIGGER decisions_open_case ON decisions;
DROP FUNCTION review_open_case();

-- Down Migration
-- The trigger as 1732900000000_phi-encryption.sql defined it. A batching stage that also opens
-- cases then finds them opened already (ON CONFLICT DO NOTHING): harmless.
CREATE FUNCTION review_open_case() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER decisions_open_case AFTER INSERT ON decisions
  FOR EACH ROW EXECUTE FUNCTION review_open_case();
