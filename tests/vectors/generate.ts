/**
 * Generates tests/vectors/verifier-vectors.json: proof-bundle test vectors for every verifier of
 * claimtrail (the TypeScript verifier, the contract's `verifyDecision`, `claimtrail verify`), in
 * the manner of transparency-dev/merkle's testdata: happy-path bundles, then negatives made from
 * them by mutation, each with a description and the expected result.
 *
 *   node tests/vectors/generate.ts            writes the file (npm run gen:vectors)
 *   node tests/vectors/generate.ts --check    exits 1 when the file is not what this script makes
 *
 * Everything here is deterministic (fixed decisions, no randomness, no clock), so the file is
 * reproducible byte for byte; tests/unit/anchoring/verifier-vectors.test.ts checks it is current.
 *
 * File layout (`format: claimtrail-verifier-vectors-v1`):
 * - `bases`: valid `claimtrail-proof-v1` bundles (anchor fields are synthetic: these vectors test
 *   the proof, not a real chain).
 * - `vectors[]`: `{ id, category, description, base, patch, expected, contract? }`. Apply `patch`
 *   (RFC 6902 JSON Patch, ops replace/add/remove) to `bases[base]`, run the pure verifier and
 *   expect `expected` (`{ ok: true }` or `{ ok: false, code }`, a VerificationCode).
 * - `contract` (vectors that concern the proof): the inputs of `DecisionAnchor.verifyDecision
 *   (batchId, leaf, proof)` and its expected boolean, after every `contractBatches` entry has been
 *   anchored with `anchorBatches`.
 * - `trust`: the verifier's trust anchor, a `claimtrail-trust-v1` document listing the contract the
 *   bases name. A bundle that passes the pure checks must also pass `checkTrust(anchor, trust)`;
 *   the `foreign-contract` vectors fail there (CONTRACT_NOT_TRUSTED). They carry no `contract`
 *   call: on chain the defence is which address the verifier asks, not what a contract answers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { concat, getAddress, id, keccak256, toUtf8Bytes } from 'ethers';
import { batchId as computeBatchId, type BatchRange } from '../../anchoring/core/batch.ts';
import { claimCommitment } from '../../anchoring/core/commitment.ts';
import type { VerificationCode } from '../../anchoring/core/errors.ts';
import { decisionLeaf, leafHash, leafValues, type DecisionLeafInput } from '../../anchoring/core/leaf.ts';
import { getProof, leafTreeIndex, makeTree } from '../../anchoring/core/merkle-core.ts';
import { makeProofBundle, type ProofBundle } from '../../anchoring/core/proof-bundle.ts';
import { applyPatch, type PatchOp } from './patch.ts';

export const VECTORS_FORMAT = 'claimtrail-verifier-vectors-v1';
export const VECTORS_FILE = fileURLToPath(new URL('./verifier-vectors.json', import.meta.url));

export type Expected = { ok: true } | { ok: false; code: VerificationCode };

export interface ContractCall {
  batchId: string;
  leaf: string;
  proof: string[];
  /** What `verifyDecision(batchId, leaf, proof)` must return. */
  expected: boolean;
}

export interface Vector {
  id: string;
  category: string;
  description: string;
  base: number;
  patch: PatchOp[];
  expected: Expected;
  contract?: ContractCall;
}

/** A `claimtrail-trust-v1` document as JSON (docs/proof-format-v2.md, "Trust anchor"). */
export interface TrustFileJson {
  format: 'claimtrail-trust-v1';
  issuer: string;
  deployments: Array<{ chainId: number; contract: string; version: 'v1' | 'v2'; deploymentBlock: number }>;
}

export interface VectorFile {
  format: typeof VECTORS_FORMAT;
  description: string;
  generator: string;
  /** The trust file the verifier is given (the contract the bases were anchored on). */
  trust: TrustFileJson;
  bases: Array<{ name: string; bundle: ProofBundle }>;
  contractBatches: Array<{ batchId: string; root: string; leafCount: number; note: string }>;
  vectors: Vector[];
}

