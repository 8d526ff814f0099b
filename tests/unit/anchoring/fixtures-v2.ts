/**
 * Shared test data for the v2 anchoring tests: an installation, decisions with v2 ids, an epoch
 * of three batches, a flagged tree, and bundles made the way the exporter makes them.
 */
import { hexlify, keccak256, toUtf8Bytes } from 'ethers';
import fc from 'fast-check';
import { claimCommitment } from '../../../anchoring/core/commitment.ts';
import { buildEpochTree, type EpochBatch } from '../../../anchoring/core/epoch.ts';
import { buildFlaggedTree } from '../../../anchoring/core/flagged-tree.ts';
import { decisionIdV2 } from '../../../anchoring/core/ids-v2.ts';
import { LEAF_V2_DOMAIN, leafValuesV2, type DecisionLeafInputV2, type LeafValuesV2 } from '../../../anchoring/core/leaf-v2.ts';
import { buildBatchTreeV2 } from '../../../anchoring/core/batch-v2.ts';
import { makeProofBundleV2, type ProofBundleV2 } from '../../../anchoring/core/proof-bundle-v2.ts';
import type { PinnedDeployment } from '../../../anchoring/core/verify-proof-v2.ts';

export const INSTANCE = keccak256(toUtf8Bytes('claimtrail instance A'));
export const OTHER_INSTANCE = keccak256(toUtf8Bytes('claimtrail instance B'));
export const TOPIC = 'decisions';
export const SALT = '0x' + '5a'.repeat(32);
export const MODEL = keccak256(toUtf8Bytes('model-v9'));
export const CLAIM_BYTES = (offset: bigint) => toUtf8Bytes(`claim-${offset}`);

export type DecisionV2 = DecisionLeafInputV2 & { runId: string; claimId: string; input: { topic: string; partition: number; offset: string } };

/** A deterministic v2 decision at `offset` of `partition` (its input at claims/partition@offset*3). */
export function decisionV2At(partition: number, offset: bigint, overrides: Partial<DecisionV2> = {}): DecisionV2 {
  const n = Number(offset % 1000n);
  const input = { topic: 'claims', partition, offset: String(offset * 3n) };
  const base: DecisionV2 = {
    instanceId: INSTANCE,
    runId: 'live',
    decisionId: decisionIdV2(INSTANCE, 'live', MODEL, input.topic, input.partition, input.offset),
    claimId: `CLM-${partition}-${offset}`,
    claimCommitment: claimCommitment(CLAIM_BYTES(offset), SALT),
    score: (n % 997) / 1000,
    outcome: (['approve', 'review', 'flag'] as const)[n % 3]!,
    modelHash: MODEL,
    reasons: [
      { code: 'F_CHARGE_PER_UNIT', contribution: 0.21 },
      { code: 'R_EXCLUDED_PROVIDER', contribution: -0.05 },
    ],
    decidedAt: new Date(1_717_000_000_000 + n * 1000).toISOString(),
    input,
    log: { topic: TOPIC, partition, offset: offset.toString() },
  };
  return { ...base, ...overrides };
}

/** Three batches (partition 0: 2 batches, partition 1: 1), anchored in one epoch, plus a flagged tree. */
export function sampleEpoch() {
  const specs: Array<[number, bigint, number, bigint]> = [
    [0, 100n, 5, 2n],
    [0, 200n, 8, 1n],
    [1, 50n, 3, 3n],
  ];
  const batches = specs.map(([partition, first, count, step]) => {
    const decisions = Array.from({ length: count }, (_, i) => decisionV2At(partition, first + BigInt(i) * step));
    const values = decisions.map((d) => leafValuesV2(d));
    const tree = buildBatchTreeV2(values);
    const range = { topic: TOPIC, partition, firstOffset: String(first), lastOffset: String(first + BigInt(count - 1) * step) };
    const batch: EpochBatch = { ...range, leafCount: count, root: tree.root };
    return { decisions, values, tree, range, batch };
  });
  const epoch = buildEpochTree(INSTANCE, batches.map((b) => b.batch));
  const flaggedDecisions = batches.flatMap((b) => b.decisions.filter((d) => d.outcome === 'flag'));
  const flagged = buildFlaggedTree(flaggedDecisions.map((d) => leafValuesV2(d)));
  return { batches, epoch, flagged, flaggedDecisions };
}

export const ANCHORER = '0x70997970c51812dc3a010c7d01b54ad4f1a6f0ab';
export const CONTRACT = '0x5fbdb2315678afecb367f032d93f642f64180aa3';
export const TRUST: PinnedDeployment = Object.freeze({ chainId: 31337, contract: CONTRACT, anchorer: ANCHORER });
export const SAMPLE_ANCHOR_V2 = Object.freeze({
  chainId: 31337,
  contract: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  anchorer: '0x70997970C51812dc3A010C7d01b54ad4F1a6F0ab',
  txHash: keccak256(toUtf8Bytes('tx v2')),
  blockNumber: 120,
  blockHash: keccak256(toUtf8Bytes('block 120')),
  confirmationsAtExport: 3,
});
export const FLAGGED_TX = Object.freeze({ txHash: keccak256(toUtf8Bytes('flagged tx')), blockNumber: 118, blockHash: keccak256(toUtf8Bytes('block 118')) });

/** The bundle of decision `index` of batch `b` of {@link sampleEpoch}, with a flagged section when the decision is flagged. */
export function sampleBundleV2(b = 1, index = 2, withSalt = true): ProofBundleV2 {
  const { batches, epoch, flagged } = sampleEpoch();
  const batch = batches[b]!;
  const decision = batch.decisions[index]!;
  return makeProofBundleV2({
    decision,
    ...(withSalt ? { salt: SALT } : {}),
    proof: batch.tree.proofFor(index),
    batch: batch.batch,
    epoch: { sequence: '12', root: epoch.root, batchCount: epoch.batchCount, leafCount: epoch.leafCount, proof: epoch.proofFor(b) },
    ...(decision.outcome === 'flag'
      ? { flagged: { root: flagged.root, count: flagged.count, proof: flagged.proofFor(decision.decisionId), ...FLAGGED_TX } }
      : {}),
    anchor: { ...SAMPLE_ANCHOR_V2 },
  });
}

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => hexlify(b));
const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String);
const uint32 = fc.integer({ min: 0, max: 0xffff_ffff });

/** Any valid v2 leaf tuple. */
export const leafValuesV2Arb: fc.Arbitrary<LeafValuesV2> = fc.tuple(
  fc.constant(LEAF_V2_DOMAIN),
  bytes32,
  bytes32,
  bytes32,
  fc.integer({ min: 0, max: 1_000_000 }),
  fc.integer({ min: 0, max: 2 }),
  bytes32,
  bytes32,
  uint64,
  bytes32,
  uint32,
  uint64,
);

export { bytes32 as bytes32Arb, uint32 as uint32Arb, uint64 as uint64Arb };

/** A mutable deep copy of a bundle, as a verifier gets it from JSON. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests poke at arbitrary paths
export type MutableV2 = Record<string, any>;
export const plainV2 = (b: ProofBundleV2): MutableV2 => JSON.parse(JSON.stringify(b)) as MutableV2;
