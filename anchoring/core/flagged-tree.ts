/**
 * Per-block flagged trees (docs/proof-format-v2.md#per-block-flagged-tree): flagged decisions are
 * anchored early, without a storage slot each. All flagged decisions waiting when a flagged job
 * runs become one StandardMerkleTree over their v2 decision leaves, in decision-id order
 * (ascending as 256-bit numbers, `sortLeaves: false`), and its root is anchored with
 * `anchorFlaggedRoot(root, count)`. The flagged root is an early anchor only: the decision is in its
 * batch and epoch like every other.
 */
import type { BuildTreeV2Options } from './batch-v2.ts';
import { InvalidArgumentError } from './errors.ts';
import { LEAF_TYPES_V2, leafHashV2, type LeafValuesV2 } from './leaf-v2.ts';
import { buildStandardTree } from './standard-tree.ts';
import { bytes32 } from './validate.ts';

/** A built flagged tree. */
export interface FlaggedTree {
  /** The flagged root, `0x` + 64 lowercase hex. */
  readonly root: string;
  /** Number of decisions, >= 1 (what `anchorFlaggedRoot` records as `count`). */
  readonly count: number;
  /** Decision ids in tree order (ascending). */
  readonly decisionIds: readonly string[];
  /** Leaf hashes in tree order. */
  readonly leafHashes: readonly string[];
  /**
   * The proof of the decision with this id, re-verified before it is returned.
   * @throws InvalidArgumentError when the tree holds no such decision.
   */
  proofFor(decisionId: string): string[];
}

/**
 * Builds the flagged tree over v2 leaf tuples given in any order; they are put in decision-id order.
 * @throws InvalidArgumentError when there is no tuple, a tuple is invalid, or two share a decision id.
 */
export function buildFlaggedTree(values: readonly LeafValuesV2[], options: BuildTreeV2Options = {}): FlaggedTree {
  if (!Array.isArray(values) || values.length === 0) throw new InvalidArgumentError('a flagged tree needs at least one decision');
  const ordered = values
    .map((v, i) => ({ v, id: bytes32(v[2], `values[${i}] decisionId`) }))
    // Lowercase fixed-width hex: string order is numeric order.
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  ordered.forEach((o, i) => {
    if (i > 0 && o.id === ordered[i - 1]!.id) throw new InvalidArgumentError(`decision ${o.id} appears twice in the flagged tree`);
  });
  const tree = buildStandardTree(
    ordered.map((o) => o.v),
    { types: LEAF_TYPES_V2, leafHash: leafHashV2 },
    options.builder,
  );
  const decisionIds = Object.freeze(ordered.map((o) => o.id));
  const indexOf = new Map(decisionIds.map((id, i) => [id, i]));
  return Object.freeze({
    root: tree.root,
    count: tree.leafCount,
    decisionIds,
    leafHashes: tree.leafHashes,
    proofFor(decisionId: string): string[] {
      const index = indexOf.get(bytes32(decisionId, 'decisionId'));
      if (index === undefined) throw new InvalidArgumentError(`decision ${decisionId} is not in this flagged tree`);
      return tree.proofFor(index);
    },
  });
}
