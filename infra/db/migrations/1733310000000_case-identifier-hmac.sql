-- Up Migration

-- Keyed-hash search columns for cases: HMAC-SHA256 of the member id and of the billing NPI under
-- the review app's index key (REVIEW_INDEX_KEY / REVIEW_INDEX_KEY_FILE), written by the review
-- server in TypeScript (review/services/case-identifier-index.ts) at start and before each
-- identifier search; the key never reaches SQL. `index_key_id` names the key the row was hashed
-- under, so a new key re-hashes every row. The member / NPI filters read only these columns: the
-- indexes on the clear columns go.
ALTER TABLE cases
  ADD COLUMN member_hmac   text,
  ADD COLUMN provider_hmac text,
  ADD COLUMN index_key_id  text;
CREATE INDEX cases_member_hmac ON cases (member_hmac);
CREATE INDEX cases_provider_hmac ON cases (provider_hmac);
CREATE INDEX cases_unindexed ON cases (case_id) WHERE index_key_id IS NULL;
DROP INDEX cases_member;
DROP INDEX cases_provider;

-- Down Migration
CREATE INDEX cases_member ON cases (member_id);
CREATE INDEX cases_provider ON cases (provider_npi);
DROP INDEX cases_unindexed;
DROP INDEX cases_provider_hmac;
DROP INDEX cases_member_hmac;
ALTER TABLE cases DROP COLUMN index_key_id, DROP COLUMN provider_hmac, DROP COLUMN member_hmac;
