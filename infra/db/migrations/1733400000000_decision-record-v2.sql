-- Up Migration

-- Decision record v2 (docs/proof-format-v2.md, "Identifiers"; docs/privacy.md).

-- This installation's identity: one row, created once. instance_id is 32 random bytes as 0x + 64
-- lowercase hex digits. PostgreSQL core has no gen_random_bytes (pgcrypto is an extension, and
-- an extension lives in one schema of a database that several claimtrail schemas may share), so
-- the bytes are sha256 over three gen_random_uuid() values: 366 bits from the server's strong RNG
-- (pg_strong_random) folded into 256.
CREATE TABLE claimtrail_instance (
  singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  instance_id  text NOT NULL CHECK (instance_id ~ '^0x[0-9a-f]{64}$'),
  created_at   timestamptz NOT NULL DEFAULT now()
);
INSERT INTO claimtrail_instance (instance_id)
VALUES ('0x' || encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')), 'hex'));

-- v2 rows: format 'claimtrail-decision-v2', the installation and scoring run their id derives
-- from, reasons as codes and contributions only, and no salt (it is sealed in claim_payloads).
-- v1 rows keep format NULL until the scoring role's legacy step (pipeline/legacy-decisions.ts)
-- moves their reason texts and salt into the sealed store; it then sets salt NULL and keeps the
-- v1 leaf's reasons hash in reasons_v1_hash (no more than `leaf` already discloses), so the row
-- still recomputes to its leaf.
ALTER TABLE decisions
  ALTER COLUMN salt DROP NOT NULL,
  ADD COLUMN format text CHECK (format IS NULL OR format = 'claimtrail-decision-v2'),
  ADD COLUMN instance_id text CHECK (instance_id IS NULL OR instance_id ~ '^0x[0-9a-f]{64}$'),
  ADD COLUMN run_id text CHECK (run_id IS NULL OR run_id ~ '^[a-z0-9._-]{1,64}$'),
  ADD COLUMN reasons_v1_hash text CHECK (reasons_v1_hash IS NULL OR reasons_v1_hash ~ '^0x[0-9a-f]{64}$'),
  ADD CONSTRAINT decisions_v2_fields CHECK (format IS NULL OR (instance_id IS NOT NULL AND run_id IS NOT NULL AND salt IS NULL)),
  ADD CONSTRAINT decisions_salt_or_hash CHECK (format IS NOT NULL OR salt IS NOT NULL OR reasons_v1_hash IS NOT NULL);
CREATE INDEX decisions_legacy_v1 ON decisions (decision_id) WHERE format IS NULL AND salt IS NOT NULL;

-- Sealed beside the claim, under the member's data key (AAD binds decision id, key id and
-- purpose): the commitment salt, and for v1 decisions the reasons with their texts. Erasing the
-- member deletes the key, and both die with it.
ALTER TABLE claim_payloads
  ADD COLUMN salt_sealed bytea,
  ADD COLUMN reasons_v1_sealed bytea;

-- Down Migration
-- A v1 row whose salt and texts were moved into the sealed store cannot get them back in SQL
-- (the key is not here), and v2 rows never had them: refuse rather than lose them.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM decisions WHERE salt IS NULL) THEN
    RAISE EXCEPTION 'decisions holds v2 rows or v1 rows whose salt is sealed; migrating down would lose them';
  END IF;
END $$;
ALTER TABLE claim_payloads
  DROP COLUMN reasons_v1_sealed,
  DROP COLUMN salt_sealed;
DROP INDEX decisions_legacy_v1;
ALTER TABLE decisions
  DROP CONSTRAINT decisions_salt_or_hash,
  DROP CONSTRAINT decisions_v2_fields,
  DROP COLUMN reasons_v1_hash,
  DROP COLUMN run_id,
  DROP COLUMN instance_id,
  DROP COLUMN format,
  ALTER COLUMN salt SET NOT NULL;
DROP TABLE claimtrail_instance;
