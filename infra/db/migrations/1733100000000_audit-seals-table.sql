-- Up Migration

-- Sealed batches of the review app's audit log (review/services/audit-seal.service.ts): a Merkle
-- root over the audit entries whose ids lie in [first_audit_id, last_audit_id], anchored by the
-- pipeline's anchor worker like a decision batch (same contract calls, same signer). `batches`
-- now holds decision batches only.
--
-- batch_id keeps its derivation: keccak256(abi.encode('claimtrail.audit-log.' || instance id, 0,
-- first_audit_id, last_audit_id)) with the instance id of review_instance, so seals of different
-- databases never share an id on one contract, and ids of seals already on chain do not change.
-- The anchor columns mean what they mean in `batches`.
CREATE TABLE audit_seals (
  batch_id        text PRIMARY KEY,
  first_audit_id  bigint NOT NULL,
  last_audit_id   bigint NOT NULL,
  leaf_count      integer NOT NULL CHECK (leaf_count > 0),
  root            text NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'anchored')),
  chain_id        bigint,
  contract        text,
  tx_hash         text,
  block_number    bigint,
  block_hash      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  anchored_at     timestamptz,
  CHECK (first_audit_id <= last_audit_id),
  UNIQUE (first_audit_id)
);
CREATE INDEX audit_seals_status ON audit_seals (status);

-- Seals stored so far are the `batches` rows under this database's audit pseudo-topic (partition
-- 0, offsets = audit ids). They move with every column; no decision row references them
-- (decisions.batch_id only names decision batches) and anchor_transactions.batch_ids keeps the
-- same ids. A pseudo-topic row of another instance id could not be re-derived here: refuse.
DO $$
DECLARE
  foreign_rows integer;
BEGIN
  SELECT count(*) INTO foreign_rows FROM batches
   WHERE starts_with(topic, 'claimtrail.audit-log.')
     AND (partition <> 0 OR topic <> 'claimtrail.audit-log.' || (SELECT instance_id::text FROM review_instance));
  IF foreign_rows > 0 THEN
    RAISE EXCEPTION '% audit-log batches belong to another review instance or partition; move them by hand', foreign_rows;
  END IF;
END $$;

INSERT INTO audit_seals (batch_id, first_audit_id, last_audit_id, leaf_count, root, status, chain_id, contract,
                         tx_hash, block_number, block_hash, created_at, anchored_at)
SELECT batch_id, first_offset, last_offset, leaf_count, root, status, chain_id, contract,
       tx_hash, block_number, block_hash, created_at, anchored_at
  FROM batches
 WHERE topic = 'claimtrail.audit-log.' || (SELECT instance_id::text FROM review_instance);

DELETE FROM batches WHERE batch_id IN (SELECT batch_id FROM audit_seals);

-- Down Migration
INSERT INTO batches (batch_id, topic, partition, first_offset, last_offset, leaf_count, root, status, chain_id,
                     contract, tx_hash, block_number, block_hash, created_at, anchored_at)
SELECT batch_id, 'claimtrail.audit-log.' || (SELECT instance_id::text FROM review_instance), 0, first_audit_id,
       last_audit_id, leaf_count, root, status, chain_id, contract, tx_hash, block_number, block_hash, created_at,
       anchored_at
  FROM audit_seals;
DROP TABLE audit_seals;