const TOPIC = 'decisions';
const PARTITION = 0;
const SALT = '0x' + '5a'.repeat(32);
const ANCHOR = Object.freeze({
  chainId: 31337,
  contract: '0x5fbdb2315678afecb367f032d93f642f64180aa3',
  txHash: id('claimtrail vectors: anchoring tx'),
  blockNumber: 120,
  blockHash: id('claimtrail vectors: block 120'),
  confirmationsAtExport: 3,
});
/** What a forger's freshly deployed DecisionAnchor would be: anvil's second contract address. */
const FOREIGN_CONTRACT = '0xe7f1725e7734ce288f8367e1bb143e90bb3f0512';
const TRUST: TrustFileJson = Object.freeze({
  format: 'claimtrail-trust-v1',
  issuer: 'claimtrail test vectors',
  deployments: [{ chainId: ANCHOR.chainId, contract: ANCHOR.contract, version: 'v1', deploymentBlock: 1 }],
}) as TrustFileJson;

function decisionAt(offset: number): DecisionLeafInput & { claimId: string } {
  return {
    decisionId: id(`vector decision ${offset}`),
    claimId: `CLM-V${offset}`,
    claimCommitment: claimCommitment(toUtf8Bytes(`vector claim ${offset}`), SALT),
    score: (offset % 997) / 1000,
    outcome: (['approve', 'review', 'flag'] as const)[offset % 3]!,
    modelHash: id('vector model v1'),
    reasons: [{ code: 'F_CHARGE_PER_UNIT', contribution: 0.25, text: 'charge per unit 3.1x peer median' }],
    decidedAt: new Date(1_717_000_000_000 + offset * 1000).toISOString(),
    log: { topic: TOPIC, partition: PARTITION, offset: String(offset) },
  };
}

interface Batch {
  range: BatchRange;
  batchId: string;
  decisions: Array<DecisionLeafInput & { claimId: string }>;
  leaves: string[];
  tree: string[];
  root: string;
  bundles: ProofBundle[];
}

/** A batch of `count` decisions at first, first+step, ... with a bundle per leaf. */
function makeBatch(first: number, count: number, step: number): Batch {
  const decisions = Array.from({ length: count }, (_, i) => decisionAt(first + i * step));
  const range = { topic: TOPIC, partition: PARTITION, firstOffset: String(first), lastOffset: String(first + (count - 1) * step) };
  const leaves = decisions.map((d) => decisionLeaf(d));
  const tree = makeTree(leaves);
  const root = tree[0]!;
  const bundles = decisions.map((decision, i) =>
    makeProofBundle({
      decision,
      salt: SALT,
      proof: getProof(tree, leafTreeIndex(count, i)),
      batch: { ...range, leafCount: count, root },
      anchor: { ...ANCHOR },
    }),
  );
  return { range, batchId: computeBatchId(range), decisions, leaves, tree, root, bundles };
}

