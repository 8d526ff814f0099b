/**
 * Identifiers of proof format v2 (docs/proof-format-v2.md#identifiers): the decision id, the batch
 * id and the epoch id. All three start from the installation's `instanceId`, so two installations
 * (two insurers on one shared contract) can never produce, or pre-empt, each other's ids.
 *
 *   decisionIdV2 = sha256("claimtrail-decision-v2" 0x00 instanceId 0x00 runId 0x00 modelHash 0x00 topic 0x00 partition 0x00 offset)
 *   batchIdV2    = keccak256(abi.encode(keccak256("claimtrail-batch-v2"), instanceId, keccak256(topic), uint32 partition, uint64 firstOffset, uint64 lastOffset))
 *   epochId      = keccak256(abi.encode(keccak256("claimtrail-epoch-v2"), instanceId, uint64 sequence))
 *
 * In the decision id, (topic, partition, offset) is the position of the INPUT claim record (the
 * claims topic), as in v1: the id is fixed before the decision record is written, so a replay of
 * the same input under the same run and model gives the same id, another run or model another.
 */
import { AbiCoder, id as keccakUtf8, keccak256, sha256, toUtf8Bytes } from 'ethers';
import { InvalidArgumentError } from './errors.ts';
import { bytes32, decimalUint64, kafkaTopic, show, smallUint, UINT32_MAX } from './validate.ts';

/** Domain string of the decision id (hashed with sha256 together with the fields). */
export const DECISION_ID_V2_DOMAIN = 'claimtrail-decision-v2';
/** keccak256("claimtrail-batch-v2"): first word of the batch id preimage. */
export const BATCH_ID_V2_DOMAIN = keccakUtf8('claimtrail-batch-v2');
/** keccak256("claimtrail-epoch-v2"): first word of the epoch id preimage. */
export const EPOCH_ID_DOMAIN = keccakUtf8('claimtrail-epoch-v2');

/** ABI types of the batch id preimage, in order. */
export const BATCH_ID_V2_TYPES = Object.freeze(['bytes32', 'bytes32', 'bytes32', 'uint32', 'uint64', 'uint64'] as const);
/** ABI types of the epoch id preimage, in order. */
export const EPOCH_ID_TYPES = Object.freeze(['bytes32', 'bytes32', 'uint64'] as const);

/** `live` for the streaming pipeline; a backfill names its own run. */
const RUN_ID = /^[a-z0-9._-]{1,64}$/;

/**
 * A scoring run id: 1 to 64 of `[a-z0-9._-]`.
 * @throws InvalidArgumentError naming `field`.
 */
export function runIdOf(value: unknown, field = 'runId'): string {
  if (typeof value !== 'string' || !RUN_ID.test(value)) {
    throw new InvalidArgumentError(`${field} must be 1-64 of [a-z0-9._-], got ${show(value)}`);
  }
  return value;
}

/**
 * The v2 decision id: sha256 over the UTF-8 fields joined by NUL bytes, hex fields as lowercase
 * `0x…` strings, numbers in decimal.
 * @param instanceId the installation's id, bytes32 hex (either case).
 * @param runId the scoring run ({@link runIdOf}).
 * @param modelHash the deciding model's hash, bytes32 hex (either case).
 * @param topic, partition, offset the INPUT claim record's position (claims topic).
 * @returns `0x` + 64 lowercase hex digits.
 * @throws InvalidArgumentError naming the bad argument.
 */
export function decisionIdV2(
  instanceId: string,
  runId: string,
  modelHash: string,
  topic: string,
  partition: number,
  offset: string,
): string {
  const fields = [
    DECISION_ID_V2_DOMAIN,
    bytes32(instanceId, 'instanceId'),
    runIdOf(runId),
    bytes32(modelHash, 'modelHash'),
    kafkaTopic(topic, 'input.topic'),
    String(smallUint(partition, UINT32_MAX, 'input.partition')),
    decimalUint64(offset, 'input.offset').toString(),
  ];
  return sha256(toUtf8Bytes(fields.join('\u0000')));
}

/**
 * The v2 batch id of a range of the `decisions` topic, namespaced by the installation.
 * @param firstOffset, lastOffset canonical decimal strings, `firstOffset <= lastOffset`.
 * @returns `0x` + 64 lowercase hex digits.
 * @throws InvalidArgumentError naming the bad argument (including `firstOffset > lastOffset`).
 */
export function batchIdV2(instanceId: string, topic: string, partition: number, firstOffset: string, lastOffset: string): string {
  const instance = bytes32(instanceId, 'instanceId');
  const topicHash = keccakUtf8(kafkaTopic(topic, 'batch.topic'));
  const p = smallUint(partition, UINT32_MAX, 'batch.partition');
  const first = decimalUint64(firstOffset, 'batch.firstOffset');
  const last = decimalUint64(lastOffset, 'batch.lastOffset');
  if (first > last) throw new InvalidArgumentError(`batch.firstOffset (${first}) must not be greater than batch.lastOffset (${last})`);
  return keccakAbi(BATCH_ID_V2_TYPES, [BATCH_ID_V2_DOMAIN, instance, topicHash, p, first, last]);
}

/**
 * The id of the installation's epoch number `sequence` (counted from 0).
 * @param sequence a canonical decimal string or a bigint, 0..2^64-1.
 * @returns `0x` + 64 lowercase hex digits.
 * @throws InvalidArgumentError naming the bad argument.
 */
export function epochId(instanceId: string, sequence: string | bigint): string {
  const seq = typeof sequence === 'bigint' ? decimalUint64(sequence.toString(), 'epoch.sequence') : decimalUint64(sequence, 'epoch.sequence');
  return keccakAbi(EPOCH_ID_TYPES, [EPOCH_ID_DOMAIN, bytes32(instanceId, 'instanceId'), seq]);
}

/** keccak256 of `abi.encode(types, values)`. Ids are made once per batch or epoch: the general coder is fast enough. */
function keccakAbi(types: readonly string[], values: readonly unknown[]): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(types, values));
}
