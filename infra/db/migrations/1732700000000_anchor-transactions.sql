-- Up Migration

-- Every transaction attempt of the anchor signer, written BEFORE it is broadcast (so a crash
-- between signing and sending never loses a nonce or leaves an unknown transaction in flight).
-- One nonce may have several attempts: the first, then fee-bumped replacements. At most one of
-- them is mined; the others end 'replaced'.
--   pending   signed and stored, not yet broadcast
--   sent      broadcast, not mined (or un-mined again by a reorg)
--   mined     in a block, fewer confirmations than required
--   confirmed in a block with the required confirmations (block_hash is that block's)
--   replaced  another attempt with the same nonce was mined
--   failed    mined and reverted, or could not be broadcast (error says why)
CREATE TABLE anchor_transactions (
  tx_hash                   text PRIMARY KEY,
  signer                    text NOT NULL,
  nonce                     bigint NOT NULL,
  attempt                   integer NOT NULL,
  method                    text NOT NULL,
  batch_ids                 text[] NOT NULL DEFAULT '{}',
  raw_tx                    text NOT NULL,
  max_fee_per_gas           numeric(78, 0) NOT NULL,
  max_priority_fee_per_gas  numeric(78, 0) NOT NULL,
  gas_limit                 numeric(78, 0) NOT NULL,
  state                     text NOT NULL CHECK (state IN ('pending', 'sent', 'mined', 'confirmed', 'replaced', 'failed')),
  block_number              bigint,
  block_hash                text,
  gas_used                  numeric(78, 0),
  error                     text,
  created_at                timestamptz NOT NULL DEFAULT now(),
  updated_at                timestamptz NOT NULL DEFAULT now(),
  UNIQUE (signer, nonce, attempt)
);
CREATE INDEX anchor_transactions_open ON anchor_transactions (signer, nonce) WHERE state IN ('pending', 'sent', 'mined');

-- Down Migration
DROP TABLE anchor_transactions;
