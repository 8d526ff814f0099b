/**
 * One StandardMerkleTree builder for every v2 tree (batch, epoch, flagged): leaves in the order
 * given (`sortLeaves: false`), built either by merkle-core.ts (`'fast'`, the default) or by
 * `@openzeppelin/merkle-tree` itself (`'openzeppelin'`, the reference). Both re-verify every proof
 * before returning it. merkle.ts is the same for v1 leaves; this generalises it over the tuple
 * type so the three v2 trees differ only in what they hash.
 */
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { InvalidArgumentError, invariant } from './errors.ts';
import { getProof, leafTreeIndex, makeTree, processProof } from './merkle-core.ts';

/** A built tree. Leaf indexes are positions in the tuples it was built from. */
export interface StandardTree {
  /** Root, `0x` + 64 lowercase hex. */
  readonly root: string;
  /** Number of leaves, >= 1. */
  readonly leafCount: number;
  /** Leaf hashes in leaf order. */
  readonly leafHashes: readonly string[];
  /**
   * The proof of leaf `index`, verified against the root before it is returned.
   * @throws InvalidArgumentError when `index` is not in [0, leafCount).
   * @throws InvariantError when the proof does not verify (a bug, never the caller's fault).
   */
  proofFor(index: number): string[];
}

/** Which builder; see the file comment. */
export type TreeBuilder = 'fast' | 'openzeppelin';

/** How to hash one kind of tuple. */
export interface TupleKind<V extends readonly unknown[]> {
  /** ABI types, for the OpenZeppelin builder. */
  readonly types: readonly string[];
  /** The leaf hash of a tuple; validates it (throws InvalidArgumentError). */
  readonly leafHash: (values: V) => string;
}

/**
 * Builds a StandardMerkleTree over `values` in the given order.
 * @throws InvalidArgumentError when `values` is empty, a tuple is invalid or the builder unknown.
 */
export function buildStandardTree<V extends readonly unknown[]>(
  values: readonly V[],
  kind: TupleKind<V>,
  builder: TreeBuilder = 'fast',
): StandardTree {
  if (!Array.isArray(values) || values.length === 0) throw new InvalidArgumentError('a Merkle tree needs at least one leaf');
  // leafHash validates every tuple, so OpenZeppelin never sees a value we would refuse.
  const leafHashes = Object.freeze(values.map((v) => kind.leafHash(v)));
  if (builder === 'fast') {
    const tree = makeTree(leafHashes);
    const root = tree[0]!;
    return Object.freeze({
      root,
      leafCount: leafHashes.length,
      leafHashes,
      proofFor(index: number): string[] {
        requireIndex(index, leafHashes.length);
        const proof = getProof(tree, leafTreeIndex(leafHashes.length, index));
        invariant(processProof(leafHashes[index]!, proof) === root, `proof for leaf ${index} does not verify`);
        return proof;
      },
    });
  }
  if (builder === 'openzeppelin') {
    // Private copies: a caller mutating its tuples later must not break our proofs.
    const copies = values.map((v) => [...v]);
    const types = [...kind.types];
    const tree = StandardMerkleTree.of(copies, types, { sortLeaves: false });
    const root = tree.root;
    return Object.freeze({
      root,
      leafCount: leafHashes.length,
      leafHashes,
      proofFor(index: number): string[] {
        requireIndex(index, leafHashes.length);
        const proof = tree.getProof(index);
        invariant(StandardMerkleTree.verify(root, types, copies[index]!, proof), `proof for leaf ${index} does not verify`);
        return proof;
      },
    });
  }
  throw new InvalidArgumentError(`builder must be 'fast' or 'openzeppelin', got ${String(builder)}`);
}

function requireIndex(index: number, leafCount: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= leafCount) {
    throw new InvalidArgumentError(`leaf index must be an integer in [0, ${leafCount}), got ${index}`);
  }
}
