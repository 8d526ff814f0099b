/**
 * Shared test data for the anchoring unit tests: a realistic decision, a batch of them, and
 * fast-check arbitraries for leaf tuples.
 */
import { hexlify, keccak256, toUtf8Bytes } from 'ethers';
import fc from 'fast-check';
import { claimCommitment } from '../../../anchoring/core/commitment.ts';
import { leafValues, type DecisionLeafInput, type LeafValues } from '../../../anchoring/core/leaf.ts';
import { buildBatchTree } from '../../../anchoring/core/merkle.ts';
import { makeProofBundle, type ProofBundle } from '../../../anchoring/core/proof-bundle.ts';

export const TOPIC = 'decisions';
export const PARTITION = 3;
export const SALT = '0x' + '5a'.repeat(32);
export const CLAIM_BYTES = toUtf8Bytes(JSON.stringify({ claimId: 'CLM-000123', memberId: 'M-42', amount: 1250.5 }));

/** A deterministic decision at `offset` (other fields vary with it). */
export function decisionAt(offset: bigint, overrides: Partial<DecisionLeafInput> = {}): DecisionLeafInput & { claimId: string } {
  const n = Number(offset % 1000n);
  return {
    decisionId: keccak256(toUtf8Bytes(`decision-${offset}`)),
    claimId: `CLM-${offset}`,
    claimCommitment: claimCommitment(toUtf8Bytes(`claim-${offset}`), SALT),
    score: (n % 997) / 997,
    outcome: (['approve', 'review', 'flag'] as const)[n % 3]!,
    modelHash: keccak256(toUtf8Bytes('model-v7')),
    reasons: [
      { code: 'F_CHARGE_PER_UNIT', contribution: 0.21, text: 'charge per unit 3.4x peer median' },
      { code: 'R_EXCLUDED_PROVIDER', contribution: 1, text: 'provider on exclusion list' },
    ],
    decidedAt: new Date(1_717_000_000_000 + n * 1000).toISOString(),
    log: { topic: TOPIC, partition: PARTITION, offset: offset.toString() },
    ...overrides,
  };
}

/** `count` decisions at offsets first, first+step, ... (step 2 mimics transaction markers). */
export function batchOfDecisions(first: bigint, count: number, step = 1n): Array<DecisionLeafInput & { claimId: string }> {
  return Array.from({ length: count }, (_, i) => decisionAt(first + BigInt(i) * step));
}

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => hexlify(b));

/** Any valid leaf tuple (not necessarily from one batch). */
export const leafValuesArb: fc.Arbitrary<LeafValues> = fc.tuple(
  bytes32,
  bytes32,
  fc.integer({ min: 0, max: 1_000_000 }),
  fc.integer({ min: 0, max: 2 }),
  bytes32,
  bytes32,
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String),
  bytes32,
  fc.integer({ min: 0, max: 0xffff_ffff }),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String),
);

/** Leaf tuples of a realistic batch. */
export function batchValues(first: bigint, count: number): LeafValues[] {
  return batchOfDecisions(first, count).map((d) => leafValues(d));
}

/** A batch of 37 decisions at offsets 500, 502, ..., 572 (gaps = transaction markers). */
export function sampleBatch() {
  const decisions = batchOfDecisions(500n, 37, 2n);
  const range = { topic: TOPIC, partition: PARTITION, firstOffset: '500', lastOffset: '572' };
  return { decisions, range };
}

export const SAMPLE_ANCHOR = Object.freeze({
  chainId: 31337,
  contract: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  txHash: keccak256(toUtf8Bytes('tx')),
  blockNumber: 120,
  blockHash: keccak256(toUtf8Bytes('block 120')),
  confirmationsAtExport: 3,
});

/** A bundle for leaf `index` of {@link sampleBatch}, made the way the exporter makes them. */
export function sampleBundle(index = 11, anchor: typeof SAMPLE_ANCHOR | null = SAMPLE_ANCHOR): ProofBundle {
  const { decisions, range } = sampleBatch();
  const tree = buildBatchTree(decisions.map((d) => leafValues(d)));
  return makeProofBundle({
    decision: decisions[index]!,
    salt: SALT,
    proof: tree.proofFor(index),
    batch: { ...range, leafCount: tree.leafCount, root: tree.root },
    anchor,
  });
}

/** A mutable deep copy of a bundle, as a verifier gets it from JSON. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests poke at arbitrary paths
export type Mutable = Record<string, any>;
export const plain = (b: ProofBundle): Mutable => JSON.parse(JSON.stringify(b)) as Mutable;
