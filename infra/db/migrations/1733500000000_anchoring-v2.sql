-- Up Migration

-- Anchoring with proof format v2 (docs/proof-format-v2.md, docs/anchor-transactions.md): decision
-- batches of v2 leaves, epochs (many batch roots and audit seals under one root, one
-- `anchorEpoch` transaction) and per-block flagged trees (`anchorFlaggedRoot`). Written by the
-- batching stage (leaf_encoding) and the anchor worker (everything else), read by the proof
-- exporter through anchoring/epoch.repository.ts and anchoring/flagged-root.repository.ts.

-- Which leaf encoding a batch (and each of its decisions) was built with. Rows stored before
-- this migration are v1 leaves, including v2 records batched through the interim mapping
-- (anchoring/interim-leaf.ts): they stay v1 forever and are anchored on the v1 contract.
ALTER TABLE batches
  ADD COLUMN leaf_encoding text NOT NULL DEFAULT 'claimtrail-leaf-v1'
    CHECK (leaf_encoding IN ('claimtrail-leaf-v1', 'claimtrail-leaf-v2'));
ALTER TABLE decisions
  ADD COLUMN leaf_encoding text NOT NULL DEFAULT 'claimtrail-leaf-v1'
    CHECK (leaf_encoding IN ('claimtrail-leaf-v1', 'claimtrail-leaf-v2')),
  -- A v2 leaf binds the installation, the v1 leaf cannot: only v2 records get v2 leaves.
  ADD CONSTRAINT decisions_v2_leaf_needs_v2_record CHECK (leaf_encoding = 'claimtrail-leaf-v1' OR format IS NOT NULL);
CREATE INDEX batches_pending_encoding ON batches (leaf_encoding) WHERE status = 'pending';

-- One epoch: the root of a StandardMerkleTree over batch entries (anchoring/core/epoch.ts),
-- anchored with anchorEpoch(epoch_id, root, batch_count, leaf_count) on DecisionAnchorV2 under
-- the anchorer's address. epoch_id = keccak256(abi.encode(keccak256("claimtrail-epoch-v2"),
-- instance_id, uint64 sequence)); sequence counts this installation's epochs from 0.
--
-- Life: written `pending` with its entries in one transaction before anything is signed, then
-- `anchored` (with where it landed) once the transaction is confirmed. A pending epoch that no
-- stored transaction attempt names (anchor_transactions.batch_ids) was never signed: the worker
-- deletes it and builds a new one under the same sequence with whatever is pending then, which is
-- how a backlog after a chain outage goes out as one epoch. Once signed, an epoch never changes:
-- after a reorg it goes back to `pending` and the same id and root are sent again.
CREATE TABLE epochs (
  epoch_id      text PRIMARY KEY CHECK (epoch_id ~ '^0x[0-9a-f]{64}$'),
  instance_id   text NOT NULL CHECK (instance_id ~ '^0x[0-9a-f]{64}$'),
  sequence      bigint NOT NULL CHECK (sequence >= 0),
  root          text NOT NULL CHECK (root ~ '^0x[0-9a-f]{64}$'),
  batch_count   integer NOT NULL CHECK (batch_count > 0),
  leaf_count    bigint NOT NULL CHECK (leaf_count > 0),
  status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'anchored')),
  chain_id      bigint,
  contract      text,
  anchorer      text,
  tx_hash       text,
  block_number  bigint,
  block_hash    text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  anchored_at   timestamptz,
  UNIQUE (instance_id, sequence),
  CHECK (status = 'pending' OR (chain_id IS NOT NULL AND contract IS NOT NULL AND anchorer IS NOT NULL
                                AND tx_hash IS NOT NULL AND block_number IS NOT NULL AND block_hash IS NOT NULL))
);
CREATE INDEX epochs_status ON epochs (status);

-- The entries of an epoch in tree order (`position`, 0-based): a v2 decision batch (batch_id) or
-- an audit seal (seal_id), with the entry's fields as the epoch tree hashed them, so the exporter
-- rebuilds the tree from this table alone. entry_batch_id is the entry's batch id v2: the decision
-- batch's own id, or for a seal batchIdV2(instance, audit pseudo-topic, 0, first id, last id).
-- Order: decision batches by partition and first offset, then audit seals by first audit id.
CREATE TABLE epoch_batches (
  epoch_id        text NOT NULL REFERENCES epochs (epoch_id) ON DELETE CASCADE,
  position        integer NOT NULL CHECK (position >= 0),
  batch_id        text UNIQUE REFERENCES batches (batch_id),
  seal_id         text UNIQUE REFERENCES audit_seals (batch_id),
  entry_batch_id  text NOT NULL CHECK (entry_batch_id ~ '^0x[0-9a-f]{64}$'),
  topic           text NOT NULL,
  partition       integer NOT NULL CHECK (partition >= 0),
  first_offset    bigint NOT NULL,
  last_offset     bigint NOT NULL,
  leaf_count      integer NOT NULL CHECK (leaf_count > 0),
  root            text NOT NULL,
  PRIMARY KEY (epoch_id, position),
  CHECK ((batch_id IS NULL) <> (seal_id IS NULL)),
  CHECK (first_offset <= last_offset)
);

-- One per-block flagged tree: a StandardMerkleTree over the v2 leaves of the flagged decisions
-- waiting when a flagged job ran, in decision-id order (anchoring/core/flagged-tree.ts), anchored
-- with anchorFlaggedRoot(root, leaf_count). Same life as an epoch: pending before signing,
-- deleted and rebuilt if never signed, re-sent unchanged after a reorg.
CREATE TABLE flagged_roots (
  root          text PRIMARY KEY CHECK (root ~ '^0x[0-9a-f]{64}$'),
  leaf_count    integer NOT NULL CHECK (leaf_count > 0),
  status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'anchored')),
  chain_id      bigint,
  contract      text,
  anchorer      text,
  tx_hash       text,
  block_number  bigint,
  block_hash    text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  anchored_at   timestamptz,
  CHECK (status = 'pending' OR (chain_id IS NOT NULL AND contract IS NOT NULL AND anchorer IS NOT NULL
                                AND tx_hash IS NOT NULL AND block_number IS NOT NULL AND block_hash IS NOT NULL))
);
CREATE INDEX flagged_roots_status ON flagged_roots (status);

-- Each flagged v2 decision's place in its flagged tree (0-based, decision-id order). A decision is
-- in at most one flagged tree; no on-chain slot per decision.
CREATE TABLE flagged_members (
  decision_id  text PRIMARY KEY REFERENCES decisions (decision_id),
  root         text NOT NULL REFERENCES flagged_roots (root) ON DELETE CASCADE,
  position     integer NOT NULL CHECK (position >= 0),
  UNIQUE (root, position)
);
CREATE INDEX decisions_flagged_v2 ON decisions (decision_id) WHERE outcome = 'flag' AND leaf_encoding = 'claimtrail-leaf-v2';

-- Down Migration
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM batches WHERE leaf_encoding <> 'claimtrail-leaf-v1') THEN
    RAISE EXCEPTION 'batches holds v2 leaves; migrating down would lose their encoding';
  END IF;
END $$;
DROP INDEX decisions_flagged_v2;
DROP TABLE flagged_members;
DROP TABLE flagged_roots;
DROP TABLE epoch_batches;
DROP TABLE epochs;
DROP INDEX batches_pending_encoding;
ALTER TABLE decisions DROP CONSTRAINT decisions_v2_leaf_needs_v2_record, DROP COLUMN leaf_encoding;
ALTER TABLE batches DROP COLUMN leaf_encoding;
