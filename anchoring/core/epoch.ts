/**
 * Epochs (docs/proof-format-v2.md#epoch-tree): one anchoring transaction commits many batch roots
 * through one epoch root. The epoch tree is a StandardMerkleTree over **batch entries**:
 *
 *   types  = (bytes32 domain, bytes32 instanceId, bytes32 batchId, bytes32 batchRoot, uint32 leafCount,
 *             bytes32 logTopicHash, uint32 logPartition, uint64 firstOffset, uint64 lastOffset)
 *   domain = keccak256("claimtrail-epoch-entry-v2")
 *   entry  = keccak256(bytes.concat(keccak256(abi.encode(types, values))))
 *
 * in batch order (grouped by topic; partition, then first offset), `sortLeaves: false`. The entry carries the
 * batch's range, so a verifier (and the contract) checks that a decision's log position lies in
 * it and that `batchId` derives from it. The domain word and the 9-word preimage keep an entry
 * apart from a v2 leaf (12 words), a v1 leaf (10) and an inner node (64 bytes).
 */
import { doubleKeccak256, keccakUtf8 } from './hashes.ts';
import { WORD, writeBytes32Word, writeUintWord } from './abi-words.ts';
import { validateBatchRange } from './batch.ts';
import { InvalidArgumentError } from './errors.ts';
import { batchIdV2 } from './ids-v2.ts';
import { topicHash } from './leaf.ts';
import { buildStandardTree, type StandardTree } from './standard-tree.ts';
import type { BuildTreeV2Options } from './batch-v2.ts';
import { bytes32, decimalUint64, show, smallUint, UINT32_MAX } from './validate.ts';

/** keccak256("claimtrail-epoch-entry-v2"): word 0 of every batch entry. */
export const EPOCH_ENTRY_DOMAIN = keccakUtf8('claimtrail-epoch-entry-v2');

/** ABI types of a batch entry, in order. */
export const ENTRY_TYPES = Object.freeze([
  'bytes32', // domain
  'bytes32', // instanceId
  'bytes32', // batchId
  'bytes32', // batchRoot
  'uint32', // leafCount
  'bytes32', // logTopicHash
  'uint32', // logPartition
  'uint64', // firstOffset
  'uint64', // lastOffset
] as const);

/** A batch entry tuple, JSON form (bytes32 lowercase hex, uint32 numbers, uint64 decimal strings). */
export type EntryValues = readonly [
  domain: string,
  instanceId: string,
  batchId: string,
  batchRoot: string,
  leafCount: number,
  logTopicHash: string,
  logPartition: number,
  firstOffset: string,
  lastOffset: string,
];

/** A closed batch as an epoch commits it. */
export interface EpochBatch {
  /** The `decisions` topic. */
  topic: string;
  /** Partition, 0..2^32-1. */
  partition: number;
  /** Offset of the batch's first decision, canonical decimal. */
  firstOffset: string;
  /** Offset of the batch's last decision, canonical decimal, >= firstOffset. */
  lastOffset: string;
  /** Decisions in the batch: 1..lastOffset-firstOffset+1. */
  leafCount: number;
  /** The batch tree's root, `0x` + 64 hex. */
  root: string;
}

/**
 * The entry tuple of a batch under an installation; the batch id is derived here (ids-v2.ts), never taken.
 * @throws InvalidArgumentError naming the bad field.
 */
export function entryValues(instanceId: string, batch: EpochBatch): EntryValues {
  if (typeof batch !== 'object' || batch === null) throw new InvalidArgumentError(`batch must be an object, got ${show(batch)}`);
  const r = validateBatchRange(batch);
  const leafCount = smallUint(batch.leafCount, UINT32_MAX, 'batch.leafCount');
  if (leafCount < 1 || BigInt(leafCount) > BigInt(r.lastOffset) - BigInt(r.firstOffset) + 1n) {
    throw new InvalidArgumentError(`batch.leafCount must be in [1, lastOffset - firstOffset + 1], got ${leafCount}`);
  }
  return Object.freeze([
    EPOCH_ENTRY_DOMAIN,
    bytes32(instanceId, 'instanceId'),
    batchIdV2(instanceId, r.topic, r.partition, r.firstOffset, r.lastOffset),
    bytes32(batch.root, 'batch.root'),
    leafCount,
    topicHash(r.topic),
    r.partition,
    r.firstOffset,
    r.lastOffset,
  ] as const);
}

/**
 * `abi.encode(ENTRY_TYPES, values)` written by hand (nine 32-byte words).
 * @throws InvalidArgumentError naming the bad value (including a wrong domain word).
 */
