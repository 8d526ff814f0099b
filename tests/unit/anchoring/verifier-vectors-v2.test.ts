import { readFileSync } from 'node:fs';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { AbiCoder, keccak256, toUtf8Bytes } from 'ethers';
import { describe, expect, it } from 'vitest';
import { ENTRY_TYPES } from '../../../anchoring/core/epoch.ts';
import { LEAF_TYPES_V2 } from '../../../anchoring/core/leaf-v2.ts';
import { loadProofBundleV2 } from '../../../anchoring/core/proof-bundle-v2.ts';
import { verifyProofBundleV2 } from '../../../anchoring/core/verify-proof-v2.ts';
import {
  contractCallsOf,
  generateVectorsV2,
  serializeVectorsV2,
  VECTORS_V2_FILE,
  VECTORS_V2_FORMAT,
  type ContractCallsV2,
  type VectorFileV2,
} from '../../vectors/generate-v2.ts';
import { applyPatch } from '../../vectors/patch.ts';

/**
 * Walks every vector of tests/vectors/verifier-vectors-v2.json through the TypeScript verifier
 * (with the file's trust anchor), and checks every contract expectation with an independent model
 * built on @openzeppelin/merkle-tree and a BigInt proof walk.
 */
const text = readFileSync(VECTORS_V2_FILE, 'utf8');
const file = JSON.parse(text) as VectorFileV2;
const h = (s: string) => keccak256(toUtf8Bytes(s));

describe('verifier test vectors v2', () => {
  it('the file is what tests/vectors/generate-v2.ts makes (run npm run gen:vectors after changing it)', () => {
    expect(file.format).toBe(VECTORS_V2_FORMAT);
    expect(text).toBe(serializeVectorsV2(generateVectorsV2()));
  });

  it('covers every category, with complete bit flips, and unique ids', () => {
    const count = (category: string) => file.vectors.filter((v) => v.category === category).length;
    expect(count('leaf-bitflip')).toBe(256);
    expect(count('proof-bitflip')).toBe(3 * 256);
    expect(count('epoch-proof-bitflip')).toBe(2 * 256);
    expect(count('flagged-proof-bitflip') % 256).toBe(0);
    expect(count('root-bitflip')).toBe(3 * 256);
    expect(count('id-bitflip')).toBe(3 * 256);
    for (const c of ['happy', 'decision-altered', 'batch-altered', 'epoch-altered', 'flagged-altered', 'label-altered', 'proof-truncated', 'proof-extended', 'proof-reordered', 'proof-of-other-leaf', 'internal-node-onchain', 'root-empty-proof', 'v1-in-v2', 'untrusted-anchor', 'entry-of-other-range', 'position-outside-batch', 'leaf-from-other-batch', 'malformed']) {
      expect(count(c), c).toBeGreaterThan(0);
    }
    const codes = new Set(file.vectors.flatMap((v) => (v.expected.ok ? [] : [v.expected.code])));
    for (const code of ['LEAF_MISMATCH', 'DECISION_ID_MISMATCH', 'PROOF_INVALID', 'BATCH_ID_MISMATCH', 'POSITION_OUTSIDE_BATCH', 'EPOCH_PROOF_INVALID', 'EPOCH_ID_MISMATCH', 'FLAGGED_PROOF_INVALID', 'CONTRACT_NOT_TRUSTED', 'FORMAT_INVALID']) {
      expect(codes.has(code as never), code).toBe(true);
    }
    expect(new Set(file.vectors.map((v) => v.id)).size).toBe(file.vectors.length);
  });

  it('every vector gives its expected result through verifyProofBundleV2 with the trust anchor', () => {
    const wrong: string[] = [];
    for (const v of file.vectors) {
      const result = verifyProofBundleV2(applyPatch(file.bases[v.base]!.bundle, v.patch), { trust: file.trustAnchor });
      const got = result.ok ? { ok: true } : { ok: false, code: result.code };
      if (JSON.stringify(got) !== JSON.stringify(v.expected)) wrong.push(`${v.id} (${v.description}): got ${JSON.stringify(got)}`);
    }
    expect(wrong).toEqual([]);
    expect(file.vectors.filter((v) => !v.expected.ok).length).toBeGreaterThan(4000);
  });

  it('valid bases verify with @openzeppelin/merkle-tree alone, and carry the contract structs', () => {
    for (const { bundle, contract } of file.bases) {
      const values = tupleOf(contract.decision.values);
      expect(StandardMerkleTree.verify(bundle.batch.root, [...LEAF_TYPES_V2], values, [...bundle.proof])).toBe(true);
      expect(StandardMerkleTree.verify(bundle.epoch.root, [...ENTRY_TYPES], entryTupleOf(contract.decision.values.instanceId, contract.decision.entry), [...bundle.epoch.proof])).toBe(true);
      if (bundle.flagged) expect(StandardMerkleTree.verify(bundle.flagged.root, [...LEAF_TYPES_V2], values, [...bundle.flagged.proof])).toBe(true);
      expect(contract.decision.expected).toBe(true);
      expect(contractCallsOf(bundle, file.chain)).toEqual(contract);
    }
  });

  it('every contract expectation agrees with an independent model (BigInt proof walk, ethers AbiCoder)', () => {
    const wrong: string[] = [];
    for (const v of file.vectors) {
      const bundle = applyPatch(file.bases[v.base]!.bundle, v.patch);
      let calls: ContractCallsV2 | undefined;
      try {
        calls = contractCallsOf(loadProofBundleV2(bundle), file.chain);
      } catch {
        calls = undefined;
      }
      expect(calls !== undefined, v.id).toBe(v.contract !== undefined);
      if (!calls || !v.contract) continue;
      if (naiveDecision(calls.decision) !== v.contract.decision) wrong.push(`${v.id}: verifyDecisionValues`);
      if (calls.flagged && naiveFlagged(calls.flagged) !== v.contract.flagged) wrong.push(`${v.id}: verifyFlaggedValues`);
      // Whatever the bundle verifier accepts, the contract accepts too.
      if (v.expected.ok && !v.contract.decision) wrong.push(`${v.id}: bundle ok, contract false`);
    }
    expect(wrong).toEqual([]);
  });
});

