/**
 * Merkle tree core: the same array layout and node hashing as `@openzeppelin/merkle-tree`'s
 * `core.ts` (`makeMerkleTree`, `getProof`, `processProof`), over hashes.ts (hash-wasm's keccak).
 *
 * Layout (OpenZeppelin's): a complete binary tree in an array of 2n-1 hex nodes. Node i has
 * children 2i+1 and 2i+2; the root is node 0; leaf k (in the order given) sits at index
 * 2n-2-k, i.e. leaves fill the end of the array backwards. Inner nodes are
 * keccak256(sorted(a, b)) with the pair sorted as 256-bit numbers, which is what Solidity's
 * `MerkleProof` and OpenZeppelin's `standardNodeHash` compute, so proofs carry no left/right bits.
 *
 * Why a second implementation: OpenZeppelin's library compares nodes through BigInt and encodes
 * leaves with a general ABI coder. Measured on a shared 2-core machine, 10,000 leaves took
 * 3.2-3.7 s there and 0.5-0.6 s here (tests/unit/anchoring/merkle.test.ts prints both). About 70%
 * of what remains is keccak-f itself (ethers' JavaScript keccak; 5 permutations per leaf, fixed by
 * the leaf format), so going faster would need a native keccak. OpenZeppelin stays the
 * reference: tests check that roots and every proof are identical.
 */
import { bytesToHex, hex32ToBytes } from './bytes.ts';
import { keccak256Bytes } from './hashes.ts';
import { InvalidArgumentError } from './errors.ts';
import { bytes32 } from './validate.ts';

const HEX = /^0x[0-9a-f]{64}$/;

/** The inner-node hash: keccak256 of the two 32-byte children, smaller first. */
export function nodeHash(a: string, b: string): string {
  return hashPair(hex32ToBytes(bytes32(a, 'a')), hex32ToBytes(bytes32(b, 'b')));
}

/**
 * Builds the tree array over leaf hashes (in the given order).
 * @param leaves leaf hashes, `0x` + 64 lowercase hex each; at least one.
 * @returns 2n-1 nodes, root first.
 * @throws InvalidArgumentError when there is no leaf or a leaf is not 32 bytes of lowercase hex.
 */
export function makeTree(leaves: readonly string[]): string[] {
  if (leaves.length === 0) throw new InvalidArgumentError('a Merkle tree needs at least one leaf');
  const size = 2 * leaves.length - 1;
  const hex = new Array<string>(size);
  const raw = new Array<Uint8Array>(size);
  leaves.forEach((leaf, k) => {
    if (!HEX.test(leaf)) throw new InvalidArgumentError(`leaf ${k} must be 0x + 64 lowercase hex digits`);
    hex[size - 1 - k] = leaf;
    raw[size - 1 - k] = hex32ToBytes(leaf);
  });
  for (let i = size - 1 - leaves.length; i >= 0; i--) {
    const node = hashPairBytes(raw[2 * i + 1]!, raw[2 * i + 2]!);
    raw[i] = node;
    hex[i] = bytesToHex(node);
  }
  return hex;
}

/** Tree index of leaf k in a tree of n leaves (see the layout above). */
export function leafTreeIndex(leafCount: number, k: number): number {
  return 2 * leafCount - 2 - k;
}

/**
 * The sibling path from a node up to (not including) the root.
 * @throws InvalidArgumentError when `treeIndex` is not a leaf of `tree`.
 */
export function getProof(tree: readonly string[], treeIndex: number): string[] {
  const isLeaf = Number.isInteger(treeIndex) && treeIndex >= 0 && treeIndex < tree.length && 2 * treeIndex + 1 >= tree.length;
  if (!isLeaf) throw new InvalidArgumentError(`tree index ${treeIndex} is not a leaf`);
  const proof: string[] = [];
  for (let i = treeIndex; i > 0; i = Math.floor((i - 1) / 2)) {
    // The sibling of an odd (left) node is the next one, of an even (right) node the previous one.
    const sibling = i % 2 === 1 ? i + 1 : i - 1;
    proof.push(tree[sibling]!);
  }
  return proof;
}

/**
 * The root a proof leads to from a leaf. Accepts hex in either case; returns lowercase.
 * @throws InvalidArgumentError when the leaf or a proof element is not 32 bytes of hex.
 */
export function processProof(leaf: string, proof: readonly string[]): string {
  let node = hex32ToBytes(bytes32(leaf, 'leaf'));
  const hex = bytes32(leaf, 'leaf');
  proof.forEach((p, i) => {
    node = hashPairBytes(node, hex32ToBytes(bytes32(p, `proof[${i}]`)));
  });
  return proof.length === 0 ? hex : bytesToHex(node);
}

function hashPair(a: Uint8Array, b: Uint8Array): string {
  return bytesToHex(hashPairBytes(a, b));
}

function hashPairBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const buf = new Uint8Array(64);
  if (compare(a, b) <= 0) {
    buf.set(a, 0);
    buf.set(b, 32);
  } else {
    buf.set(b, 0);
    buf.set(a, 32);
  }
  return keccak256Bytes(buf);
}

/** Big-endian numeric order of two 32-byte values = byte-wise lexicographic order. */
function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return 0;
}
