-- Up Migration

-- Claim payloads (PHI) exactly as received, keyed by the deterministic decision id. Written by
-- the scoring stage before its Kafka transaction commits; a re-run after a crash writes the
-- same row again. Never leaves this database (no chain, no logs).
CREATE TABLE claim_payloads (
  decision_id   text PRIMARY KEY,
  claim_id      text NOT NULL,
  member_id     text NOT NULL,
  provider_npi  text NOT NULL,
  claim_bytes   bytea NOT NULL,
  received_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX claim_payloads_claim_id ON claim_payloads (claim_id);

-- Merkle batches: a contiguous offset range of one partition of the decisions topic.
CREATE TABLE batches (
  batch_id        text PRIMARY KEY,
  topic           text NOT NULL,
  partition       integer NOT NULL,
  first_offset    bigint NOT NULL,
  last_offset     bigint NOT NULL,
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
  CHECK (first_offset <= last_offset),
  UNIQUE (topic, partition, first_offset)
);
CREATE INDEX batches_status ON batches (status);

-- The decision index: one row per record of the decisions topic, written together with the
-- batch that holds it (same PostgreSQL transaction), so the index mirrors the log exactly.
CREATE TABLE decisions (
  decision_id       text PRIMARY KEY,
  claim_id          text NOT NULL,
  score             double precision NOT NULL,
  rf_score          double precision NOT NULL,
  nn_score          double precision NOT NULL,
  outcome           text NOT NULL CHECK (outcome IN ('approve', 'review', 'flag')),
  reasons           jsonb NOT NULL,
  model_hash        text NOT NULL,
  decided_at        timestamptz NOT NULL,
  decided_at_text   text NOT NULL,
  input_topic       text NOT NULL,
  input_partition   integer NOT NULL,
  input_offset      bigint NOT NULL,
  claim_commitment  text NOT NULL,
  salt              text NOT NULL,
  correlation_id    text,
  log_topic         text NOT NULL,
  log_partition     integer NOT NULL,
  log_offset        bigint NOT NULL,
  leaf              text NOT NULL,
  batch_id          text NOT NULL REFERENCES batches (batch_id),
  leaf_index        integer NOT NULL,
  flagged_tx_hash   text,
  flagged_block     bigint,
  UNIQUE (log_topic, log_partition, log_offset),
  UNIQUE (batch_id, leaf_index)
);
CREATE INDEX decisions_claim_id ON decisions (claim_id);
CREATE INDEX decisions_outcome ON decisions (outcome) WHERE outcome <> 'approve';

-- Down Migration
DROP TABLE decisions;
DROP TABLE batches;
DROP TABLE claim_payloads;
