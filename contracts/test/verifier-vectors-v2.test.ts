import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Contract, Signer } from 'ethers';
import { network } from 'hardhat';
import { loadProofBundleV2 } from '../../anchoring/core/proof-bundle-v2.ts';
import { contractCallsOf, VECTORS_V2_FILE, type ContractCallsV2, type VectorFileV2 } from '../../tests/vectors/generate-v2.ts';
import { applyPatch } from '../../tests/vectors/patch.ts';

/**
 * The v2 verifier test vectors (tests/vectors/verifier-vectors-v2.json, made by
 * tests/vectors/generate-v2.ts) walked through DecisionAnchorV2: the file's `chain` state (epochs
 * and flagged roots, each recorded by its anchorer, one of them a foreign anchorer pre-empting our
 * epoch id) is set up on a fresh deployment, then every vector with a `contract` expectation has
 * its `verifyDecisionValues` (and, with a flagged section, `verifyFlaggedValues`) calls derived
 * from the patched bundle by `contractCallsOf` and must get exactly the stated booleans. The
 * TypeScript verifier walks the same file in tests/unit/anchoring/verifier-vectors-v2.test.ts.
 *
 * The contract sees only values, so vectors whose defence is elsewhere (the address the verifier
 * asks, `epoch.sequence`, labels) carry the contract's own answer, which may be true.
 */
const file = JSON.parse(readFileSync(VECTORS_V2_FILE, 'utf8')) as VectorFileV2;
const { ethers, networkHelpers } = await network.create();

/**
 * A signer for `address`: the vector file's anchorers are fixed addresses (the generator uses
 * well-known dev accounts), so they are impersonated on the simulated chain and funded for gas.
 */
async function signerAt(address: string): Promise<Signer> {
  await networkHelpers.impersonateAccount(address);
  await networkHelpers.setBalance(address, 10n ** 20n);
  return ethers.getSigner(address);
}

async function vectorChainFixture() {
  const [admin, registrar] = await ethers.getSigners();
  const anchorers = [...new Set([...file.chain.epochs, ...file.chain.flaggedRoots].map((r) => r.anchorer))];
  const first = await signerAt(anchorers[0]!);
  const anchor = (await ethers.deployContract('DecisionAnchorV2', [await admin!.getAddress(), await first.getAddress(), await registrar!.getAddress()], admin)) as unknown as Contract;
  for (const a of anchorers.slice(1)) await (await anchor.getFunction('grantRole')(ethers.id('ANCHORER_ROLE'), a)).wait();
  for (const e of file.chain.epochs) {
    const as = anchor.connect(await signerAt(e.anchorer)) as Contract;
    await (await as.getFunction('anchorEpoch')(e.epochId, e.root, e.batchCount, e.leafCount)).wait();
  }
  for (const f of file.chain.flaggedRoots) {
    const as = anchor.connect(await signerAt(f.anchorer)) as Contract;
    await (await as.getFunction('anchorFlaggedRoot')(f.root, f.count)).wait();
  }
  return { anchor };
}

/** The calls a vector's patched bundle makes, or undefined when it cannot be expressed as values. */
function callsOf(v: VectorFileV2['vectors'][number]): ContractCallsV2 | undefined {
  try {
    return contractCallsOf(loadProofBundleV2(applyPatch(file.bases[v.base]!.bundle, v.patch)), file.chain);
  } catch {
    return undefined;
  }
}

describe('DecisionAnchorV2 on the v2 verifier test vectors', function () {
  const withCall = file.vectors.filter((v) => v.contract !== undefined);

  it('the file has contract vectors for every proof-related category, including the internal node and empty-proof attacks', function () {
    const categories = new Set(withCall.map((v) => v.category));
    for (const c of ['happy', 'leaf-bitflip', 'proof-bitflip', 'epoch-proof-bitflip', 'flagged-proof-bitflip', 'root-bitflip', 'id-bitflip', 'decision-altered', 'batch-altered', 'proof-truncated', 'proof-extended', 'proof-reordered', 'proof-of-other-leaf', 'internal-node-onchain', 'root-empty-proof', 'v1-in-v2', 'untrusted-anchor', 'entry-of-other-range', 'position-outside-batch', 'leaf-from-other-batch']) {
      expect(categories.has(c), c).to.equal(true);
    }
    expect(withCall.length).to.be.greaterThan(3500);
  });

  it('answers every vector as stated: verifyDecisionValues and verifyFlaggedValues', async function () {
    this.timeout(600_000);
    const { anchor } = await networkHelpers.loadFixture(vectorChainFixture);
    const verifyDecision = anchor.getFunction('verifyDecisionValues');
    const verifyFlagged = anchor.getFunction('verifyFlaggedValues');
    const wrong: string[] = [];
    let decisionCalls = 0;
    let flaggedCalls = 0;
    for (let i = 0; i < withCall.length; i += 64) {
      // Chunks of concurrent static calls: EDR answers each in well under a millisecond of work.
      await Promise.all(
        withCall.slice(i, i + 64).map(async (v) => {
          const calls = callsOf(v);
          if (!calls) return void wrong.push(`${v.id}: has a contract expectation but no calls`);
          const d = calls.decision;
          const got = (await verifyDecision.staticCall(d.anchorer, d.epochId, d.values, d.proof, d.entry, d.epochProof)) as boolean;
          decisionCalls++;
          if (got !== v.contract!.decision) wrong.push(`${v.id} (${v.description}): verifyDecisionValues ${got}`);
          if (calls.flagged) {
            const f = calls.flagged;
            const gotFlagged = (await verifyFlagged.staticCall(f.anchorer, f.root, f.values, f.proof)) as boolean;
            flaggedCalls++;
            if (gotFlagged !== v.contract!.flagged) wrong.push(`${v.id} (${v.description}): verifyFlaggedValues ${gotFlagged}`);
          }
        }),
      );
    }
    expect(wrong).to.deep.equal([]);
    expect(decisionCalls).to.equal(withCall.length);
    expect(flaggedCalls).to.equal(withCall.filter((v) => v.contract!.flagged !== undefined).length);
    console.log(`      v2 vectors through DecisionAnchorV2: ${decisionCalls} verifyDecisionValues, ${flaggedCalls} verifyFlaggedValues calls`);
  });

  it('rejects every internal node presented as a decision and every root with an empty proof', async function () {
    const { anchor } = await networkHelpers.loadFixture(vectorChainFixture);
    const attacks = withCall.filter((v) => v.category === 'internal-node-onchain' || v.category === 'root-empty-proof');
    expect(attacks.length).to.be.greaterThan(0);
    for (const v of attacks) {
      const d = callsOf(v)!.decision;
      expect(await anchor.getFunction('verifyDecisionValues').staticCall(d.anchorer, d.epochId, d.values, d.proof, d.entry, d.epochProof), v.id).to.equal(false);
    }
  });

  it("the foreign anchorer's record of our epoch id never verifies our decisions", async function () {
    const { anchor } = await networkHelpers.loadFixture(vectorChainFixture);
    const foreign = file.chain.epochs.find((e) => e.anchorer !== file.trustAnchor.anchorer)!;
    const happy = file.bases.find((b) => b.bundle.epoch.epochId.toLowerCase() === foreign.epochId)!.contract.decision;
    const verify = anchor.getFunction('verifyDecisionValues');
    expect(await verify.staticCall(happy.anchorer, happy.epochId, happy.values, happy.proof, happy.entry, happy.epochProof)).to.equal(true);
    expect(await verify.staticCall(foreign.anchorer, happy.epochId, happy.values, happy.proof, happy.entry, happy.epochProof)).to.equal(false);
  });
});
