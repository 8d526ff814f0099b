/**
 * Generates tests/vectors/verifier-vectors-v2.json: `claimtrail-proof-v2` test vectors for every
 * verifier (the TypeScript verifier, DecisionAnchorV2's `verifyDecisionValues` /
 * `verifyFlaggedValues`, `claimtrail verify`), made like v1's (generate.ts): valid bundles, then
 * negatives by mutation, each with a description and the expected result.
 *
 *   node tests/vectors/generate-v2.ts            writes the file (npm run gen:vectors runs v1 and v2)
 *   node tests/vectors/generate-v2.ts --check    exits 1 when the file is not what this script makes
 *
 * Deterministic (fixed decisions, no randomness, no clock); tests/unit/anchoring/verifier-vectors-v2.test.ts
 * checks the file is current.
 *
 * File layout (`format: claimtrail-verifier-vectors-v2`):
 * - `trustAnchor`: the verifier's trust anchor for every vector (`verifyProofBundleV2(bundle, { trust })`).
 * - `chain`: what the trusted contract holds once set up: `epochs` (anchorEpoch by `anchorer`) and
 *   `flaggedRoots` (anchorFlaggedRoot by `anchorer`). Bases' anchor fields are synthetic.
 * - `bases[]`: valid bundles, each with `contract`: the `DecisionValues` and `BatchEntry` structs of
 *   the spec's contract section (the leaf and entry tuples without their domain word; entryLeaf
 *   adds the decision's instanceId) and the call arguments.
 * - `vectors[]`: `{ id, category, description, base, patch, expected, contract? }`: apply `patch`
 *   (RFC 6902, patch.ts) to `bases[base].bundle`, verify with the trust anchor, expect `expected`.
 *   `contract`, for bundles that load, holds the booleans `verifyDecisionValues` (and
 *   `verifyFlaggedValues`, with a flagged section) must return for the calls `contractCallsOf`
 *   derives from the patched bundle. A contract sees only those values, so it may accept what the
 *   bundle verifier rejects for a field it does not read (e.g. `epoch.sequence`, `claimId`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AbiCoder, concat, id, keccak256, toUtf8Bytes } from 'ethers';
import { claimCommitment } from '../../anchoring/core/commitment.ts';
import { buildEpochTree, EPOCH_ENTRY_DOMAIN, entryHash, type EntryValues, type EpochBatch, type EpochTree } from '../../anchoring/core/epoch.ts';
import type { VerificationCode } from '../../anchoring/core/errors.ts';
import { buildFlaggedTree } from '../../anchoring/core/flagged-tree.ts';
import { BATCH_ID_V2_DOMAIN, batchIdV2, decisionIdV2, epochId } from '../../anchoring/core/ids-v2.ts';
import { decisionLeaf } from '../../anchoring/core/leaf.ts';
import { leafHashV2, leafValuesV2, type DecisionLeafInputV2, type LeafValuesV2 } from '../../anchoring/core/leaf-v2.ts';
import { getProof, leafTreeIndex, makeTree, processProof } from '../../anchoring/core/merkle-core.ts';
import { loadProofBundleV2, makeProofBundleV2, type ProofBundleV2 } from '../../anchoring/core/proof-bundle-v2.ts';
import type { PinnedDeployment } from '../../anchoring/core/verify-proof-v2.ts';
import { flipBit } from './generate.ts';
import { applyPatch, type PatchOp } from './patch.ts';

export const VECTORS_V2_FORMAT = 'claimtrail-verifier-vectors-v2';
export const VECTORS_V2_FILE = fileURLToPath(new URL('./verifier-vectors-v2.json', import.meta.url));

export type ExpectedV2 = { ok: true } | { ok: false; code: VerificationCode };

/** `DecisionValues` as DecisionAnchorV2 takes it: the v2 leaf tuple without its domain word. */
export interface DecisionValuesStruct {
  instanceId: string;
  decisionId: string;
  claimCommitment: string;
  scoreMicros: number;
  outcome: number;
  modelHash: string;
  reasonsHash: string;
  decidedAtMs: string;
  logTopicHash: string;
  logPartition: number;
  logOffset: string;
}

/** `BatchEntry` as DecisionAnchorV2 takes it: the entry tuple without domain and instanceId. */
export interface BatchEntryStruct {
  batchId: string;
  batchRoot: string;
  leafCount: number;
  logTopicHash: string;
  logPartition: number;
  firstOffset: string;
  lastOffset: string;
}

export interface ContractCallsV2 {
  /** `verifyDecisionValues(anchorer, epochId, values, proof, entry, epochProof)` and what it must return. */
  decision: { anchorer: string; epochId: string; values: DecisionValuesStruct; proof: string[]; entry: BatchEntryStruct; epochProof: string[]; expected: boolean };
  /** `verifyFlaggedValues(anchorer, root, values, proof)`, for bundles with a flagged section. */
  flagged?: { anchorer: string; root: string; values: DecisionValuesStruct; proof: string[]; expected: boolean };
}

export interface VectorV2 {
  id: string;
  category: string;
  description: string;
  base: number;
  patch: PatchOp[];
  expected: ExpectedV2;
  /**
   * For bundles that load and whose decision is expressible as DecisionValues: what the
   * contract's views must return for the calls {@link contractCallsOf} derives from the patched
   * bundle (`flagged` only when it has a flagged section).
   */
  contract?: { decision: boolean; flagged?: boolean };
}

export interface VectorFileV2 {
  format: typeof VECTORS_V2_FORMAT;
  description: string;
  generator: string;
  trustAnchor: Required<PinnedDeployment>;
  chain: {
    chainId: number;
    contract: string;
    epochs: Array<{ anchorer: string; epochId: string; root: string; batchCount: number; leafCount: string; blockNumber: number; note: string }>;
    flaggedRoots: Array<{ anchorer: string; root: string; count: number; blockNumber: number; note: string }>;
  };
  bases: Array<{ name: string; bundle: ProofBundleV2; contract: ContractCallsV2 }>;
  vectors: VectorV2[];
}

