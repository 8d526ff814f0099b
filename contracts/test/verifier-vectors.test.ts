import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Contract } from 'ethers';
import { network } from 'hardhat';

/**
 * The verifier test vectors (tests/vectors/verifier-vectors.json, made by tests/vectors/generate.ts)
 * walked through the contract: every vector that concerns the proof carries the inputs of
 * `verifyDecision(batchId, leaf, proof)` and the answer it must give, after the file's
 * `contractBatches` are anchored. The TypeScript verifier walks the same file in
 * tests/unit/anchoring/verifier-vectors.test.ts.
 */

interface ContractCall {
  batchId: string;
  leaf: string;
  proof: string[];
  expected: boolean;
}
interface VectorFile {
  contractBatches: Array<{ batchId: string; root: string; leafCount: number }>;
  vectors: Array<{ id: string; category: string; description: string; contract?: ContractCall }>;
}

const file = JSON.parse(readFileSync(new URL('../../tests/vectors/verifier-vectors.json', import.meta.url), 'utf8')) as VectorFile;
const { ethers, networkHelpers } = await network.create();

async function anchoredVectorsFixture() {
  const [admin] = await ethers.getSigners();
  if (!admin) throw new Error('need a signer');
  const anchor = (await ethers.deployContract('DecisionAnchor', [await admin.getAddress()], admin)) as unknown as Contract;
  await anchor.getFunction('grantRole')(ethers.id('ANCHORER_ROLE'), await admin.getAddress());
  // anchorBatches in chunks, well under the block gas limit (~49k gas per batch).
  for (let i = 0; i < file.contractBatches.length; i += 100) {
    const chunk = file.contractBatches.slice(i, i + 100);
    const tx = await anchor.getFunction('anchorBatches')(chunk.map((b) => b.batchId), chunk.map((b) => b.root), chunk.map((b) => b.leafCount));
    await tx.wait();
  }
  return { anchor };
}

describe('DecisionAnchor.verifyDecision on the verifier test vectors', function () {
  const withCall = file.vectors.filter((v) => v.contract !== undefined);

  it('the file has contract vectors for every proof-related category', function () {
    const categories = new Set(withCall.map((v) => v.category));
    for (const c of ['happy', 'leaf-bitflip', 'proof-bitflip', 'root-bitflip', 'batchid-bitflip', 'wrong-batch-id', 'proof-truncated', 'proof-extended', 'proof-reordered', 'second-preimage', 'leaf-from-other-batch']) {
      expect(categories.has(c), c).to.equal(true);
    }
    expect(withCall.length).to.be.greaterThan(1700);
  });

  it('answers every vector as expected: accepts the happy paths, rejects every mutation', async function () {
    const { anchor } = await networkHelpers.loadFixture(anchoredVectorsFixture);
    const verify = anchor.getFunction('verifyDecision');
    const wrong: string[] = [];
    for (const v of withCall) {
      const { batchId, leaf, proof, expected } = v.contract!;
      const got = (await verify.staticCall(batchId, leaf, proof)) as boolean;
      if (got !== expected) wrong.push(`${v.id} (${v.description}): got ${got}`);
    }
    expect(wrong).to.deep.equal([]);
    expect(withCall.filter((v) => v.contract!.expected).length).to.equal(file.vectors.filter((v) => v.category === 'happy').length);
  });

  it('WARNING made concrete: a raw internal node with the rest of its path passes, which is why verifiers recompute the leaf', async function () {
    const { anchor } = await networkHelpers.loadFixture(anchoredVectorsFixture);
    const happy = withCall.find((v) => v.category === 'happy' && v.contract!.proof.length === 3)!.contract!;
    const [first, ...rest] = happy.proof;
    const [a, b] = [happy.leaf, first!].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : BigInt(x) > BigInt(y) ? 1 : 0));
    const parent = ethers.keccak256(ethers.concat([a!, b!]));
    expect(await anchor.getFunction('verifyDecision').staticCall(happy.batchId, parent, rest)).to.equal(true);
    // The same 64 bytes hashed the way a verifier hashes a leaf value (twice) do not pass.
    const asLeaf = ethers.keccak256(ethers.keccak256(ethers.concat([a!, b!])));
    expect(await anchor.getFunction('verifyDecision').staticCall(happy.batchId, asLeaf, rest)).to.equal(false);
  });
});
