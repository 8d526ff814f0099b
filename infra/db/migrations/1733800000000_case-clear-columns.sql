-- Up Migration

-- No claim field in clear in `cases` (docs/privacy.md): case opening (review/services/
-- case-opening.service.ts) no longer writes member_id, provider_npi or amount, and priority is
-- score x (amount band + 1), never score x amount. Rows opened by earlier releases still hold the
-- three values; they cannot be cleared here, because their keyed hashes (member_hmac /
-- provider_hmac) need the review index key, which never reaches SQL. The review server's start-up
-- step (review/services/case-identifier-index.ts `fill`) hashes them from claim_payloads'
-- lookup columns, sets the three columns to NULL and re-derives their priority; this partial
-- index lets it find them. The columns stay (NULL) so a rolling upgrade's older process can
-- still insert; a later migration may drop them.
CREATE INDEX cases_clear_claim_fields ON cases (case_id)
  WHERE member_id IS NOT NULL OR provider_npi IS NOT NULL OR amount IS NOT NULL;
COMMENT ON COLUMN cases.member_id IS 'deprecated, NULL: read from claim_payloads at view time; search via member_hmac';
COMMENT ON COLUMN cases.provider_npi IS 'deprecated, NULL: read from claim_payloads at view time; search via provider_hmac';
COMMENT ON COLUMN cases.amount IS 'deprecated, NULL: read from claim_payloads.total_charged at view time';
COMMENT ON COLUMN cases.priority IS 'score x (amount band + 1), band 0 below $100 ... 5 from $1,000,000 (review/services/queue-routing.ts)';

-- Down Migration
COMMENT ON COLUMN cases.priority IS NULL;
COMMENT ON COLUMN cases.amount IS NULL;
COMMENT ON COLUMN cases.provider_npi IS NULL;
COMMENT ON COLUMN cases.member_id IS NULL;
DROP INDEX cases_clear_claim_fields;