const INSTANCE = id('claimtrail vectors v2: instance A');
const OTHER_INSTANCE = id('claimtrail vectors v2: instance B');
const MODEL = id('vector model v2');
const TOPIC = 'decisions';
const SALT = '0x' + '5a'.repeat(32);
const ANCHORER = '0x70997970c51812dc3a010c7d01b54ad4f1a6f0ab';
const FOREIGN_ANCHORER = '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc';
const CONTRACT = '0x5fbdb2315678afecb367f032d93f642f64180aa3';
const FOREIGN_CONTRACT = '0xe7f1725e7734ce288f8367e1bb143e90bb3f0512';
const CHAIN_ID = 31337;
const TRUST: Required<PinnedDeployment> = { chainId: CHAIN_ID, contract: CONTRACT, anchorer: ANCHORER };
const ANCHOR = Object.freeze({
  chainId: CHAIN_ID,
  contract: CONTRACT,
  anchorer: ANCHORER,
  txHash: id('claimtrail vectors v2: epoch tx'),
  blockNumber: 120,
  blockHash: id('claimtrail vectors v2: block 120'),
  confirmationsAtExport: 3,
});
const FLAGGED_ANCHOR = Object.freeze({ txHash: id('claimtrail vectors v2: flagged tx'), blockNumber: 118, blockHash: id('claimtrail vectors v2: block 118') });
const ZERO = '0x' + '00'.repeat(32);

type Decision = DecisionLeafInputV2 & { runId: string; claimId: string; input: { topic: string; partition: number; offset: string } };

function decisionAt(partition: number, offset: number): Decision {
  const input = { topic: 'claims', partition, offset: String(offset * 2 + 7) };
  return {
    instanceId: INSTANCE,
    runId: 'live',
    decisionId: decisionIdV2(INSTANCE, 'live', MODEL, input.topic, input.partition, input.offset),
    claimId: `CLM-V${partition}-${offset}`,
    claimCommitment: claimCommitment(toUtf8Bytes(`vector claim ${partition}/${offset}`), SALT),
    score: (offset % 997) / 1000,
    outcome: (['approve', 'review', 'flag'] as const)[(offset + partition) % 3]!,
    modelHash: MODEL,
    reasons: [
      { code: 'F_CHARGE_PER_UNIT', contribution: 0.25 },
      { code: 'R_EXCLUDED_PROVIDER', contribution: -0.031 },
    ],
    decidedAt: new Date(1_717_000_000_000 + offset * 1000).toISOString(),
    input,
    log: { topic: TOPIC, partition, offset: String(offset) },
  };
}

interface Batch {
  name: string;
  decisions: Decision[];
  values: LeafValuesV2[];
  tree: string[];
  root: string;
  batch: EpochBatch;
}

function makeBatch(name: string, partition: number, first: number, count: number, step: number): Batch {
  const decisions = Array.from({ length: count }, (_, i) => decisionAt(partition, first + i * step));
  const values = decisions.map((d) => leafValuesV2(d));
  const tree = makeTree(values.map((v) => leafHashV2(v)));
  const batch = { topic: TOPIC, partition, firstOffset: String(first), lastOffset: String(first + (count - 1) * step), leafCount: count, root: tree[0]! };
  return { name, decisions, values, tree, root: tree[0]!, batch };
}

const structOf = (v: LeafValuesV2): DecisionValuesStruct => ({
  instanceId: v[1], decisionId: v[2], claimCommitment: v[3], scoreMicros: v[4], outcome: v[5], modelHash: v[6],
  reasonsHash: v[7], decidedAtMs: v[8], logTopicHash: v[9], logPartition: v[10], logOffset: v[11],
});

/**
 * The DecisionAnchorV2 calls a bundle stands for: `values` from the decision (leaf tuple without
 * its domain word), `entry` from the batch section (the stated batch id and root, the topic's
 * hash), anchorer, epoch id and proofs as stated. `expected` comes from a naive model of the
 * contract's views written from the spec (epoch recorded by that anchorer, position in the entry's
 * range on the same topic hash and partition, batch id derived from the entry, leaf -> batch root,
 * entry -> epoch root; flagged root recorded by that anchorer, leaf -> flagged root).
 * @returns undefined when the decision cannot be expressed as DecisionValues.
 */