type Call = ContractCallsV2['decision'];
const coder = AbiCoder.defaultAbiCoder();

function tupleOf(v: Call['values']): unknown[] {
  return [h('claimtrail-leaf-v2'), v.instanceId, v.decisionId, v.claimCommitment, v.scoreMicros, v.outcome, v.modelHash, v.reasonsHash, v.decidedAtMs, v.logTopicHash, v.logPartition, v.logOffset];
}

function entryTupleOf(instanceId: string, e: Call['entry']): unknown[] {
  return [h('claimtrail-epoch-entry-v2'), instanceId, e.batchId, e.batchRoot, e.leafCount, e.logTopicHash, e.logPartition, e.firstOffset, e.lastOffset];
}

const doubleHash = (types: readonly string[], values: unknown[]) => keccak256(keccak256(coder.encode(types, values)));

function naiveWalk(leaf: string, proof: readonly string[]): string {
  let node = leaf.toLowerCase();
  for (const sibling of proof) {
    const s = sibling.toLowerCase();
    node = keccak256(`0x${(BigInt(node) <= BigInt(s) ? [node, s] : [s, node]).map((x) => x.slice(2)).join('')}`);
  }
  return node;
}

/** DecisionAnchorV2.verifyDecisionValues as the spec states it. */
function naiveDecision(c: Call): boolean {
  const epoch = file.chain.epochs.find((e) => e.anchorer === c.anchorer && e.epochId === c.epochId);
  if (!epoch) return false;
  const { values: v, entry: e } = c;
  const offset = BigInt(v.logOffset);
  if (v.logTopicHash !== e.logTopicHash || v.logPartition !== e.logPartition || offset < BigInt(e.firstOffset) || offset > BigInt(e.lastOffset)) return false;
  const batchId = keccak256(coder.encode(['bytes32', 'bytes32', 'bytes32', 'uint32', 'uint64', 'uint64'], [h('claimtrail-batch-v2'), v.instanceId, e.logTopicHash, e.logPartition, e.firstOffset, e.lastOffset]));
  if (batchId !== e.batchId) return false;
  if (naiveWalk(doubleHash(LEAF_TYPES_V2, tupleOf(v)), c.proof) !== e.batchRoot) return false;
  return naiveWalk(doubleHash(ENTRY_TYPES, entryTupleOf(v.instanceId, e)), c.epochProof) === epoch.root;
}

/** DecisionAnchorV2.verifyFlaggedValues as the spec states it. */
function naiveFlagged(c: NonNullable<ContractCallsV2['flagged']>): boolean {
  if (!file.chain.flaggedRoots.some((f) => f.anchorer === c.anchorer && f.root === c.root)) return false;
  return naiveWalk(doubleHash(LEAF_TYPES_V2, tupleOf(c.values)), c.proof) === c.root;
}
