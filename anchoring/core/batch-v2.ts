/**
 * Batch trees of v2 leaves. As in v1 (batch.ts, merkle.ts): a batch is a tight, contiguous offset
 * range of one `decisions` partition, and its tree is a StandardMerkleTree over the decisions'
 * leaves in log order (`sortLeaves: false`), so anyone reading the same offsets rebuilds the same
 * root. New in v2: the batch belongs to one installation (every leaf carries the same
 * `instanceId`) and its id is ids-v2.ts `batchIdV2`, namespaced by that installation.
 */
import { validateBatchRange, type BatchRange } from './batch.ts';
import { InvalidArgumentError } from './errors.ts';
import { batchIdV2 } from './ids-v2.ts';
import { topicHash } from './leaf.ts';
import { LEAF_TYPES_V2, leafHashV2, type LeafValuesV2 } from './leaf-v2.ts';
import { buildStandardTree, type StandardTree, type TreeBuilder } from './standard-tree.ts';
import { bytes32, decimalUint64 } from './validate.ts';

/** Options of the v2 tree builders. */
export interface BuildTreeV2Options {
  /** `'fast'` (default, merkle-core.ts) or `'openzeppelin'` (the library, the reference): same root, same proofs (tested). */
  builder?: TreeBuilder;
}

/**
 * The batch id of a range under an installation: `batchIdV2(instanceId, topic, partition, firstOffset, lastOffset)`.
 * @throws InvalidArgumentError when the id or the range is invalid.
 */
export function batchIdOfRange(instanceId: string, range: BatchRange): string {
  const r = validateBatchRange(range);
  return batchIdV2(instanceId, r.topic, r.partition, r.firstOffset, r.lastOffset);
}

/**
 * Checks that v2 leaf tuples are exactly one batch of `range` under `instanceId`: every leaf of
 * that installation, on the range's topic and partition, offsets strictly increasing, the first
 * leaf at `firstOffset` and the last at `lastOffset`. Call it before {@link buildBatchTreeV2}.
 * @throws InvalidArgumentError naming the first offending leaf.
 */
export function assertBatchLeavesV2(instanceId: string, range: BatchRange, values: readonly LeafValuesV2[]): void {
  const instance = bytes32(instanceId, 'instanceId');
  const r = validateBatchRange(range);
  if (!Array.isArray(values) || values.length === 0) throw new InvalidArgumentError('a batch needs at least one decision');
  const expectedTopic = topicHash(r.topic);
  let previous = -1n;
  values.forEach((v, i) => {
    if (v[1] !== instance) throw new InvalidArgumentError(`leaf ${i} belongs to instance ${v[1]}, not ${instance}`);
    if (v[9] !== expectedTopic || v[10] !== r.partition) throw new InvalidArgumentError(`leaf ${i} is not on ${r.topic}/${r.partition}`);
    const offset = decimalUint64(v[11], `leaf ${i} offset`);
    if (offset <= previous) {
      throw new InvalidArgumentError(`leaf ${i} (offset ${offset}) does not come after the leaf before it: leaves must be in log order`);
    }
    previous = offset;
  });
  if (values[0]![11] !== r.firstOffset) throw new InvalidArgumentError(`first leaf is at offset ${values[0]![11]}, but the batch starts at ${r.firstOffset}`);
  if (values.at(-1)![11] !== r.lastOffset) throw new InvalidArgumentError(`last leaf is at offset ${values.at(-1)![11]}, but the batch ends at ${r.lastOffset}`);
}

/**
 * The tree of a batch of v2 leaves, in the order given (log order): the same as
 * `StandardMerkleTree.of(values, LEAF_TYPES_V2, { sortLeaves: false })`. Every proof is
 * re-verified before it is returned.
 * @throws InvalidArgumentError when `values` is empty or a tuple is invalid.
 */
export function buildBatchTreeV2(values: readonly LeafValuesV2[], options: BuildTreeV2Options = {}): StandardTree {
  return buildStandardTree(values, { types: LEAF_TYPES_V2, leafHash: leafHashV2 }, options.builder);
}