/** `hex` with bit `bit` flipped; bit 0 is the most significant bit of the first byte. */
export function flipBit(hex: string, bit: number): string {
  const bytes = Buffer.from(hex.slice(2), 'hex');
  bytes[bit >> 3] = bytes[bit >> 3]! ^ (0x80 >> (bit & 7));
  return `0x${bytes.toString('hex')}`;
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

const fail = (code: VerificationCode): Expected => ({ ok: false, code });

/** Builds the whole vector file (pure; deterministic). */
export function generateVectors(): VectorFile {
  const main = makeBatch(1000, 8, 2); // 8 leaves, balanced; offsets 1000..1014 (gaps = tx markers)
  const other = makeBatch(2000, 8, 2); // the "other batch"
  const uneven = makeBatch(3000, 5, 1); // 5 leaves: proofs of length 2 and 3
  const single = makeBatch(4000, 1, 1); // 1 leaf: empty proof

  const bases: VectorFile['bases'] = [];
  const baseIndex = new Map<string, number>();
  const addBase = (name: string, bundle: ProofBundle): number => {
    baseIndex.set(name, bases.length);
    bases.push({ name, bundle });
    return bases.length - 1;
  };
  const groups: Array<[string, Batch]> = [['8-leaf batch', main], ['other 8-leaf batch', other], ['5-leaf batch', uneven], ['1-leaf batch', single]];
  for (const [name, batch] of groups) batch.bundles.forEach((b, i) => addBase(`${name}, leaf ${i}`, b));

  const contractBatches: VectorFile['contractBatches'] = groups.map(([name, b]) => ({ batchId: b.batchId, root: b.root, leafCount: b.leaves.length, note: name }));
  const vectors: Vector[] = [];
  const add = (v: Omit<Vector, 'id'> & { id?: string }): void => {
    vectors.push({ id: v.id ?? `${v.category}-${vectors.filter((x) => x.category === v.category).length}`, ...v } as Vector);
  };
  const call = (batchId: string, leaf: string, proof: readonly string[], expected: boolean): ContractCall => ({ batchId, leaf, proof: [...proof], expected });

  // 1. Happy paths: every leaf of every batch.
  for (const [name, batch] of groups) {
    batch.bundles.forEach((b, i) =>
      add({
        category: 'happy',
        description: `${name}: bundle of leaf ${i} as exported`,
        base: baseIndex.get(`${name}, leaf ${i}`)!,
        patch: [],
        expected: { ok: true },
        contract: call(batch.batchId, b.leaf, b.proof, true),
      }),
    );
  }

  // The mutation target: leaf 5 of the 8-leaf batch (proof of 3 elements).
  const T = 5;
  const target = main.bundles[T]!;
  const base = baseIndex.get(`8-leaf batch, leaf ${T}`)!;

  // 2. Every single-bit flip of the leaf, of each proof element, of the root, of the batch id.
  for (let bit = 0; bit < 256; bit++) {
    const leaf = flipBit(target.leaf, bit);
    add({
      id: `leaf-bitflip-${bit}`,
      category: 'leaf-bitflip',
      description: `leaf with bit ${bit} flipped (decision fields unchanged)`,
      base,
      patch: [{ op: 'replace', path: '/leaf', value: leaf }],
      expected: fail('LEAF_MISMATCH'),
      contract: call(main.batchId, leaf, target.proof, false),
    });
  }
  target.proof.forEach((element, k) => {
    for (let bit = 0; bit < 256; bit++) {
      const flipped = flipBit(element, bit);
      const proof = target.proof.map((p, j) => (j === k ? flipped : p));
      add({
        id: `proof-bitflip-${k}-${bit}`,
        category: 'proof-bitflip',
        description: `proof element ${k} with bit ${bit} flipped`,
        base,
        patch: [{ op: 'replace', path: `/proof/${k}`, value: flipped }],
        expected: fail('PROOF_INVALID'),
        contract: call(main.batchId, target.leaf, proof, false),
      });
    }
  });
  for (let bit = 0; bit < 256; bit++) {
    const root = flipBit(target.batch.root, bit);
    // On chain, a flipped root is a batch id holding that root: anchored under its own id.
    const rootFlipId = id(`claimtrail vectors: root flip ${bit}`);
    contractBatches.push({ batchId: rootFlipId, root, leafCount: 8, note: `8-leaf batch root with bit ${bit} flipped` });
    add({
      id: `root-bitflip-${bit}`,
      category: 'root-bitflip',
      description: `batch root with bit ${bit} flipped`,
      base,
      patch: [{ op: 'replace', path: '/batch/root', value: root }],
      expected: fail('PROOF_INVALID'),
      contract: call(rootFlipId, target.leaf, target.proof, false),
    });
  }
  for (let bit = 0; bit < 256; bit++) {
    const flippedId = flipBit(main.batchId, bit);
    add({
      id: `batchid-bitflip-${bit}`,
      category: 'batchid-bitflip',
      description: `batch id with bit ${bit} flipped (no batch on chain has it)`,
      base,
      patch: [{ op: 'replace', path: '/batch/batchId', value: flippedId }],
      expected: fail('BATCH_ID_MISMATCH'),
      contract: call(flippedId, target.leaf, target.proof, false),
    });
  }

  // 3. Wrong batch.
  add({
    category: 'wrong-batch-id',
    description: "batch id replaced by the other batch's id (range and root unchanged)",
    base,
    patch: [{ op: 'replace', path: '/batch/batchId', value: other.batchId }],
    expected: fail('BATCH_ID_MISMATCH'),
    contract: call(other.batchId, target.leaf, target.proof, false),
  });
  add({
    category: 'wrong-batch-id',
    description: "whole batch section (range, id, root) replaced by the other batch's, decision and proof unchanged",
    base,
    patch: [{ op: 'replace', path: '/batch', value: other.bundles[T]!.batch }],
    expected: fail('PROOF_INVALID'),
    contract: call(other.batchId, target.leaf, target.proof, false),
  });
  add({
    category: 'wrong-batch-id',
    description: 'batch range shifted by one offset (root and batch id unchanged)',
    base,
    patch: [{ op: 'replace', path: '/batch/lastOffset', value: String(Number(main.range.lastOffset) + 1) }],
    expected: fail('BATCH_ID_MISMATCH'),
  });

  // 4. Truncated, extended and reordered proofs.
  const structural = (name: string, batch: Batch, baseOf: (i: number) => number): void => {
    batch.bundles.forEach((b, i) => {
      const p = b.proof;
      const at = `${name}, leaf ${i}`;
      if (p.length > 0) {
        for (let keep = 0; keep < p.length; keep++) {
          add({
            category: 'proof-truncated',
            description: `${at}: proof truncated to its first ${keep} of ${p.length} elements`,
            base: baseOf(i),
            patch: [{ op: 'replace', path: '/proof', value: p.slice(0, keep) }],
            expected: fail('PROOF_INVALID'),
            contract: call(batch.batchId, b.leaf, p.slice(0, keep), false),
          });
        }
        add({
          category: 'proof-truncated',
          description: `${at}: first proof element removed`,
          base: baseOf(i),
          patch: [{ op: 'remove', path: '/proof/0' }],
          expected: fail('PROOF_INVALID'),
          contract: call(batch.batchId, b.leaf, p.slice(1), false),
        });
      }
      const extensions: Array<[string, string]> = [
        ['the zero hash', '0x' + '00'.repeat(32)],
        ['the root itself', batch.root],
        ['a copy of the leaf', b.leaf],
      ];
      if (p.length > 0) extensions.push(['a copy of its last element', p.at(-1)!]);
      for (const [what, extra] of extensions) {
        add({
          category: 'proof-extended',
          description: `${at}: proof extended with ${what}`,
          base: baseOf(i),
          patch: [{ op: 'add', path: '/proof/-', value: extra }],
          expected: fail('PROOF_INVALID'),
          contract: call(batch.batchId, b.leaf, [...p, extra], false),
        });
      }
      add({
        category: 'proof-extended',
        description: `${at}: zero hash inserted before the first proof element`,
        base: baseOf(i),
        patch: [{ op: 'add', path: '/proof/0', value: '0x' + '00'.repeat(32) }],
        expected: fail('PROOF_INVALID'),
        contract: call(batch.batchId, b.leaf, ['0x' + '00'.repeat(32), ...p], false),
      });
      for (const order of permutations(p.map((_, k) => k))) {
        if (order.every((k, j) => k === j)) continue;
        const proof = order.map((k) => p[k]!);
        add({
          category: 'proof-reordered',
          description: `${at}: proof elements in order [${order.join(', ')}]`,
          base: baseOf(i),
          patch: [{ op: 'replace', path: '/proof', value: proof }],
          expected: fail('PROOF_INVALID'),
          contract: call(batch.batchId, b.leaf, proof, false),
        });
      }
      const neighbour = batch.bundles[(i + 1) % batch.bundles.length]!;
      if (neighbour !== b) {
        add({
          category: 'proof-of-other-leaf',
          description: `${at}: proof of leaf ${(i + 1) % batch.bundles.length} of the same batch`,
          base: baseOf(i),
          patch: [{ op: 'replace', path: '/proof', value: neighbour.proof }],
          expected: fail('PROOF_INVALID'),
          contract: call(batch.batchId, b.leaf, neighbour.proof, false),
        });
      }
    });
  };
  structural('8-leaf batch', main, (i) => baseIndex.get(`8-leaf batch, leaf ${i}`)!);
  structural('5-leaf batch', uneven, (i) => baseIndex.get(`5-leaf batch, leaf ${i}`)!);
  structural('1-leaf batch', single, (i) => baseIndex.get(`1-leaf batch, leaf ${i}`)!);
  add({
    category: 'proof-extended',
    description: '8-leaf batch, leaf 5: proof padded to 65 elements (over the 64-element limit)',
    base,
    patch: [{ op: 'replace', path: '/proof', value: [...target.proof, ...Array.from({ length: 62 }, (_, k) => id(`pad ${k}`))] }],
    expected: fail('FORMAT_INVALID'),
    contract: call(main.batchId, target.leaf, [...target.proof, ...Array.from({ length: 62 }, (_, k) => id(`pad ${k}`))], false),
  });

  // 5. Second preimage: an internal node (keccak256 of 64 bytes: two sorted children) presented
  // as a leaf with the rest of the path as proof. A verifier recomputes the leaf from the presented
  // value, and leaves are double-hashed, so the 64 bytes hash to keccak256(keccak256(64 bytes)),
  // which is not the node. (verifyDecision fed the raw node returns true: see its WARNING; the
  // Hardhat vector test shows that too.)
  for (let level = 1; level < target.proof.length; level++) {
    let node = leafTreeIndex(8, T);
    for (let l = 0; l < level; l++) node = Math.floor((node - 1) / 2);
    const [a, b] = [main.tree[2 * node + 1]!, main.tree[2 * node + 2]!].sort();
    const sixtyFour = concat([a!, b!]);
    add({
      category: 'second-preimage',
      description: `internal node at height ${level} above leaf ${T} presented as the leaf, with the remaining ${target.proof.length - level} proof element(s)`,
      base,
      patch: [
        { op: 'replace', path: '/leaf', value: main.tree[node]! },
        { op: 'replace', path: '/proof', value: target.proof.slice(level) },
      ],
      expected: fail('LEAF_MISMATCH'),
      // What a verifier computes as the leaf of the 64-byte value: the double hash.
      contract: call(main.batchId, keccak256(keccak256(sixtyFour)), target.proof.slice(level), false),
    });
  }

  // 6. A leaf from another batch.
  const foreign = other.bundles[T]!;
  add({
    category: 'leaf-from-other-batch',
    description: "decision, leaf and proof of the other batch's leaf 5 under this batch",
    base,
    patch: [
      { op: 'replace', path: '/decision', value: foreign.decision },
      { op: 'replace', path: '/leaf', value: foreign.leaf },
      { op: 'replace', path: '/proof', value: foreign.proof },
    ],
    expected: fail('PROOF_INVALID'),
    contract: call(main.batchId, foreign.leaf, foreign.proof, false),
  });
  add({
    category: 'leaf-from-other-batch',
    description: "decision and leaf of the other batch's leaf 5 with this leaf's proof",
    base,
    patch: [
      { op: 'replace', path: '/decision', value: foreign.decision },
      { op: 'replace', path: '/leaf', value: foreign.leaf },
    ],
    expected: fail('PROOF_INVALID'),
    contract: call(main.batchId, foreign.leaf, target.proof, false),
  });
  add({
    category: 'leaf-from-other-batch',
    description: 'leaf of the 1-leaf batch (empty proof) presented in the 8-leaf batch',
    base,
    patch: [
      { op: 'replace', path: '/decision', value: single.bundles[0]!.decision },
      { op: 'replace', path: '/leaf', value: single.bundles[0]!.leaf },
      { op: 'replace', path: '/proof', value: [] },
    ],
    expected: fail('PROOF_INVALID'),
    contract: call(main.batchId, single.bundles[0]!.leaf, [], false),
  });

  // 7. Altered decision fields: with the stated leaf kept (LEAF_MISMATCH) and with the leaf
  // recomputed by a forger (PROOF_INVALID: the root does not contain it).
  const d = target.decision;
  const edits: Array<[string, string, unknown]> = [
    ['decisionId', '/decision/decisionId', flipBit(d.decisionId, 255)],
    ['claimCommitment', '/decision/claimCommitment', flipBit(d.claimCommitment, 0)],
    ['score (+1e-6)', '/decision/score', Math.round(d.score * 1e6 + 1) / 1e6],
    ['outcome', '/decision/outcome', d.outcome === 'approve' ? 'flag' : 'approve'],
    ['modelHash', '/decision/modelHash', id('vector model v2')],
    ['reason text', '/decision/reasons/0/text', `${d.reasons[0]!.text}.`],
    ['reason contribution', '/decision/reasons/0/contribution', d.reasons[0]!.contribution + 0.01],
    ['reasons (one removed)', '/decision/reasons', []],
    ['decidedAt (+1 ms)', '/decision/decidedAt', new Date(Date.parse(d.decidedAt) + 1).toISOString()],
    ['log offset (next offset, inside the batch)', '/decision/log/offset', String(Number(d.log.offset) + 1)],
    ['log partition', '/decision/log/partition', d.log.partition + 1],
  ];
  for (const [what, path, value] of edits) {
    const patch: PatchOp[] = [{ op: 'replace', path, value }];
    add({
      category: 'decision-altered',
      description: `decision ${what} altered, stated leaf kept`,
      base,
      patch,
      expected: fail('LEAF_MISMATCH'),
    });
    const forged = applyPatch(target, patch);
    const forgedLeaf = decisionLeaf(forged.decision);
    add({
      category: 'decision-altered',
      description: `decision ${what} altered, leaf recomputed to match`,
      base,
      patch: [...patch, { op: 'replace', path: '/leaf', value: forgedLeaf }],
      expected: fail('PROOF_INVALID'),
      contract: call(main.batchId, forgedLeaf, target.proof, false),
    });
  }

  // 8. Position outside the batch: a forged tree whose leaf 5 sits at an offset past the range.
  // Leaf, proof and root agree and the batch id matches the range, so only the position check
  // catches it.
  const outside = { ...target.decision, log: { ...target.decision.log, offset: '9999' } };
  const forgedLeaves = main.leaves.map((l, i) => (i === T ? leafHash(leafValues(outside)) : l));
  const forgedTree = makeTree(forgedLeaves);
  const forgedProof = getProof(forgedTree, leafTreeIndex(8, T));
  add({
    category: 'position-outside-batch',
    description: 'forged root over a decision at offset 9999, outside the batch range 1000..1014',
    base,
    patch: [
      { op: 'replace', path: '/decision/log/offset', value: '9999' },
      { op: 'replace', path: '/leaf', value: forgedLeaves[T]! },
      { op: 'replace', path: '/proof', value: forgedProof },
      { op: 'replace', path: '/batch/root', value: forgedTree[0]! },
    ],
    expected: fail('POSITION_OUTSIDE_BATCH'),
    contract: call(main.batchId, forgedLeaves[T]!, forgedProof, false),
  });

  // 9. A foreign contract: the bundle is internally consistent, but its anchor names a contract
  // (or chain) the verifier's trust anchor does not list. Only the trust check catches these; a
  // verifier that asked the bundle's contract would be answered by whoever deployed it.
  const foreign160 = (bit: number) => `0x${flipBit(`0x${ANCHOR.contract.slice(2)}${'00'.repeat(12)}`, bit).slice(2, 42)}`;
  for (let bit = 0; bit < 160; bit++) {
    add({
      id: `foreign-contract-bitflip-${bit}`,
      category: 'foreign-contract',
      description: `anchor contract with bit ${bit} flipped`,
      base,
      patch: [{ op: 'replace', path: '/anchor/contract', value: foreign160(bit) }],
      expected: fail('CONTRACT_NOT_TRUSTED'),
    });
  }
  const foreignAnchors: Array<[string, PatchOp[]]> = [
    ['anchor contract replaced by a freshly deployed one', [{ op: 'replace', path: '/anchor/contract', value: FOREIGN_CONTRACT }]],
    ['anchor contract replaced by the zero address', [{ op: 'replace', path: '/anchor/contract', value: `0x${'00'.repeat(20)}` }]],
    ['the trusted contract address on another chain (chain id 1)', [{ op: 'replace', path: '/anchor/chainId', value: 1 }]],
  ];
  for (const [what, patch] of foreignAnchors) add({ category: 'foreign-contract', description: what, base, patch, expected: fail('CONTRACT_NOT_TRUSTED') });
  // The forgery of the trust hole: outcome flipped, leaf recomputed, a one-leaf root (empty proof)
  // anchored under the real batch id on the forger's own contract. Every pure check passes.
  const flippedOutcome = applyPatch(target, [{ op: 'replace', path: '/decision/outcome', value: target.decision.outcome === 'approve' ? 'flag' : 'approve' }]);
  const oneLeafRoot = decisionLeaf(flippedOutcome.decision);
  add({
    category: 'foreign-contract',
    description: "outcome flipped, leaf recomputed, one-leaf root under the real batch id, anchored on the forger's contract",
    base,
    patch: [
      { op: 'replace', path: '/decision/outcome', value: flippedOutcome.decision.outcome },
      { op: 'replace', path: '/leaf', value: oneLeafRoot },
      { op: 'replace', path: '/proof', value: [] },
      { op: 'replace', path: '/batch/root', value: oneLeafRoot },
      { op: 'replace', path: '/anchor/contract', value: FOREIGN_CONTRACT },
    ],
    expected: fail('CONTRACT_NOT_TRUSTED'),
  });
  // The trusted contract written in another case is the same contract.
  for (const [what, value] of [['upper-case hex', `0x${ANCHOR.contract.slice(2).toUpperCase()}`], ['EIP-55 checksum case', getAddress(ANCHOR.contract)]] as const) {
    add({ category: 'trusted-contract-case', description: `anchor contract in ${what}: trusted`, base, patch: [{ op: 'replace', path: '/anchor/contract', value }], expected: { ok: true } });
  }

  // 10. Malformed bundles.
  const malformed: Array<[string, PatchOp[]]> = [
    ['format name changed', [{ op: 'replace', path: '/format', value: 'claimtrail-proof-v2' }]],
    ['leaf encoding changed', [{ op: 'replace', path: '/leafEncoding', value: 'claimtrail-leaf-v0' }]],
    ['leaf types reordered', [{ op: 'replace', path: '/leafTypes', value: [...target.leafTypes].reverse() }]],
    ['proof element of 31 bytes', [{ op: 'replace', path: '/proof/0', value: target.proof[0]!.slice(0, -2) }]],
    ['proof element of 33 bytes', [{ op: 'replace', path: '/proof/0', value: `${target.proof[0]!}00` }]],
    ['leaf of 64 bytes', [{ op: 'replace', path: '/leaf', value: `${target.leaf}${target.leaf.slice(2)}` }]],
    ['proof element not hex', [{ op: 'replace', path: '/proof/0', value: `0x${'zz'.repeat(32)}` }]],
    ['unknown top-level member', [{ op: 'add', path: '/note', value: 'trust me' }]],
    ['batch member missing', [{ op: 'remove', path: '/batch/root' }]],
    ['score over 1', [{ op: 'replace', path: '/decision/score', value: 1.5 }]],
  ];
  for (const [what, patch] of malformed) {
    add({ category: 'malformed', description: `bundle ${what}`, base, patch, expected: fail('FORMAT_INVALID') });
  }

  return {
    format: VECTORS_FORMAT,
    description:
      'Proof-bundle verifier vectors: apply `patch` (RFC 6902 JSON Patch) to `bases[base].bundle`, verify it offline, expect `expected`. ' +
      '`contract` vectors: anchor every `contractBatches` entry, then DecisionAnchor.verifyDecision(batchId, leaf, proof) must return `expected`. ' +
      'Bases carry a synthetic anchor: these vectors test the proof, not a chain. A bundle that passes the pure checks must also pass ' +
      'the trust check against `trust` (the contract and chain the verifier trusts); `foreign-contract` vectors fail it with CONTRACT_NOT_TRUSTED.',
    generator: 'tests/vectors/generate.ts (npm run gen:vectors)',
    trust: TRUST,
    bases,
    contractBatches,
    vectors,
  };
}

/** The file's text: a readable header, then one vector per line (diffs stay small). */
export function serializeVectors(file: VectorFile): string {
  const { vectors, ...head } = file;
  const header = JSON.stringify(head, null, 2).slice(0, -2);
  return `${header},\n  "vectors": [\n${vectors.map((v) => `    ${JSON.stringify(v)}`).join(',\n')}\n  ]\n}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = serializeVectors(generateVectors());
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(VECTORS_FILE, 'utf8');
    } catch {
      // Missing file: reported below like a stale one.
    }
    if (current !== text) {
      process.stderr.write(`${VECTORS_FILE} is stale: run npm run gen:vectors\n`);
      process.exitCode = 1;
    }
  } else {
    writeFileSync(VECTORS_FILE, text);
    process.stdout.write(`wrote ${VECTORS_FILE}\n`);
  }
}
