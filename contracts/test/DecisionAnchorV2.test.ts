import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { expect } from 'chai';
import type { Contract, ContractTransactionResponse, Signer } from 'ethers';
import { network } from 'hardhat';
import type { NetworkConnection } from 'hardhat/types/network';

/**
 * DecisionAnchorV2 (docs/proof-format-v2.md): every write path (success with event arguments and
 * stored values, each custom error with its arguments), access control and role separation,
 * pausing, per-anchorer namespaces, the v2 encodings (`decisionLeaf`, `entryLeaf`, `batchIdOf`)
 * cross-checked against `@openzeppelin/merkle-tree` and ethers' AbiCoder, and the two verify
 * views walked over a multi-batch epoch and a flagged tree built with StandardMerkleTree, each
 * check shown to matter on its own by a mutation that only it catches. Each test starts from
 * the same deployed state through `loadFixture` (EVM snapshot).
 */

const { ethers, networkHelpers } = await network.create();
const { ZeroAddress, ZeroHash, AbiCoder, concat, id, keccak256 } = ethers;
const abi = AbiCoder.defaultAbiCoder();

const ANCHORER_ROLE = id('ANCHORER_ROLE');
const MODEL_REGISTRAR_ROLE = id('MODEL_REGISTRAR_ROLE');
const DEFAULT_ADMIN_ROLE = ZeroHash;
const LEAF_DOMAIN = id('claimtrail-leaf-v2');
const ENTRY_DOMAIN = id('claimtrail-epoch-entry-v2');
const BATCH_DOMAIN = id('claimtrail-batch-v2');

/** The `claimtrail-leaf-v2` tuple types, domain word first. */
const LEAF_TYPES = ['bytes32', 'bytes32', 'bytes32', 'bytes32', 'uint32', 'uint8', 'bytes32', 'bytes32', 'uint64', 'bytes32', 'uint32', 'uint64'];
/** The `claimtrail-epoch-entry-v2` tuple types, domain word first. */
const ENTRY_TYPES = ['bytes32', 'bytes32', 'bytes32', 'bytes32', 'uint32', 'bytes32', 'uint32', 'uint64', 'uint64'];
/** The v2 batch id preimage types, domain word first. */
const BATCH_ID_TYPES = ['bytes32', 'bytes32', 'bytes32', 'uint32', 'uint64', 'uint64'];

const INSTANCE_ID = id('claimtrail-instance-a');
const TOPIC_HASH = id('decisions');
const EPOCH_ID = keccak256(abi.encode(['bytes32', 'bytes32', 'uint64'], [id('claimtrail-epoch-v2'), INSTANCE_ID, 0n]));
const ROOT = id('root-a');
const OTHER_ROOT = id('root-b');
const MODEL_HASH = id('model:rf+tfjs@2025-01');
const MODEL_URI = 'ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';

/** DecisionAnchorV2.DecisionValues, as ethers passes a struct (by component name). */
interface DecisionValues {
  instanceId: string;
  decisionId: string;
  claimCommitment: string;
  scoreMicros: bigint;
  outcome: bigint;
  modelHash: string;
  reasonsHash: string;
  decidedAtMs: bigint;
  logTopicHash: string;
  logPartition: bigint;
  logOffset: bigint;
}

/** DecisionAnchorV2.BatchEntry. */
interface BatchEntry {
  batchId: string;
  batchRoot: string;
  leafCount: bigint;
  logTopicHash: string;
  logPartition: bigint;
  firstOffset: bigint;
  lastOffset: bigint;
}

/** A field's ABI type, to mutate it within range. */
type FieldType = 'bytes32' | 'uint8' | 'uint32' | 'uint64';
const DECISION_FIELDS: Record<keyof DecisionValues, FieldType> = {
  instanceId: 'bytes32',
  decisionId: 'bytes32',
  claimCommitment: 'bytes32',
  scoreMicros: 'uint32',
  outcome: 'uint8',
  modelHash: 'bytes32',
  reasonsHash: 'bytes32',
  decidedAtMs: 'uint64',
  logTopicHash: 'bytes32',
  logPartition: 'uint32',
  logOffset: 'uint64',
};
const ENTRY_FIELDS: Record<keyof BatchEntry, FieldType> = {
  batchId: 'bytes32',
  batchRoot: 'bytes32',
  leafCount: 'uint32',
  logTopicHash: 'bytes32',
  logPartition: 'uint32',
  firstOffset: 'uint64',
  lastOffset: 'uint64',
};

function leafTuple(v: DecisionValues): unknown[] {
  return [LEAF_DOMAIN, v.instanceId, v.decisionId, v.claimCommitment, v.scoreMicros, v.outcome, v.modelHash, v.reasonsHash, v.decidedAtMs, v.logTopicHash, v.logPartition, v.logOffset];
}

function entryTuple(instanceId: string, e: BatchEntry): unknown[] {
  return [ENTRY_DOMAIN, instanceId, e.batchId, e.batchRoot, e.leafCount, e.logTopicHash, e.logPartition, e.firstOffset, e.lastOffset];
}

/** The v2 batch id, computed with ethers' AbiCoder (the reference for `batchIdOf`). */
function batchIdOf(instanceId: string, topicHash: string, partition: bigint, first: bigint, last: bigint): string {
  return keccak256(abi.encode(BATCH_ID_TYPES, [BATCH_DOMAIN, instanceId, topicHash, partition, first, last]));
}

/** A StandardMerkleTree leaf as Solidity computes it: keccak256(bytes.concat(keccak256(abi.encode(values)))). */
function solidityLeaf(types: string[], values: unknown[]): string {
  return keccak256(concat([keccak256(abi.encode(types, values))]));
}

function flipLowBit(hash: string): string {
  const last = Number.parseInt(hash.slice(-2), 16) ^ 1;
  return hash.slice(0, -2) + last.toString(16).padStart(2, '0');
}

/** `value` changed to another value of the same ABI type. */
function mutate(type: FieldType, value: string | bigint): string | bigint {
  if (type === 'bytes32') return flipLowBit(value as string);
  const max = { uint8: 2n ** 8n - 1n, uint32: 2n ** 32n - 1n, uint64: 2n ** 64n - 1n }[type];
  return value === max ? (value as bigint) - 1n : (value as bigint) + 1n;
}

/** Every copy of `record` with exactly one field mutated, by field name. */
function singleFieldMutations<T extends object>(record: T, fields: Record<keyof T, FieldType>): Array<[string, T]> {
  return (Object.keys(fields) as Array<keyof T>).map((field) => [
    String(field),
    { ...record, [field]: mutate(fields[field], record[field] as string | bigint) },
  ]);
}

