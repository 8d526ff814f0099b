/**
 * Every stable error code claimtrail throws, registered once. `ClaimtrailError` accepts only
 * these, so a new code is added here (with its meaning) or the typecheck fails. Operators and
 * tests match on the code, never on the message.
 *
 * The pure anchoring core (anchoring/core/errors.ts) keeps its own error classes so it can run
 * without the app; its codes are registered here too, and a test checks the two lists agree.
 */
export const ERROR_CODES = {
  // Configuration and callers.
  CONFIG_INVALID: 'an environment variable or flag holds a bad value',
  INVALID_ARGUMENT: 'the caller passed something we cannot use (bad flag, file, id)',
  INVARIANT_VIOLATED: 'an internal guarantee did not hold: a bug in claimtrail',
  STACK_UNAVAILABLE: 'a local service of the stack could not be started or reached',
  CHECK_FAILED: 'a check run on purpose found a discrepancy (audit)',

  // Kafka access (exit 3, like an unavailable service: nothing to retry until an operator acts).
  KAFKA_AUTH_FAILED: 'the Kafka brokers refused our SASL credentials or mechanism',
  KAFKA_TLS_FAILED: 'TLS to a Kafka broker failed: its certificate is not trusted, or it refused ours',

  // Claims, decisions and models.
  DECISION_FORMAT_INVALID: 'a decisions record is not a decision of the wire format',
  MODEL_LOAD_FAILED: 'a model bundle is missing, altered or of another format',
  EXCLUSION_LIST_INVALID: 'an exclusion list file cannot be read as an OIG LEIE CSV',

  // Decision index and batches.
  BATCH_OVERLAP: 'a batch overlaps an offset range already stored',
  BATCH_UNKNOWN: 'no batch with that id is stored',
  DECISION_UNKNOWN: 'no decision with that id is in the decision index',
  BATCH_ROOT_CONFLICT: 'the chain already holds a different root under this batch id',
  EPOCH_ROOT_CONFLICT: 'the chain already holds a different root under this epoch id for our anchorer',
  FLAGGED_ROOT_CONFLICT: 'the chain holds our flagged root with a different count',
  LOG_READ_FAILED: 'the decisions log could not be read back',
  LOG_IDENTITY_CHANGED: 'the Kafka cluster or the decisions topic is not the one this schema\'s batches describe (other cluster id, or topic recreated); `claimtrail rebaseline --confirm` accepts it',
  PROOF_UNAVAILABLE: 'no proof can be made for that decision yet (not batched or not anchored)',

  // Chain.
  SIGNER_MISSING: 'no anchoring signer is configured for this chain',
  CONTRACT_MISSING: 'no DecisionAnchor contract at the configured address',
  DECISION_ANCHOR_V2_UNCONFIGURED: 'no DecisionAnchorV2 address is configured and this chain is not the dev chain (no automatic deployment)',
  ANCHORER_HOLDS_ADMIN: 'the anchoring key holds the admin role on DecisionAnchorV2 (the hot key must never administer roles)',
  ANCHORER_ROLE_MISSING: 'the anchoring key does not hold ANCHORER_ROLE on DecisionAnchorV2',
  V1_CONTRACT_MISSING: 'v1 work is pending but no v1 DecisionAnchor is configured or recorded for this chain',
  CONTRACT_ARTIFACTS_MISSING: 'the compiled contract artifacts are missing (run the contracts build)',
  CONTRACT_ARTIFACTS_INVALID: 'the compiled contract artifacts cannot be read',
  CHAIN_SUBMIT_FAILED: 'a transaction could not be submitted',
  NONCE_TAKEN: 'the signer nonce was used by a transaction we did not send',
  TX_OPEN: 'an earlier transaction of this signer is still open; resume it first',
  TX_REVERTED: 'a transaction was mined and reverted',
  TX_TIMEOUT: 'a transaction did not confirm in time',

  // Privacy.
  PHI_MASTER_KEY_MISSING: 'no PHI master key is configured outside the local stack',
  PHI_MASTER_KEY_MISMATCH: 'the PHI master key is not the one the stored data keys are wrapped with',
  PHI_ENVELOPE_INVALID: 'a ciphertext is not an envelope claimtrail wrote',
  PHI_DECRYPT_FAILED: 'a ciphertext did not authenticate (wrong key, wrong row or altered bytes)',

  // Review app (translated to HTTP statuses at the edge).
  UNAUTHENTICATED: 'no valid session or token',
  FORBIDDEN: 'the role may not do this',
  NOT_FOUND: 'no such resource',
  CONFLICT: 'the resource is in a state that does not allow this',
  RATE_LIMITED: 'too many attempts; retry later',

  // Access monitoring (monitoring/): reasons an access event is dead-lettered (x-dlq-reason).
  ACCESS_EVENT_MALFORMED: 'an access-events record is not JSON or not a claimtrail-access-v1 event',
  ACCESS_EVENT_UNKNOWN_SOURCE: 'an access event comes from another audit log than the monitor\'s database',
  ACCESS_EVENT_UNKNOWN_USER: 'an access event names a user pseudonym no review user has',
  ACCESS_EVENT_ROLE_MISMATCH: 'an access event carries another role than its user holds',
  ACCESS_EVENT_CLOCK_SKEW: 'an access event is stamped further ahead of the monitor\'s clock than MONITOR_MAX_CLOCK_SKEW_SECONDS',
  // Federated training (federation/).
  FEDERATION_PARTICIPANT_UNREGISTERED: 'a federation message names a participant that is not in the registered list',
  FEDERATION_SIGNATURE_INVALID: 'a federation message does not carry a valid signature of its sender\'s identity key',
  FEDERATION_PROTOCOL_VIOLATION: 'a federation message is out of order, duplicated or malformed for the round',
  FEDERATION_TOO_FEW_SURVIVORS: 'fewer participants than the threshold are left in the round; it cannot be unmasked',
  FEDERATION_AGGREGATE_REJECTED: 'the unmasked aggregate is not finite or exceeds the norm bound',
  FEDERATION_ENCODING_INVALID: 'a value cannot be encoded in the fixed-point ring (not finite or beyond its range)',

  // Proof verification (anchoring/core; each also has a `claimtrail verify` exit code).
  FORMAT_INVALID: 'the proof bundle is not of a known format',
  LEAF_MISMATCH: 'the decision fields do not hash to the bundle leaf',
  PROOF_INVALID: 'the Merkle proof does not lead to the bundle root',
  BATCH_ID_MISMATCH: 'the batch id is not the one its range derives',
  POSITION_OUTSIDE_BATCH: 'the decision log position lies outside the batch range',
  DECISION_ID_MISMATCH: 'the decision id is not the one its instance, run, model and input position derive',
  EPOCH_PROOF_INVALID: 'the batch entry does not lead to the epoch root through the epoch proof',
  EPOCH_ID_MISMATCH: 'the epoch id is not the one its instance and sequence derive',
  FLAGGED_PROOF_INVALID: 'the flagged proof does not lead from the leaf to the flagged root',
  NOT_ANCHORED: 'the bundle carries no anchor',
  CHAIN_ID_MISMATCH: 'the chain answering is not the chain the bundle names',
  ROOT_NOT_ON_CHAIN: 'the contract holds no root under the batch id',
  ROOT_DIFFERS_ON_CHAIN: 'the contract holds another root under the batch id',
  BLOCK_HASH_MISMATCH: 'the anchoring block is not on the canonical chain',
  NOT_CONFIRMED: 'the anchor does not have the required confirmations yet',
  SALT_MISSING: 'the claim check needs the salt, which the bundle does not carry',
  COMMITMENT_MISMATCH: 'the claim bytes and salt do not give the bundle commitment',
  CONTRACT_NOT_TRUSTED: 'the bundle names a chain, contract or anchorer the verifier does not trust',
  UNPINNED: 'no trust anchor was given: only the bundle itself was checked, not the chain (never a PASS)',
} as const satisfies Record<string, string>;

/** A registered error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** True when `code` is registered. */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}
