import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { expect } from 'chai';
import type { Contract, ContractTransactionResponse, Log, Signer } from 'ethers';
import { network } from 'hardhat';
import type { NetworkConnection } from 'hardhat/types/network';

/**
 * DecisionAnchor: every write path (success with event arguments and stored values, each custom
 * error with its arguments), access control, pausing, and `verifyDecision` cross-checked against
 * `@openzeppelin/merkle-tree`'s StandardMerkleTree, the library the anchoring code builds trees
 * with. Each test starts from the same deployed state through `loadFixture` (EVM snapshot).
 */

const { ethers, networkHelpers } = await network.create();
const { ZeroAddress, ZeroHash, AbiCoder, concat, id, keccak256 } = ethers;

/** Leaf tuple used for the trees below; shaped like a decision (id, salted commitment, score). */
const LEAF_TYPES = ['bytes32', 'bytes32', 'uint256'];
type LeafValue = [string, string, bigint];

const ANCHORER_ROLE = id('ANCHORER_ROLE');
const MODEL_REGISTRAR_ROLE = id('MODEL_REGISTRAR_ROLE');
const DEFAULT_ADMIN_ROLE = ZeroHash;

const BATCH_ID = id('decisions/0/0-19');
const ROOT = id('root-a');
const OTHER_ROOT = id('root-b');
const MODEL_HASH = id('model:rf+tfjs@2025-01');
const MODEL_URI = 'ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';

/** Deploys with `admin` as admin, grants the two working roles; `stranger` holds no role. */
async function deployFixture({ ethers }: NetworkConnection) {
  const [admin, anchorer, registrar, stranger, newAnchorer] = await ethers.getSigners();
  if (!admin || !anchorer || !registrar || !stranger || !newAnchorer) throw new Error('need 5 signers');
  const anchor = await ethers.deployContract('DecisionAnchor', [await admin.getAddress()], admin);
  await anchor.grantRole(ANCHORER_ROLE, await anchorer.getAddress());
  await anchor.grantRole(MODEL_REGISTRAR_ROLE, await registrar.getAddress());
  return { anchor, admin, anchorer, registrar, stranger, newAnchorer };
}

/** A 20-leaf StandardMerkleTree over decision-like tuples, anchored as BATCH_ID. */
async function anchoredTreeFixture(connection: NetworkConnection) {
  const deployed = await deployFixture(connection);
  const values: LeafValue[] = Array.from({ length: 20 }, (_, i) => [
    id(`decision-${i}`),
    id(`salted-commitment-${i}`),
    BigInt(i * 37 + 11),
  ]);
  const tree = StandardMerkleTree.of(values, LEAF_TYPES);
  await as(deployed.anchor, deployed.anchorer).anchorBatch(BATCH_ID, tree.root, values.length);
  return { ...deployed, values, tree };
}

/** `contract` with `signer` as its runner (ethers types `connect` as returning BaseContract). */
function as(contract: Contract, signer: Signer): Contract {
  return contract.connect(signer) as Contract;
}

/** Block number and timestamp of the block that mined `tx`. */
async function minedIn(tx: ContractTransactionResponse): Promise<{ blockNumber: number; timestamp: number; gasUsed: bigint }> {
  const receipt = await tx.wait();
  if (receipt === null) throw new Error('no receipt');
  const block = await ethers.provider.getBlock(receipt.blockNumber);
  if (block === null) throw new Error('no block');
  return { blockNumber: receipt.blockNumber, timestamp: block.timestamp, gasUsed: receipt.gasUsed };
}

/** The leaf as Solidity computes it: keccak256(bytes.concat(keccak256(abi.encode(values)))). */
function solidityLeaf(types: string[], values: unknown[]): string {
  return keccak256(concat([keccak256(AbiCoder.defaultAbiCoder().encode(types, values))]));
}

function flipLowBit(hash: string): string {
  const last = Number.parseInt(hash.slice(-2), 16) ^ 1;
  return hash.slice(0, -2) + last.toString(16).padStart(2, '0');
}