export function contractCallsOf(bundle: ProofBundleV2, chain: VectorFileV2['chain']): ContractCallsV2 | undefined {
  let values: LeafValuesV2;
  try {
    values = leafValuesV2(bundle.decision);
  } catch {
    return undefined; // not expressible as DecisionValues
  }
  const v = structOf(values);
  const b = bundle.batch;
  const entry: BatchEntryStruct = {
    batchId: b.batchId.toLowerCase(), batchRoot: b.root.toLowerCase(), leafCount: b.leafCount, logTopicHash: keccak256(toUtf8Bytes(b.topic)),
    logPartition: b.partition, firstOffset: b.firstOffset, lastOffset: b.lastOffset,
  };
  const anchorer = bundle.anchor.anchorer.toLowerCase();
  const leaf = leafHashV2(values);
  const epoch = chain.epochs.find((e) => e.anchorer === anchorer && e.epochId === bundle.epoch.epochId.toLowerCase());
  const offset = BigInt(v.logOffset);
  const derivedBatchId = keccak256(AbiCoder.defaultAbiCoder().encode(
    ['bytes32', 'bytes32', 'bytes32', 'uint32', 'uint64', 'uint64'],
    [BATCH_ID_V2_DOMAIN, v.instanceId, entry.logTopicHash, entry.logPartition, entry.firstOffset, entry.lastOffset],
  ));
  const entryTuple: EntryValues = [EPOCH_ENTRY_DOMAIN, v.instanceId, entry.batchId, entry.batchRoot, entry.leafCount, entry.logTopicHash, entry.logPartition, entry.firstOffset, entry.lastOffset];
  const decisionOk =
    epoch !== undefined &&
    v.logTopicHash === entry.logTopicHash &&
    v.logPartition === entry.logPartition &&
    offset >= BigInt(entry.firstOffset) &&
    offset <= BigInt(entry.lastOffset) &&
    derivedBatchId === entry.batchId &&
    processProof(leaf, bundle.proof) === entry.batchRoot &&
    processProof(entryHash(entryTuple), bundle.epoch.proof) === epoch.root;
  const calls: ContractCallsV2 = {
    decision: { anchorer, epochId: bundle.epoch.epochId.toLowerCase(), values: v, proof: [...bundle.proof], entry, epochProof: [...bundle.epoch.proof], expected: decisionOk },
  };
  if (bundle.flagged !== undefined) {
    const root = bundle.flagged.root.toLowerCase();
    const known = chain.flaggedRoots.some((f) => f.anchorer === anchorer && f.root === root);
    calls.flagged = { anchorer, root, values: v, proof: [...bundle.flagged.proof], expected: known && processProof(leaf, bundle.flagged.proof) === root };
  }
  return calls;
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

const fail = (code: VerificationCode): ExpectedV2 => ({ ok: false, code });
const OK: ExpectedV2 = { ok: true };

/** Builds the whole v2 vector file (pure; deterministic). */
export function generateVectorsV2(): VectorFileV2 {
  // Epoch 12: four batches in batch order (partition, then first offset); epoch 13: one batch.
  const main = makeBatch('p0 8-leaf batch', 0, 1000, 8, 2); // offsets 1000..1014, gaps = tx markers
  const uneven = makeBatch('p0 5-leaf batch', 0, 2000, 5, 1);
  const single = makeBatch('p0 1-leaf batch', 0, 3000, 1, 1);
  const other = makeBatch('p1 8-leaf batch', 1, 1000, 8, 2);
  const lone = makeBatch('p2 3-leaf batch (one-batch epoch)', 2, 500, 3, 1);
  const epochBatches = [main, uneven, single, other];
  const epochA = buildEpochTree(INSTANCE, epochBatches.map((b) => b.batch));
  const epochB = buildEpochTree(INSTANCE, [lone.batch]);
  const flaggedDecisions = [...epochBatches, lone].flatMap((b) => b.decisions.filter((d) => d.outcome === 'flag'));
  const flagged = buildFlaggedTree(flaggedDecisions.map((d) => leafValuesV2(d)));

  const chain: VectorFileV2['chain'] = {
    chainId: CHAIN_ID,
    contract: CONTRACT,
    epochs: [
      { anchorer: ANCHORER, epochId: epochId(INSTANCE, '12'), root: epochA.root, batchCount: epochA.batchCount, leafCount: epochA.leafCount, blockNumber: 120, note: 'epoch 12: four batches' },
      { anchorer: ANCHORER, epochId: epochId(INSTANCE, '13'), root: epochB.root, batchCount: 1, leafCount: epochB.leafCount, blockNumber: 120, note: 'epoch 13: one batch (root = its entry)' },
      // Another anchorer records OUR epoch id with another root: records are keyed by anchorer, so
      // this neither reverts nor touches ours, and a bundle naming that anchorer proves nothing.
      { anchorer: FOREIGN_ANCHORER, epochId: epochId(INSTANCE, '12'), root: epochB.root, batchCount: 1, leafCount: epochB.leafCount, blockNumber: 121, note: 'a foreign anchorer pre-empting our epoch id on the shared contract' },
    ],
    flaggedRoots: [{ anchorer: ANCHORER, root: flagged.root, count: flagged.count, blockNumber: 118, note: 'flagged tree of every flagged decision' }],
  };

  const bundleOf = (batch: Batch, i: number, epoch: EpochTree, sequence: string, batchIndex: number): ProofBundleV2 => {
    const d = batch.decisions[i]!;
    return makeProofBundleV2({
      decision: d,
      salt: SALT,
      proof: getProof(batch.tree, leafTreeIndex(batch.decisions.length, i)),
      batch: batch.batch,
      epoch: { sequence, root: epoch.root, batchCount: epoch.batchCount, leafCount: epoch.leafCount, proof: epoch.proofFor(batchIndex) },
      ...(d.outcome === 'flag' ? { flagged: { root: flagged.root, count: flagged.count, proof: flagged.proofFor(d.decisionId), ...FLAGGED_ANCHOR } } : {}),
      anchor: { ...ANCHOR },
    });
  };

  const bases: VectorFileV2['bases'] = [];
  const baseIndex = new Map<string, number>();
  const bundles = new Map<Batch, ProofBundleV2[]>();
  const groups: Array<[Batch, EpochTree, string, number]> = [[main, epochA, '12', 0], [uneven, epochA, '12', 1], [single, epochA, '12', 2], [other, epochA, '12', 3], [lone, epochB, '13', 0]];
  for (const [batch, epoch, sequence, k] of groups) {
    const list = batch.decisions.map((_, i) => bundleOf(batch, i, epoch, sequence, k));
    bundles.set(batch, list);
    list.forEach((bundle, i) => {
      baseIndex.set(`${batch.name}, leaf ${i}`, bases.length);
      bases.push({ name: `${batch.name}, leaf ${i}`, bundle, contract: contractCallsOf(bundle, chain)! });
    });
  }
  const baseOf = (batch: Batch, i: number) => baseIndex.get(`${batch.name}, leaf ${i}`)!;

  const vectors: VectorV2[] = [];
  const add = (v: Omit<VectorV2, 'id' | 'contract'> & { id?: string }): void => {
    const patched = applyPatch(bases[v.base]!.bundle, v.patch);
    let calls: ContractCallsV2 | undefined;
    try {
      calls = contractCallsOf(loadProofBundleV2(patched), chain);
    } catch {
      calls = undefined; // does not load: no contract call to derive
    }
    const contract = calls && { decision: calls.decision.expected, ...(calls.flagged ? { flagged: calls.flagged.expected } : {}) };
    const n = vectors.filter((x) => x.category === v.category).length;
    vectors.push({ id: v.id ?? `${v.category}-${n}`, category: v.category, description: v.description, base: v.base, patch: v.patch, expected: v.expected, ...(contract ? { contract } : {}) });
  };

  // 1. Happy paths: every decision of every batch of both epochs.
  for (const [batch] of groups) {
    bundles.get(batch)!.forEach((b, i) =>
      add({ category: 'happy', description: `${batch.name}: bundle of leaf ${i} as exported${b.flagged ? ' (flagged)' : ''}`, base: baseOf(batch, i), patch: [], expected: OK }),
    );
  }

  // Targets: leaf 5 of the p0 8-leaf batch (3 batch-proof elements, 2 epoch-proof elements), and
  // the first flagged decision of that batch for the flagged section.
  const T = 5;
  const target = bundles.get(main)![T]!;
  const base = baseOf(main, T);
  const F = main.decisions.findIndex((d) => d.outcome === 'flag');
  const flaggedTarget = bundles.get(main)![F]!;
  const flaggedBase = baseOf(main, F);

  // 2. Single-bit flips of the leaf, every proof element, every root and every id.
  const bitflips = (category: string, what: string, b: number, path: string, value: string, code: VerificationCode): void => {
    for (let bit = 0; bit < 256; bit++) {
      add({ id: `${category}-${path.replaceAll('/', '.').slice(1)}-${bit}`, category, description: `${what} with bit ${bit} flipped`, base: b, patch: [{ op: 'replace', path, value: flipBit(value, bit) }], expected: fail(code) });
    }
  };
  bitflips('leaf-bitflip', 'leaf', base, '/leaf', target.leaf, 'LEAF_MISMATCH');
  target.proof.forEach((p, k) => bitflips('proof-bitflip', `batch proof element ${k}`, base, `/proof/${k}`, p, 'PROOF_INVALID'));
  target.epoch.proof.forEach((p, k) => bitflips('epoch-proof-bitflip', `epoch proof element ${k}`, base, `/epoch/proof/${k}`, p, 'EPOCH_PROOF_INVALID'));
  flaggedTarget.flagged!.proof.forEach((p, k) => bitflips('flagged-proof-bitflip', `flagged proof element ${k}`, flaggedBase, `/flagged/proof/${k}`, p, 'FLAGGED_PROOF_INVALID'));
  bitflips('root-bitflip', 'batch root', base, '/batch/root', target.batch.root, 'PROOF_INVALID');
  bitflips('root-bitflip', 'epoch root', base, '/epoch/root', target.epoch.root, 'EPOCH_PROOF_INVALID');
  bitflips('root-bitflip', 'flagged root', flaggedBase, '/flagged/root', flaggedTarget.flagged!.root, 'FLAGGED_PROOF_INVALID');
  bitflips('id-bitflip', 'batch id', base, '/batch/batchId', target.batch.batchId, 'BATCH_ID_MISMATCH');
  bitflips('id-bitflip', 'epoch id', base, '/epoch/epochId', target.epoch.epochId, 'EPOCH_ID_MISMATCH');
  // A decision id bit flip with the leaf recomputed by a forger: only the id derivation catches it.
  for (let bit = 0; bit < 256; bit++) {
    const decision = { ...target.decision, decisionId: flipBit(target.decision.decisionId, bit) };
    add({
      id: `id-bitflip-decision.decisionId-${bit}`,
      category: 'id-bitflip',
      description: `decision id with bit ${bit} flipped, leaf recomputed to match`,
      base,
      patch: [{ op: 'replace', path: '/decision/decisionId', value: decision.decisionId }, { op: 'replace', path: '/leaf', value: leafHashV2(leafValuesV2(decision)) }],
      expected: fail('DECISION_ID_MISMATCH'),
    });
  }

  // 3. Every decision field altered: stated leaf kept, then leaf recomputed by a forger.
  const d = target.decision;
  const edits: Array<[string, string, unknown, VerificationCode, VerificationCode]> = [
    // [what, path, value, code with leaf kept, code with leaf recomputed]
    ['instanceId', '/decision/instanceId', OTHER_INSTANCE, 'LEAF_MISMATCH', 'DECISION_ID_MISMATCH'],
    ['runId', '/decision/runId', 'backfill-2024-06', 'DECISION_ID_MISMATCH', 'DECISION_ID_MISMATCH'],
    ['decisionId', '/decision/decisionId', id('another decision'), 'LEAF_MISMATCH', 'DECISION_ID_MISMATCH'],
    ['claimCommitment', '/decision/claimCommitment', flipBit(d.claimCommitment, 0), 'LEAF_MISMATCH', 'PROOF_INVALID'],
    ['score (+1e-6)', '/decision/score', Math.round(d.score * 1e6 + 1) / 1e6, 'LEAF_MISMATCH', 'PROOF_INVALID'],
    ['outcome', '/decision/outcome', d.outcome === 'approve' ? 'flag' : 'approve', 'LEAF_MISMATCH', 'PROOF_INVALID'],
    ['modelHash', '/decision/modelHash', id('vector model v3'), 'LEAF_MISMATCH', 'DECISION_ID_MISMATCH'],
    ['reason code', '/decision/reasons/0/code', 'F_OTHER', 'LEAF_MISMATCH', 'PROOF_INVALID'],
    ['reason contribution (+1e-6)', '/decision/reasons/0/contribution', 0.250001, 'LEAF_MISMATCH', 'PROOF_INVALID'],
    ['reason contribution (more precision than bound)', '/decision/reasons/0/contribution', 0.2500001, 'LEAF_MISMATCH', 'LEAF_MISMATCH'],
    ['reasons (one removed)', '/decision/reasons', [d.reasons[0]], 'LEAF_MISMATCH', 'PROOF_INVALID'],
    ['reasons (reordered)', '/decision/reasons', [...d.reasons].reverse(), 'LEAF_MISMATCH', 'PROOF_INVALID'],
    ['decidedAt (+1 ms)', '/decision/decidedAt', new Date(Date.parse(d.decidedAt) + 1).toISOString(), 'LEAF_MISMATCH', 'PROOF_INVALID'],
    ['input topic', '/decision/input/topic', 'claims-replay', 'DECISION_ID_MISMATCH', 'DECISION_ID_MISMATCH'],
    ['input partition', '/decision/input/partition', d.input.partition + 1, 'DECISION_ID_MISMATCH', 'DECISION_ID_MISMATCH'],
    ['input offset', '/decision/input/offset', String(Number(d.input.offset) + 1), 'DECISION_ID_MISMATCH', 'DECISION_ID_MISMATCH'],
    ['log offset (next offset, inside the batch)', '/decision/log/offset', String(Number(d.log.offset) + 1), 'LEAF_MISMATCH', 'PROOF_INVALID'],
    ['log partition', '/decision/log/partition', d.log.partition + 1, 'LEAF_MISMATCH', 'PROOF_INVALID'],
    ['log topic', '/decision/log/topic', 'decisions-2', 'LEAF_MISMATCH', 'PROOF_INVALID'],
  ];
  for (const [what, path, value, kept, recomputed] of edits) {
    const patch: PatchOp[] = [{ op: 'replace', path, value }];
    add({ category: 'decision-altered', description: `decision ${what} altered, stated leaf kept`, base, patch, expected: fail(kept) });
    const forged = applyPatch(target, patch);
    const forgedLeaf = leafHashV2(leafValuesV2(forged.decision));
    add({ category: 'decision-altered', description: `decision ${what} altered, leaf recomputed to match`, base, patch: [...patch, { op: 'replace', path: '/leaf', value: forgedLeaf }], expected: fail(recomputed) });
  }
  add({ category: 'label-altered', description: 'claim id altered: a label, bound by nothing (only claimCommitment binds the claim)', base, patch: [{ op: 'replace', path: '/decision/claimId', value: 'CLM-SOMEONE-ELSE' }], expected: OK });
  add({ category: 'label-altered', description: 'anchor txHash and confirmationsAtExport altered: informational only', base, patch: [{ op: 'replace', path: '/anchor/txHash', value: id('other tx') }, { op: 'replace', path: '/anchor/confirmationsAtExport', value: 99 }], expected: OK });
  add({ category: 'label-altered', description: 'salt removed: optional (only the claim-bytes check needs it)', base, patch: [{ op: 'remove', path: '/salt' }], expected: OK });

  // 4. Every batch field altered.
  const batchEdits: Array<[string, PatchOp[], VerificationCode]> = [
    ['batch id of the other p0 batch', [{ op: 'replace', path: '/batch/batchId', value: bundles.get(uneven)![0]!.batch.batchId }], 'BATCH_ID_MISMATCH'],
    ['batch id of the same range under another instance', [{ op: 'replace', path: '/batch/batchId', value: batchIdV2(OTHER_INSTANCE, TOPIC, 0, '1000', '1014') }], 'BATCH_ID_MISMATCH'],
    ['batch id in the v1 derivation (no instance)', [{ op: 'replace', path: '/batch/batchId', value: keccak256(AbiCoder.defaultAbiCoder().encode(['string', 'uint32', 'uint64', 'uint64'], [TOPIC, 0, 1000, 1014])) }], 'BATCH_ID_MISMATCH'],
    ['batch topic', [{ op: 'replace', path: '/batch/topic', value: 'decisions-2' }], 'BATCH_ID_MISMATCH'],
    ['batch partition', [{ op: 'replace', path: '/batch/partition', value: 1 }], 'BATCH_ID_MISMATCH'],
    ['batch firstOffset', [{ op: 'replace', path: '/batch/firstOffset', value: '999' }], 'BATCH_ID_MISMATCH'],
    ['batch lastOffset', [{ op: 'replace', path: '/batch/lastOffset', value: '1015' }], 'BATCH_ID_MISMATCH'],
    ['batch leafCount (the entry binds it)', [{ op: 'replace', path: '/batch/leafCount', value: 7 }], 'EPOCH_PROOF_INVALID'],
    ['batch root (another batch\'s)', [{ op: 'replace', path: '/batch/root', value: uneven.root }], 'PROOF_INVALID'],
    ['batch lastOffset widened with the batch id recomputed (the entry no longer matches)', [
      { op: 'replace', path: '/batch/lastOffset', value: '1020' },
      { op: 'replace', path: '/batch/batchId', value: batchIdV2(INSTANCE, TOPIC, 0, '1000', '1020') },
    ], 'EPOCH_PROOF_INVALID'],
  ];
  for (const [what, patch, code] of batchEdits) add({ category: 'batch-altered', description: `${what} altered`, base, patch, expected: fail(code) });

  // 5. Every epoch field altered.
  const epochEdits: Array<[string, PatchOp[], ExpectedV2]> = [
    ['epoch sequence (13)', [{ op: 'replace', path: '/epoch/sequence', value: '13' }], fail('EPOCH_ID_MISMATCH')],
    ['epoch id of epoch 13', [{ op: 'replace', path: '/epoch/epochId', value: epochId(INSTANCE, '13') }], fail('EPOCH_ID_MISMATCH')],
    ['epoch id of epoch 12 of another instance', [{ op: 'replace', path: '/epoch/epochId', value: epochId(OTHER_INSTANCE, '12') }], fail('EPOCH_ID_MISMATCH')],
    ['epoch root of epoch 13', [{ op: 'replace', path: '/epoch/root', value: epochB.root }], fail('EPOCH_PROOF_INVALID')],
    ['epoch root replaced by the batch root', [{ op: 'replace', path: '/epoch/root', value: main.root }], fail('EPOCH_PROOF_INVALID')],
    ['epoch batchCount (not bound off chain; compared with the chain when the reader reports it)', [{ op: 'replace', path: '/epoch/batchCount', value: 5 }], OK],
    ['epoch leafCount (not bound off chain; compared with the chain when the reader reports it)', [{ op: 'replace', path: '/epoch/leafCount', value: '23' }], OK],
    ['epoch leafCount below the batch leafCount', [{ op: 'replace', path: '/epoch/leafCount', value: '7' }], fail('FORMAT_INVALID')],
    ['epoch id, sequence, root and proof of epoch 13 (together)', (['epochId', 'sequence', 'root', 'proof'] as const).map((k) => ({ op: 'replace' as const, path: `/epoch/${k}`, value: bundles.get(lone)![0]!.epoch[k] })), fail('EPOCH_PROOF_INVALID')],
  ];
  for (const [what, patch, expected] of epochEdits) add({ category: 'epoch-altered', description: `${what} altered`, base, patch, expected });

  // 6. Every flagged field altered.
  const secondFlagged = bundles.get(main)!.find((b, i) => i !== F && b.flagged)!;
  const flaggedEdits: Array<[string, number, PatchOp[], ExpectedV2]> = [
    ['flagged count (not bound off chain; compared with the chain)', flaggedBase, [{ op: 'replace', path: '/flagged/count', value: flagged.count + 1 }], OK],
    ['flagged txHash / block (informational off chain; the chain check compares the block)', flaggedBase, [{ op: 'replace', path: '/flagged/txHash', value: id('x') }, { op: 'replace', path: '/flagged/blockNumber', value: 1 }], OK],
    ['flagged proof of another flagged decision', flaggedBase, [{ op: 'replace', path: '/flagged/proof', value: secondFlagged.flagged!.proof }], fail('FLAGGED_PROOF_INVALID')],
    ['flagged proof emptied', flaggedBase, [{ op: 'replace', path: '/flagged/proof', value: [] }], fail('FLAGGED_PROOF_INVALID')],
    ['flagged root replaced by the epoch root', flaggedBase, [{ op: 'replace', path: '/flagged/root', value: epochA.root }], fail('FLAGGED_PROOF_INVALID')],
    ['flagged section of a flagged decision added to a decision that was not flagged', base, [{ op: 'add', path: '/flagged', value: flaggedTarget.flagged }], fail('FLAGGED_PROOF_INVALID')],
    ['flagged section removed (optional: the epoch still proves the decision)', flaggedBase, [{ op: 'remove', path: '/flagged' }], OK],
  ];
  for (const [what, b, patch, expected] of flaggedEdits) add({ category: 'flagged-altered', description: what, base: b, patch, expected });

  // 7. Truncated, extended, reordered proofs, and a neighbour's proof: batch and epoch paths.
  const structural = (batch: Batch, pathName: 'proof' | 'epoch/proof', code: VerificationCode, label: string): void => {
    bundles.get(batch)!.forEach((b, i) => {
      const p = pathName === 'proof' ? b.proof : b.epoch.proof;
      const at = `${batch.name}, leaf ${i}: ${label}`;
      const replace = (value: unknown): PatchOp[] => [{ op: 'replace', path: `/${pathName}`, value }];
      const baseI = baseOf(batch, i);
      for (let keep = 0; keep < p.length; keep++) add({ category: 'proof-truncated', description: `${at} truncated to its first ${keep} of ${p.length} elements`, base: baseI, patch: replace(p.slice(0, keep)), expected: fail(code) });
      if (p.length > 0) add({ category: 'proof-truncated', description: `${at} without its first element`, base: baseI, patch: replace(p.slice(1)), expected: fail(code) });
      const root = pathName === 'proof' ? b.batch.root : b.epoch.root;
      for (const [what, extra] of [['the zero hash', ZERO], ['the root itself', root], ['a copy of its last element', p.at(-1) ?? ZERO]] as const) {
        add({ category: 'proof-extended', description: `${at} extended with ${what}`, base: baseI, patch: replace([...p, extra]), expected: fail(code) });
      }
      add({ category: 'proof-extended', description: `${at} with the zero hash prepended`, base: baseI, patch: replace([ZERO, ...p]), expected: fail(code) });
      for (const order of permutations(p.map((_, k) => k))) {
        if (order.every((k, j) => k === j)) continue;
        add({ category: 'proof-reordered', description: `${at} in order [${order.join(', ')}]`, base: baseI, patch: replace(order.map((k) => p[k]!)), expected: fail(code) });
      }
      if (pathName === 'proof' && batch.decisions.length > 1) {
        const n = (i + 1) % batch.decisions.length;
        add({ category: 'proof-of-other-leaf', description: `${at} replaced by leaf ${n}'s`, base: baseI, patch: replace(bundles.get(batch)![n]!.proof), expected: fail(code) });
      }
    });
  };
  for (const batch of [main, uneven, single]) structural(batch, 'proof', 'PROOF_INVALID', 'batch proof');
  structural(main, 'epoch/proof', 'EPOCH_PROOF_INVALID', 'epoch proof');
  structural(lone, 'epoch/proof', 'EPOCH_PROOF_INVALID', 'epoch proof (one-batch epoch)');
  add({ category: 'proof-of-other-leaf', description: "epoch proof of the p0 5-leaf batch's entry", base, patch: [{ op: 'replace', path: '/epoch/proof', value: bundles.get(uneven)![0]!.epoch.proof }], expected: fail('EPOCH_PROOF_INVALID') });
  add({ category: 'proof-extended', description: 'batch proof padded to 65 elements (over the 64-element limit)', base, patch: [{ op: 'replace', path: '/proof', value: [...target.proof, ...Array.from({ length: 62 }, (_, k) => id(`pad ${k}`))] }], expected: fail('FORMAT_INVALID') });

  // 8. An internal node's children presented as a decision: the leaf is recomputed from the
  // values (12 words with a domain word), so the node cannot pass for a leaf; on chain the
  // contract has no leaf-hash input at all, and the children as instanceId/decisionId hash to
  // something else.
  for (let level = 1; level <= target.proof.length; level++) {
    let node = leafTreeIndex(8, T);
    for (let l = 0; l < level; l++) node = Math.floor((node - 1) / 2);
    const [a, b] = [main.tree[2 * node + 1]!, main.tree[2 * node + 2]!].sort();
    add({
      category: 'internal-node-onchain',
      description: `internal node at height ${level} above leaf ${T} (keccak256 of ${concat([a!, b!]).length / 2 - 1} bytes) as the leaf, its children as instanceId and decisionId, with the remaining ${target.proof.length - level} proof element(s)`,
      base,
      patch: [
        { op: 'replace', path: '/decision/instanceId', value: a },
        { op: 'replace', path: '/decision/decisionId', value: b },
        { op: 'replace', path: '/leaf', value: main.tree[node]! },
        { op: 'replace', path: '/proof', value: target.proof.slice(level) },
      ],
      expected: fail('LEAF_MISMATCH'),
    });
  }
  add({ category: 'root-empty-proof', description: 'the batch root presented as the leaf, with an empty proof', base, patch: [{ op: 'replace', path: '/leaf', value: main.root }, { op: 'replace', path: '/proof', value: [] }], expected: fail('LEAF_MISMATCH') });
  add({ category: 'root-empty-proof', description: 'the decision values kept, batch proof emptied (leaf is not the root)', base, patch: [{ op: 'replace', path: '/proof', value: [] }], expected: fail('PROOF_INVALID') });
  add({ category: 'root-empty-proof', description: 'the epoch proof emptied (the entry is not the epoch root)', base, patch: [{ op: 'replace', path: '/epoch/proof', value: [] }], expected: fail('EPOCH_PROOF_INVALID') });
  add({ category: 'root-empty-proof', description: 'the batch root presented as the epoch root with an empty epoch proof', base, patch: [{ op: 'replace', path: '/epoch/root', value: main.root }, { op: 'replace', path: '/epoch/proof', value: [] }], expected: fail('EPOCH_PROOF_INVALID') });

  // 9. v1 inside v2.
  const v1Input = { ...d, reasons: d.reasons.map((r) => ({ ...r, text: 'reason text' })) };
  const v1Leaf = decisionLeaf(v1Input);
  const v1Leaves = main.decisions.map((x) => decisionLeaf({ ...x, reasons: x.reasons.map((r) => ({ ...r, text: 'reason text' })) }));
  const v1Tree = makeTree(v1Leaves);
  add({ category: 'v1-in-v2', description: 'the v1 leaf of the same decision as the leaf', base, patch: [{ op: 'replace', path: '/leaf', value: v1Leaf }], expected: fail('LEAF_MISMATCH') });
  add({
    category: 'v1-in-v2',
    description: 'the v1 leaf, its v1 proof and the v1 batch root of the same decisions',
    base,
    patch: [{ op: 'replace', path: '/leaf', value: v1Leaf }, { op: 'replace', path: '/proof', value: getProof(v1Tree, leafTreeIndex(8, T)) }, { op: 'replace', path: '/batch/root', value: v1Tree[0]! }],
    expected: fail('LEAF_MISMATCH'),
  });
  add({ category: 'v1-in-v2', description: 'reasons in v1 form (with text)', base, patch: [{ op: 'replace', path: '/decision/reasons', value: v1Input.reasons }], expected: fail('FORMAT_INVALID') });
  add({ category: 'v1-in-v2', description: 'leafEncoding claimtrail-leaf-v1 in a v2 bundle', base, patch: [{ op: 'replace', path: '/leafEncoding', value: 'claimtrail-leaf-v1' }], expected: fail('FORMAT_INVALID') });
  add({ category: 'v1-in-v2', description: 'v1 leafTypes member added', base, patch: [{ op: 'add', path: '/leafTypes', value: ['bytes32', 'bytes32', 'uint32', 'uint8', 'bytes32', 'bytes32', 'uint64', 'bytes32', 'uint32', 'uint64'] }], expected: fail('FORMAT_INVALID') });
  add({ category: 'v1-in-v2', description: 'v1 leaf tuple values (10 words, no domain or instance) leave instanceId out of the decision', base, patch: [{ op: 'remove', path: '/decision/instanceId' }], expected: fail('FORMAT_INVALID') });

  // 10. Trust anchor: the bundle names another contract, anchorer or chain.
  const trustEdits: Array<[string, PatchOp[], ExpectedV2]> = [
    ['a foreign contract', [{ op: 'replace', path: '/anchor/contract', value: FOREIGN_CONTRACT }], fail('CONTRACT_NOT_TRUSTED')],
    ['a foreign anchorer (another insurer on the shared contract)', [{ op: 'replace', path: '/anchor/anchorer', value: FOREIGN_ANCHORER }], fail('CONTRACT_NOT_TRUSTED')],
    ['another chain id', [{ op: 'replace', path: '/anchor/chainId', value: 1 }], fail('CONTRACT_NOT_TRUSTED')],
    ['the trusted contract in checksum case', [{ op: 'replace', path: '/anchor/contract', value: '0x5FbDB2315678afecb367f032d93F642f64180aa3' }], OK],
  ];
  for (const [what, patch, expected] of trustEdits) add({ category: 'untrusted-anchor', description: `anchor names ${what}`, base, patch, expected });

  // 11. An entry of another range.
  const otherEntry = bundles.get(uneven)![0]!;
  add({ category: 'entry-of-other-range', description: "batch section and epoch proof of the p0 5-leaf batch (a valid entry of this epoch), decision and batch proof unchanged", base, patch: [{ op: 'replace', path: '/batch', value: otherEntry.batch }, { op: 'replace', path: '/epoch/proof', value: otherEntry.epoch.proof }], expected: fail('PROOF_INVALID') });
  add({ category: 'entry-of-other-range', description: 'batch section of the p1 batch with the same offsets (other partition)', base, patch: [{ op: 'replace', path: '/batch', value: bundles.get(other)![T]!.batch }], expected: fail('PROOF_INVALID') });
  {
    // A forged batch tree holding this decision, claimed under the 5-leaf batch's range: leaf,
    // proof, root and batch id agree, so only the position check catches it.
    const forgedLeaves = uneven.values.map((v) => leafHashV2(v));
    forgedLeaves[0] = target.leaf;
    const forgedTree = makeTree(forgedLeaves);
    add({
      category: 'entry-of-other-range',
      description: 'forged batch root over this decision under the p0 5-leaf batch range 2000..2004 (decision at 1010)',
      base,
      patch: [{ op: 'replace', path: '/batch', value: { ...otherEntry.batch, root: forgedTree[0]! } }, { op: 'replace', path: '/proof', value: getProof(forgedTree, leafTreeIndex(5, 0)) }],
      expected: fail('POSITION_OUTSIDE_BATCH'),
    });
  }
  {
    const outside = { ...d, log: { ...d.log, offset: '9999' } };
    const forgedLeaves = main.values.map((v, i) => (i === T ? leafHashV2(leafValuesV2(outside)) : leafHashV2(v)));
    const forgedTree = makeTree(forgedLeaves);
    add({
      category: 'position-outside-batch',
      description: 'forged batch root over a decision at offset 9999, outside the batch range 1000..1014',
      base,
      patch: [
        { op: 'replace', path: '/decision/log/offset', value: '9999' },
        { op: 'replace', path: '/leaf', value: forgedLeaves[T]! },
        { op: 'replace', path: '/proof', value: getProof(forgedTree, leafTreeIndex(8, T)) },
        { op: 'replace', path: '/batch/root', value: forgedTree[0]! },
      ],
      expected: fail('POSITION_OUTSIDE_BATCH'),
    });
  }
  const foreign = bundles.get(other)![T]!;
  add({ category: 'leaf-from-other-batch', description: "decision, leaf and proof of the p1 batch's leaf 5 under this batch", base, patch: [{ op: 'replace', path: '/decision', value: foreign.decision }, { op: 'replace', path: '/leaf', value: foreign.leaf }, { op: 'replace', path: '/proof', value: foreign.proof }], expected: fail('PROOF_INVALID') });
  add({ category: 'leaf-from-other-batch', description: 'decision and leaf of the one-batch epoch under this batch, empty proof', base, patch: [{ op: 'replace', path: '/decision', value: bundles.get(lone)![0]!.decision }, { op: 'replace', path: '/leaf', value: bundles.get(lone)![0]!.leaf }, { op: 'replace', path: '/proof', value: [] }], expected: fail('PROOF_INVALID') });

  // 12. Malformed bundles.
  const malformed: Array<[string, PatchOp[]]> = [
    ['format name v1', [{ op: 'replace', path: '/format', value: 'claimtrail-proof-v1' }]],
    ['format name unknown', [{ op: 'replace', path: '/format', value: 'claimtrail-proof-v3' }]],
    ['proof element of 31 bytes', [{ op: 'replace', path: '/proof/0', value: target.proof[0]!.slice(0, -2) }]],
    ['epoch proof element of 33 bytes', [{ op: 'replace', path: '/epoch/proof/0', value: `${target.epoch.proof[0]!}00` }]],
    ['leaf of 64 bytes', [{ op: 'replace', path: '/leaf', value: `${target.leaf}${target.leaf.slice(2)}` }]],
    ['unknown top-level member', [{ op: 'add', path: '/note', value: 'trust me' }]],
    ['unknown epoch member', [{ op: 'add', path: '/epoch/note', value: 1 }]],
    ['anchor missing', [{ op: 'remove', path: '/anchor' }]],
    ['anchor null', [{ op: 'replace', path: '/anchor', value: null }]],
    ['anchorer missing', [{ op: 'remove', path: '/anchor/anchorer' }]],
    ['input missing', [{ op: 'remove', path: '/decision/input' }]],
    ['runId with capitals', [{ op: 'replace', path: '/decision/runId', value: 'Live' }]],
    ['reason code lowercase', [{ op: 'replace', path: '/decision/reasons/0/code', value: 'f_charge' }]],
    ['contribution beyond ±2147.483647', [{ op: 'replace', path: '/decision/reasons/0/contribution', value: 2147.5 }]],
    ['epoch sequence with a leading zero', [{ op: 'replace', path: '/epoch/sequence', value: '012' }]],
    ['epoch batchCount zero', [{ op: 'replace', path: '/epoch/batchCount', value: 0 }]],
    ['score over 1', [{ op: 'replace', path: '/decision/score', value: 1.5 }]],
  ];
  for (const [what, patch] of malformed) add({ category: 'malformed', description: `bundle ${what}`, base, patch, expected: fail('FORMAT_INVALID') });

  return {
    format: VECTORS_V2_FORMAT,
    description:
      'claimtrail-proof-v2 verifier vectors: apply `patch` (RFC 6902 JSON Patch) to `bases[base].bundle`, verify it offline with `trustAnchor`, expect `expected`. ' +
      '`contract`: after anchoring every `chain.epochs` / `chain.flaggedRoots` entry from its anchorer, DecisionAnchorV2.verifyDecisionValues / verifyFlaggedValues with these arguments must return `expected`. ' +
      'Anchor fields are synthetic: these vectors test the proof and the trust pinning, not a chain.',
    generator: 'tests/vectors/generate-v2.ts (npm run gen:vectors)',
    trustAnchor: TRUST,
    chain,
    bases,
    vectors,
  };
}

/** The file's text: a readable header, then one base and one vector per line (diffs stay small). */
export function serializeVectorsV2(file: VectorFileV2): string {
  const { vectors, bases, ...head } = file;
  const header = JSON.stringify(head, null, 2).slice(0, -2);
  return `${header},\n  "bases": [\n${bases.map((b) => `    ${JSON.stringify(b)}`).join(',\n')}\n  ],\n  "vectors": [\n${vectors.map((v) => `    ${JSON.stringify(v)}`).join(',\n')}\n  ]\n}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = serializeVectorsV2(generateVectorsV2());
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(VECTORS_V2_FILE, 'utf8');
    } catch {
      // Missing file: reported below like a stale one.
    }
    if (current !== text) {
      process.stderr.write(`${VECTORS_V2_FILE} is stale: run npm run gen:vectors\n`);
      process.exitCode = 1;
    }
  } else {
    writeFileSync(VECTORS_V2_FILE, text);
    process.stdout.write(`wrote ${VECTORS_V2_FILE}\n`);
  }
}
