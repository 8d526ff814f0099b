/**
 * Batches. A batch is a contiguous offset range of one partition of the `decisions` topic, and
 * it is tight: its first and last offsets hold its first and last decisions. Anyone who can read
 * the log can therefore rebuild the exact same batch (and tree) from four numbers, and the batch
 * id derived from them names it everywhere (anchor job id, contract key, proof bundle):
 *
 *   batchId = keccak256(abi.encode(string topic, uint32 partition, uint64 firstOffset, uint64 lastOffset))
 *
 * Anchoring the same batch twice yields the same id, so it is harmless.
 *
 * Note: the range may hold fewer decisions than `lastOffset - firstOffset + 1`. The `decisions`
 * topic is written transactionally (exactly once), and Kafka spends offsets on transaction
 * markers and aborted records, which are not decisions and not leaves.
 */
import { AbiCoder, keccak256 } from 'ethers';
import { InvalidArgumentError } from './errors.ts';
import { topicHash, type LeafValues } from './leaf.ts';
import { decimalUint64, kafkaTopic, smallUint, UINT32_MAX } from './validate.ts';

/** Which records make a batch. */
export interface BatchRange {
  /** Topic name (the `decisions` topic). */
  topic: string;
  /** Partition, 0..2^32-1. */
  partition: number;
  /** Offset of the batch's first decision, canonical decimal string. */
  firstOffset: string;
  /** Offset of the batch's last decision, canonical decimal string; >= firstOffset. */
  lastOffset: string;
}

/** ABI types hashed into a batch id, in order. */
export const BATCH_ID_TYPES = Object.freeze(['string', 'uint32', 'uint64', 'uint64'] as const);

/**
 * Checks a range and returns a frozen copy.
 * @throws InvalidArgumentError naming the bad field (including `firstOffset > lastOffset`).
 */
export function validateBatchRange(range: BatchRange): Readonly<BatchRange> {
  if (typeof range !== 'object' || range === null) throw new InvalidArgumentError('batch range must be an object');
  const topic = kafkaTopic(range.topic, 'batch.topic');
  const partition = smallUint(range.partition, UINT32_MAX, 'batch.partition');
  const first = decimalUint64(range.firstOffset, 'batch.firstOffset');
  const last = decimalUint64(range.lastOffset, 'batch.lastOffset');
  if (first > last) {
    throw new InvalidArgumentError(`batch.firstOffset (${first}) must not be greater than batch.lastOffset (${last})`);
  }
  return Object.freeze({ topic, partition, firstOffset: range.firstOffset, lastOffset: range.lastOffset });
}

/**
 * The batch id of a range, `0x` + 64 lowercase hex digits. Deterministic: same range, same id.
 * @throws InvalidArgumentError when the range is invalid.
 */
export function batchId(range: BatchRange): string {
  const r = validateBatchRange(range);
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(BATCH_ID_TYPES, [r.topic, r.partition, BigInt(r.firstOffset), BigInt(r.lastOffset)]),
  );
}

/**
 * How many offsets the range spans, `lastOffset - firstOffset + 1`: an upper bound on its leaf count.
 * @throws InvalidArgumentError when the range is invalid.
 */
export function offsetSpan(range: BatchRange): bigint {
  const r = validateBatchRange(range);
  return BigInt(r.lastOffset) - BigInt(r.firstOffset) + 1n;
}

/**
 * Whether a log position lies inside the range (same topic, same partition, offset within
 * [firstOffset, lastOffset]).
 * @throws InvalidArgumentError when the range or the offset is malformed.
 */
export function batchContains(range: BatchRange, position: { topic: string; partition: number; offset: string }): boolean {
  const r = validateBatchRange(range);
  const offset = decimalUint64(position.offset, 'position.offset');
  return (
    position.topic === r.topic &&
    position.partition === r.partition &&
    offset >= BigInt(r.firstOffset) &&
    offset <= BigInt(r.lastOffset)
  );
}

/**
 * Checks that leaf tuples are exactly one batch of `range`: every leaf on the range's topic and
 * partition, offsets strictly increasing (log order), the first leaf at `firstOffset` and the
 * last at `lastOffset`. Call it before building the batch's tree.
 * @throws InvalidArgumentError naming the first offending leaf, or when the range is invalid.
 */
export function assertBatchLeaves(range: BatchRange, values: readonly LeafValues[]): void {
  const r = validateBatchRange(range);
  if (!Array.isArray(values) || values.length === 0) throw new InvalidArgumentError('a batch needs at least one decision');
  const expectedTopic = topicHash(r.topic);
  let previous = -1n;
  values.forEach((v, i) => {
    if (v[7] !== expectedTopic || v[8] !== r.partition) {
      throw new InvalidArgumentError(`leaf ${i} is not on ${r.topic}/${r.partition}`);
    }
    const offset = decimalUint64(v[9], `leaf ${i} offset`);
    if (offset <= previous) {
      throw new InvalidArgumentError(`leaf ${i} (offset ${offset}) does not come after the leaf before it: leaves must be in log order`);
    }
    previous = offset;
  });
  if (values[0]![9] !== r.firstOffset) {
    throw new InvalidArgumentError(`first leaf is at offset ${values[0]![9]}, but the batch starts at ${r.firstOffset}`);
  }
  if (values.at(-1)![9] !== r.lastOffset) {
    throw new InvalidArgumentError(`last leaf is at offset ${values.at(-1)![9]}, but the batch ends at ${r.lastOffset}`);
  }
}