/** A decision of installation `instanceId` at `partition`/`offset` of the decisions topic. */
function decision(partition: bigint, offset: bigint, instanceId = INSTANCE_ID): DecisionValues {
  const tag = `${instanceId}/${partition}/${offset}`;
  return {
    instanceId,
    decisionId: id(`decision/${tag}`),
    claimCommitment: id(`commitment/${tag}`),
    scoreMicros: (offset * 7919n) % 1_000_001n,
    outcome: offset % 3n,
    modelHash: MODEL_HASH,
    reasonsHash: id(`reasons/${tag}`),
    decidedAtMs: 1_716_999_322_000n + offset,
    logTopicHash: TOPIC_HASH,
    logPartition: partition,
    logOffset: offset,
  };
}

/** One batch: its decisions, their tree and its epoch entry. */
interface Batch {
  decisions: DecisionValues[];
  tree: StandardMerkleTree<unknown[]>;
  entry: BatchEntry;
}

/**
 * A batch over `decisions` (log order), with an entry whose range, topic and partition default to
 * the decisions' own; `overrides` lets a test build an entry that disagrees with its decisions.
 */
function makeBatch(decisions: DecisionValues[], overrides: Partial<BatchEntry> = {}): Batch {
  const tree = StandardMerkleTree.of(decisions.map(leafTuple), LEAF_TYPES, { sortLeaves: false });
  const first = decisions[0]!;
  const logTopicHash = overrides.logTopicHash ?? first.logTopicHash;
  const logPartition = overrides.logPartition ?? first.logPartition;
  const firstOffset = overrides.firstOffset ?? first.logOffset;
  const lastOffset = overrides.lastOffset ?? decisions[decisions.length - 1]!.logOffset;
  const entry: BatchEntry = {
    batchId: overrides.batchId ?? batchIdOf(first.instanceId, logTopicHash, logPartition, firstOffset, lastOffset),
    batchRoot: overrides.batchRoot ?? tree.root,
    leafCount: overrides.leafCount ?? BigInt(decisions.length),
    logTopicHash,
    logPartition,
    firstOffset,
    lastOffset,
  };
  return { decisions, tree, entry };
}

/** The epoch tree over `batches`' entries, in batch order. */
function makeEpochTree(batches: Batch[], instanceId = INSTANCE_ID): StandardMerkleTree<unknown[]> {
  return StandardMerkleTree.of(batches.map((b) => entryTuple(instanceId, b.entry)), ENTRY_TYPES, { sortLeaves: false });
}

function offsets(first: number, count: number): bigint[] {
  return Array.from({ length: count }, (_, i) => BigInt(first + i));
}

/** `contract` with `signer` as its runner (ethers types `connect` as returning BaseContract). */
function as(contract: Contract, signer: Signer): Contract {
  return contract.connect(signer) as Contract;
}

/** Block number, timestamp and gas of the transaction `tx`. */
async function minedIn(tx: ContractTransactionResponse): Promise<{ blockNumber: number; timestamp: number; gasUsed: bigint }> {
  const receipt = await tx.wait();
  if (receipt === null) throw new Error('no receipt');
  const block = await ethers.provider.getBlock(receipt.blockNumber);
  if (block === null) throw new Error('no block');
  return { blockNumber: receipt.blockNumber, timestamp: block.timestamp, gasUsed: receipt.gasUsed };
}

/** Deploys with one account per role; `stranger` holds no role, `otherAnchorer` none yet. */
async function deployFixture({ ethers }: NetworkConnection) {
  const [admin, anchorer, registrar, stranger, otherAnchorer] = await ethers.getSigners();
  if (!admin || !anchorer || !registrar || !stranger || !otherAnchorer) throw new Error('need 5 signers');
  const [adminAddress, anchorerAddress, registrarAddress] = await Promise.all([admin.getAddress(), anchorer.getAddress(), registrar.getAddress()]);
  const anchor = (await ethers.deployContract('DecisionAnchorV2', [adminAddress, anchorerAddress, registrarAddress], admin)) as unknown as Contract;
  return { anchor, admin, anchorer, registrar, stranger, otherAnchorer, anchorerAddress };
}

/**
 * Three batches (7 and 5 decisions on partition 0, 9 on partition 1) committed in one epoch
 * `EPOCH_ID` by `anchorer`, plus a flagged tree over 6 of those decisions (in decision-id order).
 */
async function anchoredEpochFixture(connection: NetworkConnection) {
  const deployed = await deployFixture(connection);
  const batches = [
    makeBatch(offsets(0, 7).map((o) => decision(0n, o))),
    makeBatch(offsets(7, 5).map((o) => decision(0n, o))),
    makeBatch(offsets(100, 9).map((o) => decision(1n, o))),
  ];
  const epochTree = makeEpochTree(batches);
  const leafCount = batches.reduce((n, b) => n + b.decisions.length, 0);
  await as(deployed.anchor, deployed.anchorer).anchorEpoch(EPOCH_ID, epochTree.root, batches.length, leafCount);

  const flaggedDecisions = [batches[0]!.decisions[2]!, batches[0]!.decisions[5]!, batches[1]!.decisions[0]!, batches[2]!.decisions[1]!, batches[2]!.decisions[4]!, batches[2]!.decisions[8]!].sort(
    (a, b) => (BigInt(a.decisionId) < BigInt(b.decisionId) ? -1 : 1),
  );
  const flaggedTree = StandardMerkleTree.of(flaggedDecisions.map(leafTuple), LEAF_TYPES, { sortLeaves: false });
  await as(deployed.anchor, deployed.anchorer).anchorFlaggedRoot(flaggedTree.root, flaggedDecisions.length);
  return { ...deployed, batches, epochTree, flaggedDecisions, flaggedTree };
}

/** The arguments of `verifyDecisionValues` for decision `i` of batch `b`, all correct. */
function proofArgs(batches: Batch[], epochTree: StandardMerkleTree<unknown[]>, b: number, i: number) {
  const batch = batches[b]!;
  return { v: batch.decisions[i]!, proof: batch.tree.getProof(i), e: batch.entry, epochProof: epochTree.getProof(b) };
}

