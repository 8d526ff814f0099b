import { readFileSync } from 'node:fs';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { keccak256, toUtf8Bytes } from 'ethers';
import { describe, expect, it } from 'vitest';
import { processProof } from '../../../anchoring/core/merkle-core.ts';
import { VerificationError } from '../../../anchoring/core/errors.ts';
import { loadProofBundle } from '../../../anchoring/core/proof-bundle.ts';
import { checkTrust, loadTrustFile } from '../../../anchoring/core/trust.ts';
import { verifyProofBundle, type VerifyResult } from '../../../anchoring/core/verify-proof.ts';
import { generateVectors, serializeVectors, VECTORS_FILE, VECTORS_FORMAT, type VectorFile } from '../../vectors/generate.ts';
import { applyPatch } from '../../vectors/patch.ts';

/**
 * Walks every vector of tests/vectors/verifier-vectors.json through the TypeScript verifier (the
 * Hardhat suite walks the same file through the contract, tests/integration/verify-vectors.test.ts
 * a sample through the CLI).
 */
const text = readFileSync(VECTORS_FILE, 'utf8');
const file = JSON.parse(text) as VectorFile;
const trust = loadTrustFile(file.trust);

/** The pure checks, then the trust check of the bundle's anchor, as `claimtrail verify` runs them. */
function verifyPinned(input: unknown): VerifyResult {
  const result = verifyProofBundle(input);
  if (!result.ok) return result;
  const { anchor } = loadProofBundle(input);
  if (anchor === null) return result;
  try {
    checkTrust(anchor, trust);
    return result;
  } catch (error) {
    if (error instanceof VerificationError) return { ok: false, code: error.code, message: error.message };
    throw error;
  }
}

describe('verifier test vectors', () => {
  it('the file is what tests/vectors/generate.ts makes (run npm run gen:vectors after changing it)', () => {
    expect(file.format).toBe(VECTORS_FORMAT);
    expect(text).toBe(serializeVectors(generateVectors()));
  });

  it('covers every category the verifier must reject, with complete bit flips', () => {
    const count = (category: string) => file.vectors.filter((v) => v.category === category).length;
    expect(count('leaf-bitflip')).toBe(256);
    expect(count('proof-bitflip')).toBe(3 * 256);
    expect(count('root-bitflip')).toBe(256);
    expect(count('batchid-bitflip')).toBe(256);
    expect(count('foreign-contract')).toBe(160 + 4);
    for (const c of ['happy', 'trusted-contract-case', 'wrong-batch-id', 'proof-truncated', 'proof-extended', 'proof-reordered', 'second-preimage', 'leaf-from-other-batch', 'decision-altered', 'position-outside-batch', 'malformed']) {
      expect(count(c), c).toBeGreaterThan(0);
    }
    expect(new Set(file.vectors.map((v) => v.id)).size).toBe(file.vectors.length);
  });

  it('the pure checks alone pass every foreign-contract vector: only the trust check catches them', () => {
    for (const v of file.vectors.filter((x) => x.category === 'foreign-contract')) {
      expect(verifyProofBundle(applyPatch(file.bases[v.base]!.bundle, v.patch)), v.id).toEqual({ ok: true });
      expect(v.contract, `${v.id}: no contract call (the contract-side defence is the pinned address)`).toBeUndefined();
    }
  });

  it('every vector gives its expected result (all mutated ones rejected with their code)', () => {
    const wrong: string[] = [];
    for (const v of file.vectors) {
      const result = verifyPinned(applyPatch(file.bases[v.base]!.bundle, v.patch));
      const got = result.ok ? { ok: true } : { ok: false, code: result.code };
      if (JSON.stringify(got) !== JSON.stringify(v.expected)) wrong.push(`${v.id} (${v.description}): got ${JSON.stringify(got)}`);
    }
    expect(wrong).toEqual([]);
    expect(file.vectors.filter((v) => !v.expected.ok).length).toBeGreaterThan(1700);
  });

  it('the contract inputs agree with an independent check: OpenZeppelin merkle-tree and a naive proof walk', () => {
    const roots = new Map(file.contractBatches.map((b) => [b.batchId, b.root]));
    for (const v of file.vectors) {
      if (!v.contract) continue;
      const root = roots.get(v.contract.batchId);
      // verifyDecision: false for an unknown batch, else MerkleProof.verify against the stored root.
      const naive = root !== undefined && naiveProcess(v.contract.leaf, v.contract.proof) === root;
      expect(naive, v.id).toBe(v.contract.expected);
      expect(root !== undefined && processProof(v.contract.leaf, v.contract.proof) === root, v.id).toBe(v.contract.expected);
    }
    for (const { bundle } of file.bases) {
      expect(StandardMerkleTree.verify(bundle.batch.root, [...bundle.leafTypes], leafTuple(bundle.decision), [...bundle.proof])).toBe(true);
    }
  });
});

/** A reference proof walk over BigInt, written apart from merkle-core.ts on purpose. */
function naiveProcess(leaf: string, proof: readonly string[]): string {
  let node = leaf.toLowerCase();
  for (const sibling of proof) {
    const [a, b] = BigInt(node) <= BigInt(sibling) ? [node, sibling.toLowerCase()] : [sibling.toLowerCase(), node];
    node = keccakHex(a.slice(2) + b.slice(2));
  }
  return node;
}

function keccakHex(hex: string): string {
  return keccak256(`0x${hex}`);
}

/** The leaf tuple as docs/proof-bundle.md tells a third party to build it. */
function leafTuple(d: VectorFile['bases'][number]['bundle']['decision']): unknown[] {
  const h = (s: string) => keccak256(toUtf8Bytes(s));
  const reasonsHash = h(JSON.stringify(d.reasons.map(({ code, contribution, text }) => ({ code, contribution, text }))));
  return [d.decisionId, d.claimCommitment, Math.round(d.score * 1e6), ['approve', 'review', 'flag'].indexOf(d.outcome), d.modelHash, reasonsHash, String(Date.parse(d.decidedAt)), h(d.log.topic), d.log.partition, d.log.offset];
}