describe('DecisionAnchor', function () {
  describe('deployment', function () {
    it('gives the admin DEFAULT_ADMIN_ROLE only, and no one the working roles', async function () {
      const { anchor, admin, anchorer } = await networkHelpers.loadFixture(deployFixture);
      const fresh = await ethers.deployContract('DecisionAnchor', [await admin.getAddress()]);
      expect(await fresh.hasRole(DEFAULT_ADMIN_ROLE, await admin.getAddress())).to.equal(true);
      expect(await fresh.hasRole(ANCHORER_ROLE, await admin.getAddress())).to.equal(false);
      expect(await fresh.hasRole(MODEL_REGISTRAR_ROLE, await admin.getAddress())).to.equal(false);
      expect(await anchor.hasRole(DEFAULT_ADMIN_ROLE, await anchorer.getAddress())).to.equal(false);
      expect(await fresh.paused()).to.equal(false);
    });

    it('exposes the role ids as keccak256 of their names, administered by DEFAULT_ADMIN_ROLE', async function () {
      const { anchor } = await networkHelpers.loadFixture(deployFixture);
      expect(await anchor.ANCHORER_ROLE()).to.equal(ANCHORER_ROLE);
      expect(await anchor.MODEL_REGISTRAR_ROLE()).to.equal(MODEL_REGISTRAR_ROLE);
      expect(await anchor.getRoleAdmin(ANCHORER_ROLE)).to.equal(DEFAULT_ADMIN_ROLE);
      expect(await anchor.getRoleAdmin(MODEL_REGISTRAR_ROLE)).to.equal(DEFAULT_ADMIN_ROLE);
    });

    it('rejects the zero address as admin', async function () {
      const factory = await ethers.getContractFactory('DecisionAnchor');
      await expect(factory.deploy(ZeroAddress))
        .to.be.revertedWithCustomError(factory, 'DecisionAnchorInvalidAdmin')
        .withArgs(ZeroAddress);
    });
  });

  describe('anchorBatch', function () {
    it('stores the batch and emits BatchAnchored', async function () {
      const { anchor, anchorer } = await networkHelpers.loadFixture(deployFixture);
      const tx = await as(anchor, anchorer).anchorBatch(BATCH_ID, ROOT, 20);
      await expect(tx).to.emit(anchor, 'BatchAnchored').withArgs(BATCH_ID, ROOT, 20);
      const { blockNumber, timestamp } = await minedIn(tx);
      expect(await anchor.batchOf(BATCH_ID)).to.deep.equal([ROOT, 20n, BigInt(timestamp), BigInt(blockNumber)]);
    });

    it('returns zeros for a batch never anchored', async function () {
      const { anchor } = await networkHelpers.loadFixture(deployFixture);
      expect(await anchor.batchOf(BATCH_ID)).to.deep.equal([ZeroHash, 0n, 0n, 0n]);
    });

    it('refuses a second write of the same id, naming the stored root, whatever the new root', async function () {
      const { anchor, anchorer } = await networkHelpers.loadFixture(deployFixture);
      const first = await minedIn(await as(anchor, anchorer).anchorBatch(BATCH_ID, ROOT, 20));
      for (const root of [ROOT, OTHER_ROOT]) {
        await expect(as(anchor, anchorer).anchorBatch(BATCH_ID, root, 21))
          .to.be.revertedWithCustomError(anchor, 'DecisionAnchorBatchExists')
          .withArgs(BATCH_ID, ROOT);
      }
      expect(await anchor.batchOf(BATCH_ID)).to.deep.equal([ROOT, 20n, BigInt(first.timestamp), BigInt(first.blockNumber)]);
    });

    it('rejects a zero root or a zero leaf count', async function () {
      const { anchor, anchorer } = await networkHelpers.loadFixture(deployFixture);
      await expect(as(anchor, anchorer).anchorBatch(BATCH_ID, ZeroHash, 20))
        .to.be.revertedWithCustomError(anchor, 'DecisionAnchorInvalidBatch')
        .withArgs(BATCH_ID);
      await expect(as(anchor, anchorer).anchorBatch(BATCH_ID, ROOT, 0))
        .to.be.revertedWithCustomError(anchor, 'DecisionAnchorInvalidBatch')
        .withArgs(BATCH_ID);
    });

    it('accepts the full uint32 leaf count', async function () {
      const { anchor, anchorer } = await networkHelpers.loadFixture(deployFixture);
      await as(anchor, anchorer).anchorBatch(BATCH_ID, ROOT, 2n ** 32n - 1n);
      const [, leafCount] = await anchor.batchOf(BATCH_ID);
      expect(leafCount).to.equal(2n ** 32n - 1n);
    });

    it('rejects accounts without ANCHORER_ROLE, including the admin and the registrar', async function () {
      const { anchor, admin, registrar, stranger } = await networkHelpers.loadFixture(deployFixture);
      for (const signer of [admin, registrar, stranger]) {
        await expect(as(anchor, signer).anchorBatch(BATCH_ID, ROOT, 20))
          .to.be.revertedWithCustomError(anchor, 'AccessControlUnauthorizedAccount')
          .withArgs(await signer.getAddress(), ANCHORER_ROLE);
      }
    });

    it('reverts while paused', async function () {
      const { anchor, anchorer } = await networkHelpers.loadFixture(deployFixture);
      await anchor.pause();
      await expect(as(anchor, anchorer).anchorBatch(BATCH_ID, ROOT, 20)).to.be.revertedWithCustomError(anchor, 'EnforcedPause');
    });
  });

  describe('anchorBatches', function () {
    const ids = [id('b0'), id('b1'), id('b2')];
    const roots = [id('r0'), id('r1'), id('r2')];
    const counts = [10, 11, 12];

    it('anchors every batch in one transaction, emitting BatchAnchored for each in order', async function () {
      const { anchor, anchorer } = await networkHelpers.loadFixture(deployFixture);
      const tx = await as(anchor, anchorer).anchorBatches(ids, roots, counts);
      for (let i = 0; i < ids.length; i++) {
        await expect(tx).to.emit(anchor, 'BatchAnchored').withArgs(ids[i], roots[i], counts[i]);
      }
      const { blockNumber, timestamp } = await minedIn(tx);
      const receipt = await tx.wait();
      const logged = receipt.logs.map((log: Log) => anchor.interface.parseLog(log)?.args[0]);
      expect(logged).to.deep.equal(ids);
      for (let i = 0; i < ids.length; i++) {
        expect(await anchor.batchOf(ids[i])).to.deep.equal([roots[i], BigInt(counts[i]!), BigInt(timestamp), BigInt(blockNumber)]);
      }
    });

    it('rejects arrays of different lengths, naming the three lengths', async function () {
      const { anchor, anchorer } = await networkHelpers.loadFixture(deployFixture);
      await expect(as(anchor, anchorer).anchorBatches(ids, roots.slice(0, 2), counts))
        .to.be.revertedWithCustomError(anchor, 'DecisionAnchorLengthMismatch')
        .withArgs(3, 2, 3);
      await expect(as(anchor, anchorer).anchorBatches(ids, roots, counts.slice(0, 1)))
        .to.be.revertedWithCustomError(anchor, 'DecisionAnchorLengthMismatch')
        .withArgs(3, 3, 1);
      await expect(as(anchor, anchorer).anchorBatches(ids.slice(0, 2), roots, counts))
        .to.be.revertedWithCustomError(anchor, 'DecisionAnchorLengthMismatch')
        .withArgs(2, 3, 3);
    });

    it('rejects empty arrays', async function () {
      const { anchor, anchorer } = await networkHelpers.loadFixture(deployFixture);
      await expect(as(anchor, anchorer).anchorBatches([], [], [])).to.be.revertedWithCustomError(
        anchor,
        'DecisionAnchorEmptyInput',
      );
    });

    it('reverts whole when one id already exists on chain, writing none of the others', async function () {
      const { anchor, anchorer } = await networkHelpers.loadFixture(deployFixture);
      await as(anchor, anchorer).anchorBatch(ids[1]!, ROOT, 5);
      await expect(as(anchor, anchorer).anchorBatches(ids, roots, counts))
        .to.be.revertedWithCustomError(anchor, 'DecisionAnchorBatchExists')
        .withArgs(ids[1], ROOT);
      expect((await anchor.batchOf(ids[0]))[0]).to.equal(ZeroHash);
      expect((await anchor.batchOf(ids[2]))[0]).to.equal(ZeroHash);
    });

    it('reverts whole when an id repeats inside the call', async function () {
      const { anchor, anchorer } = await networkHelpers.loadFixture(deployFixture);
      await expect(as(anchor, anchorer).anchorBatches([ids[0]!, ids[1]!, ids[0]!], roots, counts))
        .to.be.revertedWithCustomError(anchor, 'DecisionAnchorBatchExists')
        .withArgs(ids[0], roots[0]);
      expect((await anchor.batchOf(ids[0]))[0]).to.equal(ZeroHash);
      expect((await anchor.batchOf(ids[1]))[0]).to.equal(ZeroHash);
    });

    it('reverts whole on an invalid entry', async function () {
      const { anchor, anchorer } = await networkHelpers.loadFixture(deployFixture);
      await expect(as(anchor, anchorer).anchorBatches(ids, [roots[0]!, roots[1]!, ZeroHash], counts))
        .to.be.revertedWithCustomError(anchor, 'DecisionAnchorInvalidBatch')
        .withArgs(ids[2]);
      expect((await anchor.batchOf(ids[0]))[0]).to.equal(ZeroHash);
    });

    it('requires ANCHORER_ROLE and not paused', async function () {
      const { anchor, anchorer, stranger } = await networkHelpers.loadFixture(deployFixture);
      await expect(as(anchor, stranger).anchorBatches(ids, roots, counts))
        .to.be.revertedWithCustomError(anchor, 'AccessControlUnauthorizedAccount')
        .withArgs(await stranger.getAddress(), ANCHORER_ROLE);
      await anchor.pause();
      await expect(as(anchor, anchorer).anchorBatches(ids, roots, counts)).to.be.revertedWithCustomError(
        anchor,
        'EnforcedPause',
      );
    });
  });

  describe('anchorFlagged', function () {
    const leaves = [id('flagged-0'), id('flagged-1'), id('flagged-2')];

    it('records when each leaf was anchored and emits FlaggedDecisionAnchored per leaf', async function () {
      const { anchor, anchorer } = await networkHelpers.loadFixture(deployFixture);
      const tx = await as(anchor, anchorer).anchorFlagged(leaves);
      for (const leaf of leaves) {
        await expect(tx).to.emit(anchor, 'FlaggedDecisionAnchored').withArgs(leaf);
      }
      const { timestamp } = await minedIn(tx);
      for (const leaf of leaves) {
        expect(await anchor.flaggedAnchoredAt(leaf)).to.equal(timestamp);
      }
      expect(await anchor.flaggedAnchoredAt(id('never-flagged'))).to.equal(0);
    });

    it('refuses a leaf anchored before', async function () {
      const { anchor, anchorer } = await networkHelpers.loadFixture(deployFixture);
      const first = await minedIn(await as(anchor, anchorer).anchorFlagged([leaves[0]!]));
      await networkHelpers.time.increase(60);
      await expect(as(anchor, anchorer).anchorFlagged([leaves[1]!, leaves[0]!]))
        .to.be.revertedWithCustomError(anchor, 'DecisionAnchorFlaggedExists')
        .withArgs(leaves[0]);
      expect(await anchor.flaggedAnchoredAt(leaves[0])).to.equal(first.timestamp);
      expect(await anchor.flaggedAnchoredAt(leaves[1])).to.equal(0);
    });

    it('refuses a leaf repeated inside the call, writing nothing', async function () {
      const { anchor, anchorer } = await networkHelpers.loadFixture(deployFixture);
      await expect(as(anchor, anchorer).anchorFlagged([leaves[0]!, leaves[1]!, leaves[0]!]))
        .to.be.revertedWithCustomError(anchor, 'DecisionAnchorFlaggedExists')
        .withArgs(leaves[0]);
      expect(await anchor.flaggedAnchoredAt(leaves[0])).to.equal(0);
    });

    it('rejects an empty array and a zero leaf', async function () {
      const { anchor, anchorer } = await networkHelpers.loadFixture(deployFixture);
      await expect(as(anchor, anchorer).anchorFlagged([])).to.be.revertedWithCustomError(anchor, 'DecisionAnchorEmptyInput');
      await expect(as(anchor, anchorer).anchorFlagged([leaves[0]!, ZeroHash]))
        .to.be.revertedWithCustomError(anchor, 'DecisionAnchorInvalidLeaf')
        .withArgs(ZeroHash);
    });

    it('requires ANCHORER_ROLE and not paused', async function () {
      const { anchor, anchorer, registrar } = await networkHelpers.loadFixture(deployFixture);
      await expect(as(anchor, registrar).anchorFlagged(leaves))
        .to.be.revertedWithCustomError(anchor, 'AccessControlUnauthorizedAccount')
        .withArgs(await registrar.getAddress(), ANCHORER_ROLE);
      await anchor.pause();
      await expect(as(anchor, anchorer).anchorFlagged(leaves)).to.be.revertedWithCustomError(anchor, 'EnforcedPause');
    });
  });

  describe('registerModel', function () {
    it('stores registrant, time and metadata URI, and emits ModelRegistered', async function () {
      const { anchor, registrar } = await networkHelpers.loadFixture(deployFixture);
      const tx = await as(anchor, registrar).registerModel(MODEL_HASH, MODEL_URI);
      await expect(tx)
        .to.emit(anchor, 'ModelRegistered')
        .withArgs(MODEL_HASH, await registrar.getAddress(), MODEL_URI);
      const { timestamp } = await minedIn(tx);
      expect(await anchor.modelOf(MODEL_HASH)).to.deep.equal([await registrar.getAddress(), BigInt(timestamp), MODEL_URI]);
    });

    it('returns an empty record for an unknown model', async function () {
      const { anchor } = await networkHelpers.loadFixture(deployFixture);
      expect(await anchor.modelOf(MODEL_HASH)).to.deep.equal([ZeroAddress, 0n, '']);
    });

    it('refuses a model hash registered before, keeping the first record', async function () {
      const { anchor, registrar, admin } = await networkHelpers.loadFixture(deployFixture);
      await as(anchor, registrar).registerModel(MODEL_HASH, MODEL_URI);
      await anchor.grantRole(MODEL_REGISTRAR_ROLE, await admin.getAddress());
      for (const signer of [registrar, admin]) {
        await expect(as(anchor, signer).registerModel(MODEL_HASH, 'https://example.invalid/other'))
          .to.be.revertedWithCustomError(anchor, 'DecisionAnchorModelExists')
          .withArgs(MODEL_HASH);
      }
      const [registrant, , uri] = await anchor.modelOf(MODEL_HASH);
      expect([registrant, uri]).to.deep.equal([await registrar.getAddress(), MODEL_URI]);
    });

    it('rejects a zero model hash', async function () {
      const { anchor, registrar } = await networkHelpers.loadFixture(deployFixture);
      await expect(as(anchor, registrar).registerModel(ZeroHash, MODEL_URI))
        .to.be.revertedWithCustomError(anchor, 'DecisionAnchorInvalidModel')
        .withArgs(ZeroHash);
    });

    it('requires MODEL_REGISTRAR_ROLE and not paused', async function () {
      const { anchor, anchorer, registrar } = await networkHelpers.loadFixture(deployFixture);
      await expect(as(anchor, anchorer).registerModel(MODEL_HASH, MODEL_URI))
        .to.be.revertedWithCustomError(anchor, 'AccessControlUnauthorizedAccount')
        .withArgs(await anchorer.getAddress(), MODEL_REGISTRAR_ROLE);
      await anchor.pause();
      await expect(as(anchor, registrar).registerModel(MODEL_HASH, MODEL_URI)).to.be.revertedWithCustomError(
        anchor,
        'EnforcedPause',
      );
    });
  });

  describe('pause / unpause', function () {
    it('lets the admin pause and unpause, with Paused / Unpaused events', async function () {
      const { anchor, admin, anchorer } = await networkHelpers.loadFixture(deployFixture);
      await expect(anchor.pause()).to.emit(anchor, 'Paused').withArgs(await admin.getAddress());
      expect(await anchor.paused()).to.equal(true);
      await expect(anchor.unpause()).to.emit(anchor, 'Unpaused').withArgs(await admin.getAddress());
      expect(await anchor.paused()).to.equal(false);
      await expect(as(anchor, anchorer).anchorBatch(BATCH_ID, ROOT, 1)).to.emit(anchor, 'BatchAnchored');
    });

    it('rejects pause and unpause from accounts without DEFAULT_ADMIN_ROLE', async function () {
      const { anchor, anchorer, stranger } = await networkHelpers.loadFixture(deployFixture);
      for (const signer of [anchorer, stranger]) {
        await expect(as(anchor, signer).pause())
          .to.be.revertedWithCustomError(anchor, 'AccessControlUnauthorizedAccount')
          .withArgs(await signer.getAddress(), DEFAULT_ADMIN_ROLE);
      }
      await anchor.pause();
      await expect(as(anchor, stranger).unpause())
        .to.be.revertedWithCustomError(anchor, 'AccessControlUnauthorizedAccount')
        .withArgs(await stranger.getAddress(), DEFAULT_ADMIN_ROLE);
    });

    it('rejects pausing twice and unpausing when not paused', async function () {
      const { anchor } = await networkHelpers.loadFixture(deployFixture);
      await expect(anchor.unpause()).to.be.revertedWithCustomError(anchor, 'ExpectedPause');
      await anchor.pause();
      await expect(anchor.pause()).to.be.revertedWithCustomError(anchor, 'EnforcedPause');
    });

    it('keeps the views working while paused', async function () {
      const { anchor, values, tree } = await networkHelpers.loadFixture(anchoredTreeFixture);
      await anchor.pause();
      expect((await anchor.batchOf(BATCH_ID))[0]).to.equal(tree.root);
      expect(await anchor.verifyDecision(BATCH_ID, tree.leafHash(values[3]!), tree.getProof(3))).to.equal(true);
    });
  });

  describe('verifyDecision', function () {
    it('encodes leaves exactly as Solidity would (double keccak256 of abi.encode)', async function () {
      const { values, tree } = await networkHelpers.loadFixture(anchoredTreeFixture);
      for (const value of values) {
        expect(tree.leafHash(value)).to.equal(solidityLeaf(LEAF_TYPES, value));
      }
    });

    it('accepts every leaf of a 20-leaf StandardMerkleTree, agreeing with StandardMerkleTree.verify', async function () {
      const { anchor, values, tree } = await networkHelpers.loadFixture(anchoredTreeFixture);
      for (const [i, value] of tree.entries()) {
        const proof = tree.getProof(i);
        expect(StandardMerkleTree.verify(tree.root, LEAF_TYPES, value, proof)).to.equal(true);
        expect(await anchor.verifyDecision(BATCH_ID, solidityLeaf(LEAF_TYPES, value), proof)).to.equal(true);
      }
      expect(tree.length).to.equal(values.length);
    });

    it('accepts a one-leaf batch (empty proof, root = leaf)', async function () {
      const { anchor, anchorer } = await networkHelpers.loadFixture(deployFixture);
      const value: LeafValue = [id('only'), id('commitment'), 1n];
      const tree = StandardMerkleTree.of([value], LEAF_TYPES);
      await as(anchor, anchorer).anchorBatch(BATCH_ID, tree.root, 1);
      expect(tree.getProof(0)).to.deep.equal([]);
      expect(await anchor.verifyDecision(BATCH_ID, tree.leafHash(value), [])).to.equal(true);
    });

    it('rejects a leaf that is not in the batch', async function () {
      const { anchor, values, tree } = await networkHelpers.loadFixture(anchoredTreeFixture);
      const [decisionId, commitment, score] = values[5]!;
      const proof = tree.getProof(5);
      const tampered: LeafValue[] = [
        [decisionId, commitment, score + 1n],
        [decisionId, id('other-commitment'), score],
        [id('other-decision'), commitment, score],
      ];
      for (const value of tampered) {
        expect(StandardMerkleTree.verify(tree.root, LEAF_TYPES, value, proof)).to.equal(false);
        expect(await anchor.verifyDecision(BATCH_ID, solidityLeaf(LEAF_TYPES, value), proof)).to.equal(false);
      }
      // The single-hashed leaf of the right values is not a leaf of the tree either.
      const singleHashed = keccak256(AbiCoder.defaultAbiCoder().encode(LEAF_TYPES, values[5]!));
      expect(await anchor.verifyDecision(BATCH_ID, singleHashed, proof)).to.equal(false);
    });

    it('rejects a mutated proof: bit flip, wrong index, truncated, extended, empty', async function () {
      const { anchor, values, tree } = await networkHelpers.loadFixture(anchoredTreeFixture);
      const leaf = tree.leafHash(values[7]!);
      const proof = tree.getProof(7);
      const mutations: Record<string, string[]> = { 'another leaf’s proof': tree.getProof(8), empty: [] };
      for (let i = 0; i < proof.length; i++) {
        mutations[`bit flip in element ${i}`] = proof.map((p, j) => (j === i ? flipLowBit(p) : p));
      }
      mutations['last element dropped'] = proof.slice(0, -1);
      mutations['extra element'] = [...proof, id('extra')];
      for (const [description, mutated] of Object.entries(mutations)) {
        expect(await anchor.verifyDecision(BATCH_ID, leaf, mutated), description).to.equal(false);
      }
      expect(await anchor.verifyDecision(BATCH_ID, flipLowBit(leaf), proof), 'bit flip in leaf').to.equal(false);
    });

    it('rejects a real proof against an unknown batch or another batch', async function () {
      const { anchor, anchorer, values, tree } = await networkHelpers.loadFixture(anchoredTreeFixture);
      const leaf = tree.leafHash(values[0]!);
      const proof = tree.getProof(0);
      expect(await anchor.verifyDecision(id('unknown-batch'), leaf, proof)).to.equal(false);
      await as(anchor, anchorer).anchorBatch(id('other-batch'), OTHER_ROOT, 20);
      expect(await anchor.verifyDecision(id('other-batch'), leaf, proof)).to.equal(false);
    });

    it('cannot tell an internal node from a leaf: why verifiers must recompute the leaf (WARNING)', async function () {
      const { anchor, values, tree } = await networkHelpers.loadFixture(anchoredTreeFixture);
      const [sibling, ...rest] = tree.getProof(0);
      const leaf = tree.leafHash(values[0]!);
      // The parent of leaf 0 and its sibling: sorted-pair keccak256 of 64 bytes.
      const [lo, hi] = [leaf, sibling!].sort();
      const parent = keccak256(concat([lo!, hi!]));
      // Passed as a "leaf", the internal node verifies with the rest of the path...
      expect(await anchor.verifyDecision(BATCH_ID, parent, rest)).to.equal(true);
      // ...but no decision values hash to it: its 64-byte preimage read as a (bytes32, bytes32)
      // tuple gives a double-hashed leaf that is not in the tree.
      const forged = solidityLeaf(['bytes32', 'bytes32'], [lo, hi]);
      expect(forged).to.not.equal(parent);
      expect(await anchor.verifyDecision(BATCH_ID, forged, rest)).to.equal(false);
    });
  });

  describe('role rotation', function () {
    it('moves ANCHORER_ROLE to a new key; the old key is refused afterwards', async function () {
      const { anchor, admin, anchorer, newAnchorer } = await networkHelpers.loadFixture(deployFixture);
      const [oldAddress, newAddress, adminAddress] = await Promise.all([
        anchorer.getAddress(),
        newAnchorer.getAddress(),
        admin.getAddress(),
      ]);
      await expect(anchor.grantRole(ANCHORER_ROLE, newAddress))
        .to.emit(anchor, 'RoleGranted')
        .withArgs(ANCHORER_ROLE, newAddress, adminAddress);
      await expect(anchor.revokeRole(ANCHORER_ROLE, oldAddress))
        .to.emit(anchor, 'RoleRevoked')
        .withArgs(ANCHORER_ROLE, oldAddress, adminAddress);

      await expect(as(anchor, anchorer).anchorBatch(BATCH_ID, ROOT, 20))
        .to.be.revertedWithCustomError(anchor, 'AccessControlUnauthorizedAccount')
        .withArgs(oldAddress, ANCHORER_ROLE);
      await expect(as(anchor, anchorer).anchorFlagged([id('flagged')]))
        .to.be.revertedWithCustomError(anchor, 'AccessControlUnauthorizedAccount')
        .withArgs(oldAddress, ANCHORER_ROLE);
      await expect(as(anchor, newAnchorer).anchorBatch(BATCH_ID, ROOT, 20))
        .to.emit(anchor, 'BatchAnchored')
        .withArgs(BATCH_ID, ROOT, 20);
    });

    it('lets only the admin grant roles', async function () {
      const { anchor, anchorer, stranger } = await networkHelpers.loadFixture(deployFixture);
      await expect(as(anchor, anchorer).grantRole(ANCHORER_ROLE, await stranger.getAddress()))
        .to.be.revertedWithCustomError(anchor, 'AccessControlUnauthorizedAccount')
        .withArgs(await anchorer.getAddress(), DEFAULT_ADMIN_ROLE);
    });
  });

  describe('gas', function () {
    /**
     * Budgets a little above today's figures (see `npm run test:contracts -- --gas-stats`), so a
     * change that makes anchoring markedly dearer fails here and is looked at on purpose.
     */
    const BUDGET = {
      anchorBatch: 80_000n, // 73_555 today
      anchorFlagged1: 55_000n, // 50_741 today
      anchorFlagged10: 290_000n, // 268_463 today
      registerModel: 155_000n, // 142_590 today, with a 63-character ipfs:// URI
    };

    it('stays within the per-call gas budgets', async function () {
      const { anchor, anchorer, registrar } = await networkHelpers.loadFixture(deployFixture);
      const used = {
        anchorBatch: (await minedIn(await as(anchor, anchorer).anchorBatch(BATCH_ID, ROOT, 1000))).gasUsed,
        anchorFlagged1: (await minedIn(await as(anchor, anchorer).anchorFlagged([id('gas-flagged')]))).gasUsed,
        anchorFlagged10: (
          await minedIn(await as(anchor, anchorer).anchorFlagged(Array.from({ length: 10 }, (_, i) => id(`gas-flagged-${i}`))))
        ).gasUsed,
        registerModel: (await minedIn(await as(anchor, registrar).registerModel(MODEL_HASH, MODEL_URI))).gasUsed,
      };
      for (const [name, gas] of Object.entries(used)) {
        expect(gas, `${name} used ${gas} gas`).to.be.lessThanOrEqual(BUDGET[name as keyof typeof BUDGET]);
      }
    });
  });
});