export function encodeEntryValues(values: EntryValues): Uint8Array {
  if (!Array.isArray(values) || values.length !== ENTRY_TYPES.length) {
    throw new InvalidArgumentError(`entry values must be an array of ${ENTRY_TYPES.length} items, got ${show(values)}`);
  }
  if (bytes32(values[0], 'values[0] (domain)') !== EPOCH_ENTRY_DOMAIN) {
    throw new InvalidArgumentError(`values[0] (domain) must be keccak256("claimtrail-epoch-entry-v2"), got ${show(values[0])}`);
  }
  const out = new Uint8Array(WORD * ENTRY_TYPES.length);
  writeBytes32Word(out, 0, EPOCH_ENTRY_DOMAIN);
  writeBytes32Word(out, 1, bytes32(values[1], 'values[1] (instanceId)'));
  writeBytes32Word(out, 2, bytes32(values[2], 'values[2] (batchId)'));
  writeBytes32Word(out, 3, bytes32(values[3], 'values[3] (batchRoot)'));
  writeUintWord(out, 4, BigInt(smallUint(values[4], UINT32_MAX, 'values[4] (leafCount)')));
  writeBytes32Word(out, 5, bytes32(values[5], 'values[5] (logTopicHash)'));
  writeUintWord(out, 6, BigInt(smallUint(values[6], UINT32_MAX, 'values[6] (logPartition)')));
  writeUintWord(out, 7, decimalUint64(values[7], 'values[7] (firstOffset)'));
  writeUintWord(out, 8, decimalUint64(values[8], 'values[8] (lastOffset)'));
  return out;
}

/**
 * The entry's leaf hash, `keccak256(keccak256(abi.encode(ENTRY_TYPES, values)))`, equal to
 * `StandardMerkleTree.of([values], ENTRY_TYPES).leafHash(values)`.
 * @throws InvalidArgumentError when `values` is not a valid {@link EntryValues}.
 */
export function entryHash(values: EntryValues): string {
  return doubleKeccak256(encodeEntryValues(values));
}

/** `entryHash(entryValues(instanceId, batch))`: the epoch-tree leaf of one batch. */
export function batchEntryLeaf(instanceId: string, batch: EpochBatch): string {
  return entryHash(entryValues(instanceId, batch));
}

/** A built epoch tree. Entry indexes are positions in the batches it was built from (batch order). */
export interface EpochTree {
  /** The epoch root, `0x` + 64 lowercase hex: what `anchorEpoch` records. */
  readonly root: string;
  /** Number of batches (entries), >= 1. */
  readonly batchCount: number;
  /** Decisions over all batches, decimal string (uint64 on chain). */
  readonly leafCount: string;
  /** Entry tuples in batch order. */
  readonly entries: readonly EntryValues[];
  /** Entry leaf hashes in batch order. */
  readonly entryHashes: readonly string[];
  /**
   * The epoch proof of batch `index` (entry -> epoch root), re-verified before it is returned.
   * @throws InvalidArgumentError when `index` is not in [0, batchCount).
   */
  proofFor(index: number): string[];
}

/**
 * Builds an epoch's tree. `batches` must already be in batch order: grouped by topic (each
 * topic's batches contiguous: the `decisions` topic's first, then the audit log's pseudo-topic,
 * whose seals ride in the same epoch), within a topic by partition, then by first offset, and two
 * batches of one partition must not overlap.
 * @throws InvalidArgumentError when there is no batch, a batch is invalid or out of order.
 */
export function buildEpochTree(instanceId: string, batches: readonly EpochBatch[], options: BuildTreeV2Options = {}): EpochTree {
  if (!Array.isArray(batches) || batches.length === 0) throw new InvalidArgumentError('an epoch needs at least one batch');
  const entries = Object.freeze(batches.map((b) => entryValues(instanceId, b)));
  const topicsDone = new Set<string>();
  entries.forEach((e, i) => {
    if (i === 0) return;
    const prev = entries[i - 1]!;
    if (e[5] !== prev[5]) {
      // A new topic's group starts (the decisions topic, then the audit log's pseudo-topic).
      topicsDone.add(prev[5]);
      if (topicsDone.has(e[5])) throw new InvalidArgumentError(`batch ${i} returns to a topic an earlier group of batches covered: batches of one topic must be contiguous`);
      return;
    }
    const inOrder = e[6] > prev[6] || (e[6] === prev[6] && BigInt(e[7]) > BigInt(prev[8]));
    if (!inOrder) {
      throw new InvalidArgumentError(
        `batch ${i} (${e[6]}@${e[7]}..${e[8]}) must come after batch ${i - 1} (${prev[6]}@${prev[7]}..${prev[8]}): ` +
          'batches are ordered by partition, then first offset, and do not overlap',
      );
    }
  });
  const tree: StandardTree = buildStandardTree(entries, { types: ENTRY_TYPES, leafHash: entryHash }, options.builder);
  const leafCount = entries.reduce((sum, e) => sum + BigInt(e[4]), 0n).toString();
  return Object.freeze({
    root: tree.root,
    batchCount: entries.length,
    leafCount,
    entries,
    entryHashes: tree.leafHashes,
    proofFor: (index: number) => tree.proofFor(index),
  });
}