describe('DecisionAnchorV2', function () {
  describe('deployment', function () {
    it('gives each role to its own account and no account a second role', async function () {
      const { anchor, admin, anchorer, registrar, stranger } = await networkHelpers.loadFixture(deployFixture);
      const holders = { admin, anchorer, registrar, stranger };
      const expected: Record<string, string[]> = { admin: [DEFAULT_ADMIN_ROLE], anchorer: [ANCHORER_ROLE], registrar: [MODEL_REGISTRAR_ROLE], stranger: [] };
      for (const [name, signer] of Object.entries(holders)) {
        for (const role of [DEFAULT_ADMIN_ROLE, ANCHORER_ROLE, MODEL_REGISTRAR_ROLE]) {
          expect(await anchor.hasRole(role, await signer.getAddress()), `${name} / ${role}`).to.equal(expected[name]!.includes(role));
        }
      }
      expect(await anchor.paused()).to.equal(false);
    });

    it('emits RoleGranted for the three roles', async function () {
      const [admin, anchorer, registrar] = await Promise.all((await ethers.getSigners()).slice(0, 3).map((s) => s.getAddress()));
      const anchor = await ethers.deployContract('DecisionAnchorV2', [admin, anchorer, registrar]);
      const tx = anchor.deploymentTransaction()!;
      await expect(tx).to.emit(anchor, 'RoleGranted').withArgs(DEFAULT_ADMIN_ROLE, admin, admin);
      await expect(tx).to.emit(anchor, 'RoleGranted').withArgs(ANCHORER_ROLE, anchorer, admin);
      await expect(tx).to.emit(anchor, 'RoleGranted').withArgs(MODEL_REGISTRAR_ROLE, registrar, admin);
    });

    it('exposes the role ids and domain words as keccak256 of their names', async function () {
      const { anchor } = await networkHelpers.loadFixture(deployFixture);
      expect(await anchor.ANCHORER_ROLE()).to.equal(ANCHORER_ROLE);
      expect(await anchor.MODEL_REGISTRAR_ROLE()).to.equal(MODEL_REGISTRAR_ROLE);
      expect(await anchor.getRoleAdmin(ANCHORER_ROLE)).to.equal(DEFAULT_ADMIN_ROLE);
      expect(await anchor.getRoleAdmin(MODEL_REGISTRAR_ROLE)).to.equal(DEFAULT_ADMIN_ROLE);
      expect(await anchor.LEAF_DOMAIN()).to.equal(LEAF_DOMAIN);
      expect(await anchor.ENTRY_DOMAIN()).to.equal(ENTRY_DOMAIN);
      expect(await anchor.BATCH_DOMAIN()).to.equal(BATCH_DOMAIN);
    });

    it('rejects a zero address in any position and one address for two roles', async function () {
      const [a, b, c] = await Promise.all((await ethers.getSigners()).slice(0, 3).map((s) => s.getAddress()));
      const factory = await ethers.getContractFactory('DecisionAnchorV2');
      const refused: Array<[string, string, string]> = [
        [ZeroAddress, b!, c!],
        [a!, ZeroAddress, c!],
        [a!, b!, ZeroAddress],
        [a!, a!, c!],
        [a!, b!, a!],
        [a!, b!, b!],
        [a!, a!, a!],
      ];
      for (const args of refused) {
        await expect(factory.deploy(...args), args.join(','))
          .to.be.revertedWithCustomError(factory, 'DecisionAnchorV2InvalidRoleHolders')
          .withArgs(...args);
      }
    });

    it('never lets one account hold both DEFAULT_ADMIN_ROLE and ANCHORER_ROLE', async function () {
      const { anchor, admin, anchorerAddress, stranger } = await networkHelpers.loadFixture(deployFixture);
      const adminAddress = await admin.getAddress();
      await expect(anchor.grantRole(ANCHORER_ROLE, adminAddress))
        .to.be.revertedWithCustomError(anchor, 'DecisionAnchorV2RoleConflict')
        .withArgs(adminAddress, ANCHORER_ROLE);
      await expect(anchor.grantRole(DEFAULT_ADMIN_ROLE, anchorerAddress))
        .to.be.revertedWithCustomError(anchor, 'DecisionAnchorV2RoleConflict')
        .withArgs(anchorerAddress, DEFAULT_ADMIN_ROLE);
      // A second anchorer or a second admin is fine as long as the two stay apart.
      const strangerAddress = await stranger.getAddress();
      await expect(anchor.grantRole(ANCHORER_ROLE, strangerAddress)).to.emit(anchor, 'RoleGranted').withArgs(ANCHORER_ROLE, strangerAddress, adminAddress);
      await expect(anchor.grantRole(DEFAULT_ADMIN_ROLE, strangerAddress))
        .to.be.revertedWithCustomError(anchor, 'DecisionAnchorV2RoleConflict')
        .withArgs(strangerAddress, DEFAULT_ADMIN_ROLE);
    });

    it('lets only the admin grant roles: the anchorer cannot make itself admin or grant anchorers', async function () {
      const { anchor, anchorer, anchorerAddress, stranger } = await networkHelpers.loadFixture(deployFixture);
      for (const role of [DEFAULT_ADMIN_ROLE, ANCHORER_ROLE]) {
        await expect(as(anchor, anchorer).grantRole(role, await stranger.getAddress()))
          .to.be.revertedWithCustomError(anchor, 'AccessControlUnauthorizedAccount')
          .withArgs(anchorerAddress, DEFAULT_ADMIN_ROLE);
      }
    });
  });

  describe('anchorEpoch', function () {
    it('stores the epoch under the anchorer and emits EpochAnchored', async function () {
      const { anchor, anchorer, anchorerAddress } = await networkHelpers.loadFixture(deployFixture);
      const tx = await as(anchor, anchorer).anchorEpoch(EPOCH_ID, ROOT, 3, 2400);
      await expect(tx).to.emit(anchor, 'EpochAnchored').withArgs(anchorerAddress, EPOCH_ID, ROOT, 3, 2400);
      const { blockNumber, timestamp } = await minedIn(tx);
      expect(await anchor.epochOf(anchorerAddress, EPOCH_ID)).to.deep.equal([ROOT, 3n, 2400n, BigInt(timestamp), BigInt(blockNumber)]);
    });

    it('returns zeros for an epoch never anchored', async function () {
      const { anchor, anchorerAddress } = await networkHelpers.loadFixture(deployFixture);
      expect(await anchor.epochOf(anchorerAddress, EPOCH_ID)).to.deep.equal([ZeroHash, 0n, 0n, 0n, 0n]);
    });

    it('refuses a second write of the same id by the same anchorer, naming it and the stored root', async function () {
      const { anchor, anchorer, anchorerAddress } = await networkHelpers.loadFixture(deployFixture);
      const first = await minedIn(await as(anchor, anchorer).anchorEpoch(EPOCH_ID, ROOT, 3, 2400));
      for (const root of [ROOT, OTHER_ROOT]) {
        await expect(as(anchor, anchorer).anchorEpoch(EPOCH_ID, root, 4, 2500))
          .to.be.revertedWithCustomError(anchor, 'DecisionAnchorV2EpochExists')
          .withArgs(anchorerAddress, EPOCH_ID, ROOT);
      }
      expect(await anchor.epochOf(anchorerAddress, EPOCH_ID)).to.deep.equal([ROOT, 3n, 2400n, BigInt(first.timestamp), BigInt(first.blockNumber)]);
    });

    it('rejects a zero root, a zero batch count or a zero leaf count', async function () {
      const { anchor, anchorer } = await networkHelpers.loadFixture(deployFixture);
      for (const [root, batchCount, leafCount] of [[ZeroHash, 3, 2400], [ROOT, 0, 2400], [ROOT, 3, 0]] as const) {
        await expect(as(anchor, anchorer).anchorEpoch(EPOCH_ID, root, batchCount, leafCount))
          .to.be.revertedWithCustomError(anchor, 'DecisionAnchorV2InvalidEpoch')
          .withArgs(EPOCH_ID);
      }
    });

    it('accepts the full uint32 batch count and uint64 leaf count', async function () {
      const { anchor, anchorer, anchorerAddress } = await networkHelpers.loadFixture(deployFixture);
      await as(anchor, anchorer).anchorEpoch(EPOCH_ID, ROOT, 2n ** 32n - 1n, 2n ** 64n - 1n);
      const [, batchCount, leafCount] = await anchor.epochOf(anchorerAddress, EPOCH_ID);
      expect([batchCount, leafCount]).to.deep.equal([2n ** 32n - 1n, 2n ** 64n - 1n]);
    });

    it('rejects accounts without ANCHORER_ROLE, including the admin and the registrar', async function () {
      const { anchor, admin, registrar, stranger } = await networkHelpers.loadFixture(deployFixture);
      for (const signer of [admin, registrar, stranger]) {
        await expect(as(anchor, signer).anchorEpoch(EPOCH_ID, ROOT, 3, 2400))
          .to.be.revertedWithCustomError(anchor, 'AccessControlUnauthorizedAccount')
          .withArgs(await signer.getAddress(), ANCHORER_ROLE);
      }
    });

    it('reverts while paused', async function () {
      const { anchor, anchorer } = await networkHelpers.loadFixture(deployFixture);
      await anchor.pause();
      await expect(as(anchor, anchorer).anchorEpoch(EPOCH_ID, ROOT, 3, 2400)).to.be.revertedWithCustomError(anchor, 'EnforcedPause');
    });
  });

  describe('anchorFlaggedRoot', function () {
    it('stores the count and block under the anchorer and emits FlaggedRootAnchored', async function () {
      const { anchor, anchorer, anchorerAddress } = await networkHelpers.loadFixture(deployFixture);
      const tx = await as(anchor, anchorer).anchorFlaggedRoot(ROOT, 12);
      await expect(tx).to.emit(anchor, 'FlaggedRootAnchored').withArgs(anchorerAddress, ROOT, 12);
      const { blockNumber } = await minedIn(tx);
      expect(await anchor.flaggedRootOf(anchorerAddress, ROOT)).to.deep.equal([12n, BigInt(blockNumber)]);
      expect(await anchor.flaggedRootOf(anchorerAddress, OTHER_ROOT)).to.deep.equal([0n, 0n]);
    });

    it('refuses a root the anchorer anchored before, naming it and the stored count', async function () {
      const { anchor, anchorer, anchorerAddress } = await networkHelpers.loadFixture(deployFixture);
      const first = await minedIn(await as(anchor, anchorer).anchorFlaggedRoot(ROOT, 12));
      await expect(as(anchor, anchorer).anchorFlaggedRoot(ROOT, 13))
        .to.be.revertedWithCustomError(anchor, 'DecisionAnchorV2FlaggedRootExists')
        .withArgs(anchorerAddress, ROOT, 12);
      expect(await anchor.flaggedRootOf(anchorerAddress, ROOT)).to.deep.equal([12n, BigInt(first.blockNumber)]);
    });

    it('rejects a zero root or a zero count', async function () {
      const { anchor, anchorer } = await networkHelpers.loadFixture(deployFixture);
      for (const [root, count] of [[ZeroHash, 12], [ROOT, 0]] as const) {
        await expect(as(anchor, anchorer).anchorFlaggedRoot(root, count))
          .to.be.revertedWithCustomError(anchor, 'DecisionAnchorV2InvalidFlaggedRoot')
          .withArgs(root, count);
      }
    });

    it('requires ANCHORER_ROLE and not paused', async function () {
      const { anchor, admin, anchorer, registrar, stranger } = await networkHelpers.loadFixture(deployFixture);
      for (const signer of [admin, registrar, stranger]) {
        await expect(as(anchor, signer).anchorFlaggedRoot(ROOT, 12))
          .to.be.revertedWithCustomError(anchor, 'AccessControlUnauthorizedAccount')
          .withArgs(await signer.getAddress(), ANCHORER_ROLE);
      }
      await anchor.pause();
      await expect(as(anchor, anchorer).anchorFlaggedRoot(ROOT, 12)).to.be.revertedWithCustomError(anchor, 'EnforcedPause');
    });
  });

  describe('registerModel', function () {
    it('stores registrant, time and metadata URI, and emits ModelRegistered', async function () {
      const { anchor, registrar } = await networkHelpers.loadFixture(deployFixture);
      const tx = await as(anchor, registrar).registerModel(MODEL_HASH, MODEL_URI);
      await expect(tx).to.emit(anchor, 'ModelRegistered').withArgs(MODEL_HASH, await registrar.getAddress(), MODEL_URI);
      const { timestamp } = await minedIn(tx);
      expect(await anchor.modelOf(MODEL_HASH)).to.deep.equal([await registrar.getAddress(), BigInt(timestamp), MODEL_URI]);
      expect(await anchor.modelOf(id('unknown-model'))).to.deep.equal([ZeroAddress, 0n, '']);
    });

    it('refuses a model hash registered before, keeping the first record', async function () {
      const { anchor, registrar, stranger } = await networkHelpers.loadFixture(deployFixture);
      await as(anchor, registrar).registerModel(MODEL_HASH, MODEL_URI);
      await anchor.grantRole(MODEL_REGISTRAR_ROLE, await stranger.getAddress());
      for (const signer of [registrar, stranger]) {
        await expect(as(anchor, signer).registerModel(MODEL_HASH, 'https://example.invalid/other'))
          .to.be.revertedWithCustomError(anchor, 'DecisionAnchorV2ModelExists')
          .withArgs(MODEL_HASH);
      }
      const [registrant, , uri] = await anchor.modelOf(MODEL_HASH);
      expect([registrant, uri]).to.deep.equal([await registrar.getAddress(), MODEL_URI]);
    });

    it('rejects a zero model hash', async function () {
      const { anchor, registrar } = await networkHelpers.loadFixture(deployFixture);
      await expect(as(anchor, registrar).registerModel(ZeroHash, MODEL_URI))
        .to.be.revertedWithCustomError(anchor, 'DecisionAnchorV2InvalidModel')
        .withArgs(ZeroHash);
    });

    it('requires MODEL_REGISTRAR_ROLE and not paused', async function () {
      const { anchor, admin, anchorer, registrar, stranger } = await networkHelpers.loadFixture(deployFixture);
      for (const signer of [admin, anchorer, stranger]) {
        await expect(as(anchor, signer).registerModel(MODEL_HASH, MODEL_URI))
          .to.be.revertedWithCustomError(anchor, 'AccessControlUnauthorizedAccount')
          .withArgs(await signer.getAddress(), MODEL_REGISTRAR_ROLE);
      }
      await anchor.pause();
      await expect(as(anchor, registrar).registerModel(MODEL_HASH, MODEL_URI)).to.be.revertedWithCustomError(anchor, 'EnforcedPause');
    });
  });

  describe('pause / unpause', function () {
    it('lets the admin pause and unpause, with Paused / Unpaused events', async function () {
      const { anchor, admin, anchorer } = await networkHelpers.loadFixture(deployFixture);
      await expect(anchor.pause()).to.emit(anchor, 'Paused').withArgs(await admin.getAddress());
      expect(await anchor.paused()).to.equal(true);
      await expect(anchor.unpause()).to.emit(anchor, 'Unpaused').withArgs(await admin.getAddress());
      expect(await anchor.paused()).to.equal(false);
      await expect(as(anchor, anchorer).anchorEpoch(EPOCH_ID, ROOT, 1, 1)).to.emit(anchor, 'EpochAnchored');
    });

    it('rejects pause and unpause from accounts without DEFAULT_ADMIN_ROLE', async function () {
      const { anchor, anchorer, registrar, stranger } = await networkHelpers.loadFixture(deployFixture);
      for (const signer of [anchorer, registrar, stranger]) {
        await expect(as(anchor, signer).pause())
          .to.be.revertedWithCustomError(anchor, 'AccessControlUnauthorizedAccount')
          .withArgs(await signer.getAddress(), DEFAULT_ADMIN_ROLE);
      }
      await anchor.pause();
      await expect(as(anchor, anchorer).unpause())
        .to.be.revertedWithCustomError(anchor, 'AccessControlUnauthorizedAccount')
        .withArgs(await anchorer.getAddress(), DEFAULT_ADMIN_ROLE);
    });

    it('rejects pausing twice and unpausing when not paused', async function () {
      const { anchor } = await networkHelpers.loadFixture(deployFixture);
      await expect(anchor.unpause()).to.be.revertedWithCustomError(anchor, 'ExpectedPause');
      await anchor.pause();
      await expect(anchor.pause()).to.be.revertedWithCustomError(anchor, 'EnforcedPause');
    });

    it('keeps the views working while paused', async function () {
      const { anchor, anchorerAddress, batches, epochTree, flaggedDecisions, flaggedTree } = await networkHelpers.loadFixture(anchoredEpochFixture);
      await anchor.pause();
      expect((await anchor.epochOf(anchorerAddress, EPOCH_ID))[0]).to.equal(epochTree.root);
      const { v, proof, e, epochProof } = proofArgs(batches, epochTree, 1, 2);
      expect(await anchor.verifyDecisionValues(anchorerAddress, EPOCH_ID, v, proof, e, epochProof)).to.equal(true);
      expect(await anchor.verifyFlaggedValues(anchorerAddress, flaggedTree.root, flaggedDecisions[0], flaggedTree.getProof(0))).to.equal(true);
    });
  });

  describe('namespaces (records keyed by anchorer)', function () {
    it('a second anchorer anchoring the same epoch id writes its own record and leaves the first untouched', async function () {
      const { anchor, anchorer, anchorerAddress, otherAnchorer } = await networkHelpers.loadFixture(deployFixture);
      const otherAddress = await otherAnchorer.getAddress();
      await anchor.grantRole(ANCHORER_ROLE, otherAddress);
      const first = await minedIn(await as(anchor, anchorer).anchorEpoch(EPOCH_ID, ROOT, 3, 2400));
      // B pre-empts nothing and overwrites nothing: same id, its own slot, its own event.
      const tx = await as(anchor, otherAnchorer).anchorEpoch(EPOCH_ID, OTHER_ROOT, 1, 5);
      await expect(tx).to.emit(anchor, 'EpochAnchored').withArgs(otherAddress, EPOCH_ID, OTHER_ROOT, 1, 5);
      const second = await minedIn(tx);
      expect(await anchor.epochOf(anchorerAddress, EPOCH_ID)).to.deep.equal([ROOT, 3n, 2400n, BigInt(first.timestamp), BigInt(first.blockNumber)]);
      expect(await anchor.epochOf(otherAddress, EPOCH_ID)).to.deep.equal([OTHER_ROOT, 1n, 5n, BigInt(second.timestamp), BigInt(second.blockNumber)]);
      // Each is append-only in its own namespace.
      await expect(as(anchor, otherAnchorer).anchorEpoch(EPOCH_ID, ROOT, 3, 2400))
        .to.be.revertedWithCustomError(anchor, 'DecisionAnchorV2EpochExists')
        .withArgs(otherAddress, EPOCH_ID, OTHER_ROOT);
      await expect(as(anchor, anchorer).anchorEpoch(EPOCH_ID, OTHER_ROOT, 1, 5))
        .to.be.revertedWithCustomError(anchor, 'DecisionAnchorV2EpochExists')
        .withArgs(anchorerAddress, EPOCH_ID, ROOT);
    });

    it('an epoch id taken by one anchorer stays free for another (no pre-emption)', async function () {
      const { anchor, anchorer, anchorerAddress, otherAnchorer } = await networkHelpers.loadFixture(deployFixture);
      const otherAddress = await otherAnchorer.getAddress();
      await anchor.grantRole(ANCHORER_ROLE, otherAddress);
      await as(anchor, otherAnchorer).anchorEpoch(EPOCH_ID, OTHER_ROOT, 1, 5);
      await expect(as(anchor, anchorer).anchorEpoch(EPOCH_ID, ROOT, 3, 2400)).to.emit(anchor, 'EpochAnchored').withArgs(anchorerAddress, EPOCH_ID, ROOT, 3, 2400);
      expect((await anchor.epochOf(anchorerAddress, EPOCH_ID))[0]).to.equal(ROOT);
    });

    it('flagged roots are per anchorer too', async function () {
      const { anchor, anchorer, anchorerAddress, otherAnchorer } = await networkHelpers.loadFixture(deployFixture);
      const otherAddress = await otherAnchorer.getAddress();
      await anchor.grantRole(ANCHORER_ROLE, otherAddress);
      const first = await minedIn(await as(anchor, anchorer).anchorFlaggedRoot(ROOT, 12));
      await expect(as(anchor, otherAnchorer).anchorFlaggedRoot(ROOT, 3)).to.emit(anchor, 'FlaggedRootAnchored').withArgs(otherAddress, ROOT, 3);
      expect(await anchor.flaggedRootOf(anchorerAddress, ROOT)).to.deep.equal([12n, BigInt(first.blockNumber)]);
      expect((await anchor.flaggedRootOf(otherAddress, ROOT))[0]).to.equal(3n);
    });

    it('verifies only against the anchorer that committed the decision', async function () {
      const { anchor, otherAnchorer, stranger, anchorerAddress, batches, epochTree, flaggedDecisions, flaggedTree } =
        await networkHelpers.loadFixture(anchoredEpochFixture);
      const otherAddress = await otherAnchorer.getAddress();
      await anchor.grantRole(ANCHORER_ROLE, otherAddress);
      // B anchors another root under the same epoch id: A's proofs do not verify against B.
      await as(anchor, otherAnchorer).anchorEpoch(EPOCH_ID, OTHER_ROOT, 3, 21);
      const { v, proof, e, epochProof } = proofArgs(batches, epochTree, 0, 3);
      expect(await anchor.verifyDecisionValues(anchorerAddress, EPOCH_ID, v, proof, e, epochProof)).to.equal(true);
      for (const wrong of [otherAddress, await stranger.getAddress(), ZeroAddress]) {
        expect(await anchor.verifyDecisionValues(wrong, EPOCH_ID, v, proof, e, epochProof), wrong).to.equal(false);
        expect(await anchor.verifyFlaggedValues(wrong, flaggedTree.root, flaggedDecisions[0], flaggedTree.getProof(0)), wrong).to.equal(false);
      }
    });
  });

  describe('encodings (decisionLeaf, entryLeaf, batchIdOf)', function () {
    const extreme: DecisionValues = {
      ...decision(2n ** 32n - 1n, 2n ** 64n - 1n),
      scoreMicros: 2n ** 32n - 1n,
      outcome: 255n,
      decidedAtMs: 2n ** 64n - 1n,
    };

    it('decisionLeaf is the StandardMerkleTree leaf of the v2 leaf tuple', async function () {
      const { anchor, batches } = await networkHelpers.loadFixture(anchoredEpochFixture);
      const zero: DecisionValues = { ...decision(0n, 0n), scoreMicros: 0n, outcome: 0n, decidedAtMs: 0n };
      for (const v of [...batches.flatMap((b) => b.decisions), extreme, zero]) {
        const reference = StandardMerkleTree.of([leafTuple(v)], LEAF_TYPES).leafHash(leafTuple(v));
        expect(solidityLeaf(LEAF_TYPES, leafTuple(v))).to.equal(reference);
        expect(await anchor.decisionLeaf(v)).to.equal(reference);
      }
    });

    it('entryLeaf is the StandardMerkleTree leaf of the epoch entry tuple', async function () {
      const { anchor, batches, epochTree } = await networkHelpers.loadFixture(anchoredEpochFixture);
      for (const [i, batch] of batches.entries()) {
        const tuple = entryTuple(INSTANCE_ID, batch.entry);
        expect(await anchor.entryLeaf(INSTANCE_ID, batch.entry)).to.equal(epochTree.leafHash(tuple));
        expect(await anchor.entryLeaf(INSTANCE_ID, batch.entry)).to.equal(solidityLeaf(ENTRY_TYPES, tuple));
        expect(epochTree.at(i)).to.deep.equal(tuple);
      }
      const wide: BatchEntry = { batchId: id('b'), batchRoot: id('r'), leafCount: 2n ** 32n - 1n, logTopicHash: TOPIC_HASH, logPartition: 2n ** 32n - 1n, firstOffset: 0n, lastOffset: 2n ** 64n - 1n };
      expect(await anchor.entryLeaf(id('other-instance'), wide)).to.equal(solidityLeaf(ENTRY_TYPES, entryTuple(id('other-instance'), wide)));
    });

    it('batchIdOf is keccak256 of the ABI-encoded v2 batch id preimage', async function () {
      const { anchor } = await networkHelpers.loadFixture(deployFixture);
      const cases: Array<[string, string, bigint, bigint, bigint]> = [
        [INSTANCE_ID, TOPIC_HASH, 3n, 500n, 572n],
        [id('other-instance'), id('decisions-eu'), 0n, 0n, 0n],
        [INSTANCE_ID, TOPIC_HASH, 2n ** 32n - 1n, 2n ** 64n - 2n, 2n ** 64n - 1n],
      ];
      for (const args of cases) {
        expect(await anchor.batchIdOf(...args)).to.equal(batchIdOf(...args));
      }
    });

    it('keeps the domains apart: the same words under another domain give another leaf', async function () {
      const { anchor, batches } = await networkHelpers.loadFixture(anchoredEpochFixture);
      const v = batches[0]!.decisions[0]!;
      const underOtherDomain = solidityLeaf(LEAF_TYPES, [ENTRY_DOMAIN, ...leafTuple(v).slice(1)]);
      expect(await anchor.decisionLeaf(v)).to.not.equal(underOtherDomain);
    });
  });

  describe('verifyDecisionValues', function () {
    it('accepts every decision of a 3-batch epoch, agreeing with StandardMerkleTree.verify', async function () {
      const { anchor, anchorerAddress, batches, epochTree } = await networkHelpers.loadFixture(anchoredEpochFixture);
      let checked = 0;
      for (const [b, batch] of batches.entries()) {
        for (let i = 0; i < batch.decisions.length; i++) {
          const { v, proof, e, epochProof } = proofArgs(batches, epochTree, b, i);
          expect(StandardMerkleTree.verify(e.batchRoot, LEAF_TYPES, leafTuple(v), proof)).to.equal(true);
          expect(StandardMerkleTree.verify(epochTree.root, ENTRY_TYPES, entryTuple(INSTANCE_ID, e), epochProof)).to.equal(true);
          expect(await anchor.verifyDecisionValues(anchorerAddress, EPOCH_ID, v, proof, e, epochProof), `batch ${b} decision ${i}`).to.equal(true);
          checked++;
        }
      }
      expect(checked).to.equal(21);
    });

    it('accepts a one-batch epoch (empty epoch proof, root = entry leaf) and a one-decision batch', async function () {
      const { anchor, anchorer, anchorerAddress } = await networkHelpers.loadFixture(deployFixture);
      const batch = makeBatch([decision(4n, 42n)]);
      const epochTree = makeEpochTree([batch]);
      expect(epochTree.root).to.equal(await anchor.entryLeaf(INSTANCE_ID, batch.entry));
      await as(anchor, anchorer).anchorEpoch(EPOCH_ID, epochTree.root, 1, 1);
      expect(await anchor.verifyDecisionValues(anchorerAddress, EPOCH_ID, batch.decisions[0], [], batch.entry, [])).to.equal(true);
    });

    it('rejects the values with any single field mutated', async function () {
      const { anchor, anchorerAddress, batches, epochTree } = await networkHelpers.loadFixture(anchoredEpochFixture);
      const { v, proof, e, epochProof } = proofArgs(batches, epochTree, 2, 4);
      const mutations = singleFieldMutations(v, DECISION_FIELDS);
      expect(mutations).to.have.length(11);
      for (const [field, mutated] of mutations) {
        expect(await anchor.verifyDecisionValues(anchorerAddress, EPOCH_ID, mutated, proof, e, epochProof), field).to.equal(false);
      }
    });

    it('rejects the batch entry with any single field mutated', async function () {
      const { anchor, anchorerAddress, batches, epochTree } = await networkHelpers.loadFixture(anchoredEpochFixture);
      const { v, proof, e, epochProof } = proofArgs(batches, epochTree, 0, 6);
      const mutations = singleFieldMutations(e, ENTRY_FIELDS);
      expect(mutations).to.have.length(7);
      for (const [field, mutated] of mutations) {
        expect(await anchor.verifyDecisionValues(anchorerAddress, EPOCH_ID, v, proof, mutated, epochProof), field).to.equal(false);
      }
    });

    it('rejects a batch root or an internal node passed off with another decision’s values and a shortened proof', async function () {
      const { anchor, anchorerAddress, batches, epochTree } = await networkHelpers.loadFixture(anchoredEpochFixture);
      for (const [b, batch] of batches.entries()) {
        const { e, epochProof } = proofArgs(batches, epochTree, b, 0);
        for (let i = 0; i < batch.decisions.length; i++) {
          const v = batch.decisions[i]!;
          const proof = batch.tree.getProof(i);
          // Empty proof: only the batch root itself would match, and no values hash to it.
          expect(await anchor.verifyDecisionValues(anchorerAddress, EPOCH_ID, v, [], e, epochProof), `batch ${b} decision ${i}, empty proof`).to.equal(false);
          // The proof minus its first sibling, which leads from the leaf's parent (an internal
          // node) to the root: no values hash to that parent.
          expect(await anchor.verifyDecisionValues(anchorerAddress, EPOCH_ID, v, proof.slice(1), e, epochProof), `batch ${b} decision ${i}, parent`).to.equal(false);
        }
      }
    });

    it('rejects a mutated decision proof: bit flips, another leaf’s proof, truncated, extended', async function () {
      const { anchor, anchorerAddress, batches, epochTree } = await networkHelpers.loadFixture(anchoredEpochFixture);
      const { v, proof, e, epochProof } = proofArgs(batches, epochTree, 2, 7);
      const mutations: Record<string, string[]> = {
        'another leaf’s proof': batches[2]!.tree.getProof(6),
        'last element dropped': proof.slice(0, -1),
        'extra element': [...proof, id('extra')],
        'extra zero element': [...proof, ZeroHash],
        'elements reversed': [...proof].reverse(),
      };
      for (let i = 0; i < proof.length; i++) mutations[`bit flip in element ${i}`] = proof.map((p, j) => (j === i ? flipLowBit(p) : p));
      for (const [description, mutated] of Object.entries(mutations)) {
        expect(await anchor.verifyDecisionValues(anchorerAddress, EPOCH_ID, v, mutated, e, epochProof), description).to.equal(false);
      }
    });

    it('rejects a mutated epoch proof: bit flips, another entry’s proof, empty, truncated, extended', async function () {
      const { anchor, anchorerAddress, batches, epochTree } = await networkHelpers.loadFixture(anchoredEpochFixture);
      const { v, proof, e, epochProof } = proofArgs(batches, epochTree, 1, 3);
      const mutations: Record<string, string[]> = {
        'another entry’s proof': epochTree.getProof(0),
        empty: [],
        'last element dropped': epochProof.slice(0, -1),
        'extra element': [...epochProof, id('extra')],
      };
      for (let i = 0; i < epochProof.length; i++) mutations[`bit flip in element ${i}`] = epochProof.map((p, j) => (j === i ? flipLowBit(p) : p));
      for (const [description, mutated] of Object.entries(mutations)) {
        expect(await anchor.verifyDecisionValues(anchorerAddress, EPOCH_ID, v, proof, e, mutated), description).to.equal(false);
      }
    });

    it('rejects a decision presented with another batch’s entry', async function () {
      const { anchor, anchorerAddress, batches, epochTree } = await networkHelpers.loadFixture(anchoredEpochFixture);
      const { v, proof } = proofArgs(batches, epochTree, 0, 1);
      for (const b of [1, 2]) {
        expect(await anchor.verifyDecisionValues(anchorerAddress, EPOCH_ID, v, proof, batches[b]!.entry, epochTree.getProof(b)), `entry ${b}`).to.equal(false);
      }
    });

    it('rejects an unknown epoch, and a real proof against another epoch', async function () {
      const { anchor, anchorer, anchorerAddress, batches, epochTree } = await networkHelpers.loadFixture(anchoredEpochFixture);
      const { v, proof, e, epochProof } = proofArgs(batches, epochTree, 0, 0);
      const nextEpoch = keccak256(abi.encode(['bytes32', 'bytes32', 'uint64'], [id('claimtrail-epoch-v2'), INSTANCE_ID, 1n]));
      expect(await anchor.verifyDecisionValues(anchorerAddress, nextEpoch, v, proof, e, epochProof)).to.equal(false);
      await as(anchor, anchorer).anchorEpoch(nextEpoch, OTHER_ROOT, 3, 21);
      expect(await anchor.verifyDecisionValues(anchorerAddress, nextEpoch, v, proof, e, epochProof)).to.equal(false);
    });

    /**
     * An anchorer's off-chain code could commit an entry that disagrees with its own decisions
     * while every hash is right. Each case below anchors such an epoch, in which both Merkle
     * paths verify, so only the contract's range / topic / partition / batch id checks stand
     * between it and a true answer.
     */
    describe('entries that disagree with the decision (both paths valid)', function () {
      async function verifyWithEntry(overrides: Partial<BatchEntry>, v: DecisionValues = decision(0n, 50n)) {
        const { anchor, anchorer, anchorerAddress } = await networkHelpers.loadFixture(deployFixture);
        const decisions = offsets(48, 5).map((o) => ({ ...decision(0n, o), logTopicHash: v.logTopicHash, logPartition: v.logPartition }));
        const batch = makeBatch(decisions, overrides);
        const epochTree = makeEpochTree([batch, makeBatch(offsets(60, 3).map((o) => decision(0n, o)))]);
        await as(anchor, anchorer).anchorEpoch(EPOCH_ID, epochTree.root, 2, 8);
        const index = decisions.findIndex((d) => d.logOffset === v.logOffset);
        expect(StandardMerkleTree.verify(batch.entry.batchRoot, LEAF_TYPES, leafTuple(decisions[index]!), batch.tree.getProof(index))).to.equal(true);
        return anchor.verifyDecisionValues(anchorerAddress, EPOCH_ID, decisions[index], batch.tree.getProof(index), batch.entry, epochTree.getProof(0));
      }

      it('control: the consistent entry verifies', async function () {
        expect(await verifyWithEntry({})).to.equal(true);
      });

      it('rejects an offset after the entry’s range', async function () {
        expect(await verifyWithEntry({ firstOffset: 40n, lastOffset: 49n })).to.equal(false);
      });

      it('rejects an offset before the entry’s range', async function () {
        expect(await verifyWithEntry({ firstOffset: 51n, lastOffset: 60n })).to.equal(false);
      });

      it('accepts an offset equal to both bounds (the range is inclusive)', async function () {
        expect(await verifyWithEntry({ firstOffset: 50n, lastOffset: 50n })).to.equal(true);
      });

      it('rejects a mismatching topic hash', async function () {
        expect(await verifyWithEntry({ logTopicHash: id('decisions-replay') })).to.equal(false);
      });

      it('rejects a mismatching partition', async function () {
        expect(await verifyWithEntry({ logPartition: 1n })).to.equal(false);
      });

      it('rejects a batch id that does not derive from the range', async function () {
        expect(await verifyWithEntry({ batchId: id('someone-else’s-batch') })).to.equal(false);
        expect(await verifyWithEntry({ batchId: batchIdOf(id('other-instance'), TOPIC_HASH, 0n, 48n, 52n) })).to.equal(false);
      });
    });
  });

  describe('verifyFlaggedValues', function () {
    it('accepts every decision of the flagged tree, agreeing with StandardMerkleTree.verify', async function () {
      const { anchor, anchorerAddress, flaggedDecisions, flaggedTree } = await networkHelpers.loadFixture(anchoredEpochFixture);
      for (const [i, v] of flaggedDecisions.entries()) {
        const proof = flaggedTree.getProof(i);
        expect(StandardMerkleTree.verify(flaggedTree.root, LEAF_TYPES, leafTuple(v), proof)).to.equal(true);
        expect(await anchor.verifyFlaggedValues(anchorerAddress, flaggedTree.root, v, proof), `flagged ${i}`).to.equal(true);
      }
    });

    it('rejects the values with any single field mutated', async function () {
      const { anchor, anchorerAddress, flaggedDecisions, flaggedTree } = await networkHelpers.loadFixture(anchoredEpochFixture);
      const proof = flaggedTree.getProof(3);
      for (const [field, mutated] of singleFieldMutations(flaggedDecisions[3]!, DECISION_FIELDS)) {
        expect(await anchor.verifyFlaggedValues(anchorerAddress, flaggedTree.root, mutated, proof), field).to.equal(false);
      }
    });

    it('rejects a mutated proof: empty (root as decision), parent, bit flips, truncated, extended', async function () {
      const { anchor, anchorerAddress, flaggedDecisions, flaggedTree } = await networkHelpers.loadFixture(anchoredEpochFixture);
      const v = flaggedDecisions[1]!;
      const proof = flaggedTree.getProof(1);
      const mutations: Record<string, string[]> = {
        empty: [],
        'first element dropped (parent)': proof.slice(1),
        'last element dropped': proof.slice(0, -1),
        'extra element': [...proof, id('extra')],
        'another leaf’s proof': flaggedTree.getProof(2),
      };
      for (let i = 0; i < proof.length; i++) mutations[`bit flip in element ${i}`] = proof.map((p, j) => (j === i ? flipLowBit(p) : p));
      for (const [description, mutated] of Object.entries(mutations)) {
        expect(await anchor.verifyFlaggedValues(anchorerAddress, flaggedTree.root, v, mutated), description).to.equal(false);
      }
    });

    it('rejects a decision that is not flagged, an unknown root and an epoch root', async function () {
      const { anchor, anchorerAddress, batches, epochTree, flaggedDecisions, flaggedTree } = await networkHelpers.loadFixture(anchoredEpochFixture);
      const notFlagged = batches[0]!.decisions[0]!;
      expect(flaggedDecisions).to.not.deep.include(notFlagged);
      expect(await anchor.verifyFlaggedValues(anchorerAddress, flaggedTree.root, notFlagged, flaggedTree.getProof(0))).to.equal(false);
      expect(await anchor.verifyFlaggedValues(anchorerAddress, flipLowBit(flaggedTree.root), flaggedDecisions[0], flaggedTree.getProof(0))).to.equal(false);
      // An epoch root is not a flagged root, and a batch path is not a flagged path.
      expect(await anchor.verifyFlaggedValues(anchorerAddress, epochTree.root, notFlagged, batches[0]!.tree.getProof(0))).to.equal(false);
    });
  });

  describe('gas', function () {
    /**
     * Budgets a little above today's figures, so a change that makes anchoring markedly dearer
     * fails here and is looked at on purpose. One line is logged for the design note.
     */
    const BUDGET = {
      anchorEpoch: 80_000n, // 74_567 today (two new storage slots)
      anchorFlaggedRoot: 55_000n, // 50_975 today (one new storage slot)
    };

    it('stays within the per-call gas budgets', async function () {
      const { anchor, anchorer } = await networkHelpers.loadFixture(deployFixture);
      const used = {
        anchorEpoch: (await minedIn(await as(anchor, anchorer).anchorEpoch(EPOCH_ID, ROOT, 40, 2400))).gasUsed,
        anchorFlaggedRoot: (await minedIn(await as(anchor, anchorer).anchorFlaggedRoot(ROOT, 12))).gasUsed,
      };
      console.log(`      DecisionAnchorV2 gas: anchorEpoch ${used.anchorEpoch}, anchorFlaggedRoot ${used.anchorFlaggedRoot}`);
      for (const [name, gas] of Object.entries(used)) {
        expect(gas, `${name} used ${gas} gas`).to.be.lessThanOrEqual(BUDGET[name as keyof typeof BUDGET]);
      }
    });
  });
});
