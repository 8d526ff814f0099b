import { expect } from 'chai';
import type { Contract, Signer } from 'ethers';
import { network } from 'hardhat';

/**
 * FederationRegistry: rounds in order per coordinator and federation, each custom error with its
 * arguments, events with their arguments, per-coordinator namespaces, and model registration
 * citing recorded rounds only.
 */
const { ethers, networkHelpers } = await network.create();
const { id, ZeroHash } = ethers;

const FED = id('federation-a');
const D0 = id('round-0');
const D1 = id('round-1');
const AGG = id('aggregate');
const C1 = id('commitment-1');
const C2 = id('commitment-2');
const MODEL = id('model');
const LINEAGE = id('lineage');

async function deployed(): Promise<{ registry: Contract; coordinator: Signer; other: Signer }> {
  const [coordinator, other] = await ethers.getSigners();
  const registry = (await ethers.deployContract('FederationRegistry')) as unknown as Contract;
  return { registry, coordinator: coordinator!, other: other! };
}

describe('FederationRegistry', () => {
  it('records rounds in order and emits RoundRecorded with the commitments', async () => {
    const { registry, coordinator } = await networkHelpers.loadFixture(deployed);
    const who = await coordinator.getAddress();
    await expect(registry.recordRound(FED, 0, D0, AGG, [C1, C2])).to.emit(registry, 'RoundRecorded').withArgs(who, FED, 0, D0, AGG, [C1, C2]);
    await registry.recordRound(FED, 1, D1, AGG, [C1]);
    expect(await registry.roundDigestOf(who, FED, 0)).to.equal(D0);
    expect(await registry.roundDigestOf(who, FED, 1)).to.equal(D1);
    expect(await registry.roundCountOf(who, FED)).to.equal(2n);
  });

  it('refuses a round out of order, a rewrite, and a zero digest', async () => {
    const { registry } = await networkHelpers.loadFixture(deployed);
    await expect(registry.recordRound(FED, 1, D1, AGG, [])).to.be.revertedWithCustomError(registry, 'FederationRegistryRoundOutOfOrder').withArgs(FED, 1, 0);
    await registry.recordRound(FED, 0, D0, AGG, []);
    await expect(registry.recordRound(FED, 0, D1, AGG, [])).to.be.revertedWithCustomError(registry, 'FederationRegistryRoundOutOfOrder').withArgs(FED, 0, 1);
    await expect(registry.recordRound(FED, 1, ZeroHash, AGG, [])).to.be.revertedWithCustomError(registry, 'FederationRegistryZeroDigest');
  });

  it('keeps coordinators apart: another account writes only its own namespace', async () => {
    const { registry, coordinator, other } = await networkHelpers.loadFixture(deployed);
    await registry.recordRound(FED, 0, D0, AGG, []);
    const asOther = registry.connect(other) as Contract;
    await asOther.recordRound(FED, 0, D1, AGG, []);
    expect(await registry.roundDigestOf(await coordinator.getAddress(), FED, 0)).to.equal(D0);
    expect(await registry.roundDigestOf(await other.getAddress(), FED, 0)).to.equal(D1);
  });

  it('registers a model citing recorded rounds once, with its event and record', async () => {
    const { registry, coordinator } = await networkHelpers.loadFixture(deployed);
    const who = await coordinator.getAddress();
    await expect(registry.registerModel(MODEL, FED, LINEAGE, 1)).to.be.revertedWithCustomError(registry, 'FederationRegistryRoundsMissing').withArgs(FED, 1, 0);
    await registry.recordRound(FED, 0, D0, AGG, []);
    await registry.recordRound(FED, 1, D1, AGG, []);
    await expect(registry.registerModel(MODEL, FED, LINEAGE, 3)).to.be.revertedWithCustomError(registry, 'FederationRegistryRoundsMissing').withArgs(FED, 3, 2);
    await expect(registry.registerModel(MODEL, FED, LINEAGE, 2)).to.emit(registry, 'FederatedModelRegistered').withArgs(who, MODEL, FED, LINEAGE, 2);
    const record = await registry.modelOf(who, MODEL);
    expect(record.federationId).to.equal(FED);
    expect(record.lineageDigest).to.equal(LINEAGE);
    expect(record.roundCount).to.equal(2n);
    expect(record.registeredAt).to.be.greaterThan(0n);
    await expect(registry.registerModel(MODEL, FED, LINEAGE, 2)).to.be.revertedWithCustomError(registry, 'FederationRegistryModelExists').withArgs(MODEL);
    await expect(registry.registerModel(ZeroHash, FED, LINEAGE, 2)).to.be.revertedWithCustomError(registry, 'FederationRegistryZeroDigest');
  });
});
