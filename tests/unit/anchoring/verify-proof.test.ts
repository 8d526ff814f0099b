import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { keccak256, toUtf8Bytes } from 'ethers';
import { describe, expect, it } from 'vitest';
import { batchId } from '../../../anchoring/core/batch.ts';
import { claimCommitment } from '../../../anchoring/core/commitment.ts';
import {
  BundleFormatError,
  InvalidArgumentError,
  LeafMismatchError,
  ProofMismatchError,
  VerificationError,
  type VerificationCode,
} from '../../../anchoring/core/errors.ts';
import {
  assertProofBundle,
  verifyAgainstChain,
  verifyClaimBytes,
  verifyProofBundle,
  type AnchorReader,
} from '../../../anchoring/core/verify-proof.ts';
import { pinnedTrust } from '../../../anchoring/core/trust.ts';
import { plain, SALT, SAMPLE_ANCHOR, sampleBatch, sampleBundle, type Mutable } from './fixtures.ts';

/** The caller's trust anchor: the contract the sample bundles were anchored on, on chain 31337. */
const TRUST = pinnedTrust({ contract: SAMPLE_ANCHOR.contract, chainId: 31337 });

/** Flips the lowest bit of the hex digit at `at` (default: the last one): a one-byte edit. */
function flipHex(hex: string, at = hex.length - 1): string {
  const digit = (Number.parseInt(hex[at]!, 16) ^ 1).toString(16);
  return hex.slice(0, at) + digit + hex.slice(at + 1);
}

describe('verifyProofBundle', () => {
  it('verifies a bundle made by makeProofBundle, for every leaf of the batch', () => {
    for (let i = 0; i < 37; i++) expect(verifyProofBundle(plain(sampleBundle(i)))).toEqual({ ok: true });
  });

  it('verifies from JSON text, and uppercase hex is the same value', () => {
    const b = plain(sampleBundle());
    b.leaf = '0x' + b.leaf.slice(2).toUpperCase();
    b.batch.root = '0x' + b.batch.root.slice(2).toUpperCase();
    expect(verifyProofBundle(JSON.stringify(b))).toEqual({ ok: true });
  });

  it('a third party verifies an exported bundle with ONLY @openzeppelin/merkle-tree (+ ethers for keccak), as docs/proof-bundle.md shows', () => {
    const json = JSON.stringify(sampleBundle(), null, 2); // what the exporter writes to disk

    // --- the snippet from docs/proof-bundle.md, verbatim apart from the variable names ---
    const b = JSON.parse(json);
    const d = b.decision;
    const h = (s: string) => keccak256(toUtf8Bytes(s));
    const reasonsHash = h(JSON.stringify(d.reasons.map(({ code, contribution, text }: { code: string; contribution: number; text: string }) => ({ code, contribution, text }))));
    const values = [
      d.decisionId, d.claimCommitment, Math.round(d.score * 1e6), ['approve', 'review', 'flag'].indexOf(d.outcome),
      d.modelHash, reasonsHash, String(Date.parse(d.decidedAt)), h(d.log.topic), d.log.partition, d.log.offset,
    ];
    const ok = StandardMerkleTree.verify(b.batch.root, b.leafTypes, values, b.proof);
    // --- end of snippet ---

    expect(ok).toBe(true);
    expect(StandardMerkleTree.of([values], b.leafTypes).leafHash(values)).toBe(b.leaf);
    const edited = [...values];
    edited[2] = (edited[2] as number) + 1;
    expect(StandardMerkleTree.verify(b.batch.root, b.leafTypes, edited, b.proof)).toBe(false);
  });

  // Mutation vectors: one edit to a good bundle each, and the code the verifier must answer.
  const mutations: Array<[string, (b: Mutable) => void, VerificationCode]> = [
    ['score edited in its last digit', (b) => void (b.decision.score = Number((b.decision.score + 0.000001).toFixed(6))), 'LEAF_MISMATCH'],
    ['score given more precision than the leaf binds', (b) => void (b.decision.score += 1e-9), 'LEAF_MISMATCH'],
    ['outcome changed', (b) => void (b.decision.outcome = b.decision.outcome === 'flag' ? 'approve' : 'flag'), 'LEAF_MISMATCH'],
    ['one hex digit of the leaf flipped', (b) => void (b.leaf = flipHex(b.leaf)), 'LEAF_MISMATCH'],
    ['first hex digit of the leaf flipped', (b) => void (b.leaf = flipHex(b.leaf, 2)), 'LEAF_MISMATCH'],
    ['decisionId edited', (b) => void (b.decision.decisionId = flipHex(b.decision.decisionId)), 'LEAF_MISMATCH'],
    ['claimCommitment edited', (b) => void (b.decision.claimCommitment = flipHex(b.decision.claimCommitment)), 'LEAF_MISMATCH'],
    ['modelHash edited', (b) => void (b.decision.modelHash = flipHex(b.decision.modelHash)), 'LEAF_MISMATCH'],
    ['a reason text edited', (b) => void (b.decision.reasons[0].text += '!'), 'LEAF_MISMATCH'],
    ['a reason contribution edited', (b) => void (b.decision.reasons[1].contribution = 0.99), 'LEAF_MISMATCH'],
    ['reasons reordered', (b) => void b.decision.reasons.reverse(), 'LEAF_MISMATCH'],
    ['decidedAt moved by 1 ms', (b) => void (b.decision.decidedAt = new Date(Date.parse(b.decision.decidedAt) + 1).toISOString()), 'LEAF_MISMATCH'],
    ['log offset edited (the leaf binds the position)', (b) => void (b.decision.log.offset = '524'), 'LEAF_MISMATCH'],
    ['one hex digit of a proof element flipped', (b) => void (b.proof[0] = flipHex(b.proof[0])), 'PROOF_INVALID'],
    ['last proof element flipped', (b) => void (b.proof[b.proof.length - 1] = flipHex(b.proof.at(-1))), 'PROOF_INVALID'],
    ['proof truncated', (b) => void b.proof.pop(), 'PROOF_INVALID'],
    ['proof extended', (b) => void b.proof.push(b.leaf), 'PROOF_INVALID'],
    ['proof elements swapped', (b) => void ([b.proof[0], b.proof[1]] = [b.proof[1], b.proof[0]]), 'PROOF_INVALID'],
    ['one hex digit of the root flipped', (b) => void (b.batch.root = flipHex(b.batch.root)), 'PROOF_INVALID'],
    ['batch id edited', (b) => void (b.batch.batchId = flipHex(b.batch.batchId)), 'BATCH_ID_MISMATCH'],
    ['batch range widened without a new id', (b) => void (b.batch.firstOffset = '498'), 'BATCH_ID_MISMATCH'],
    ['batch partition edited', (b) => void (b.batch.partition = 4), 'BATCH_ID_MISMATCH'],
    [
      'batch moved to a range that excludes the decision, id recomputed',
      (b) => {
        Object.assign(b.batch, { firstOffset: '600', lastOffset: '672' });
        b.batch.batchId = batchId(b.batch);
      },
      'POSITION_OUTSIDE_BATCH',
    ],
    [
      'batch moved to another topic, id recomputed',
      (b) => {
        b.batch.topic = 'decisions-replay';
        b.batch.batchId = batchId(b.batch);
      },
      'POSITION_OUTSIDE_BATCH',
    ],
    ['format version changed', (b) => void (b.format = 'claimtrail-proof-v0'), 'FORMAT_INVALID'],
    ['a field removed', (b) => void delete b.leaf, 'FORMAT_INVALID'],
    ['leafTypes edited', (b) => void (b.leafTypes[6] = 'uint256'), 'FORMAT_INVALID'],
    ['a leaf hex digit made non-hex', (b) => void (b.leaf = b.leaf.slice(0, -1) + 'g'), 'FORMAT_INVALID'],
  ];

  it.each(mutations)('%s -> %s', (_what, mutate, code) => {
    const b = plain(sampleBundle());
    mutate(b);
    const result = verifyProofBundle(b);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.code).toBe(code);
  });

  it('PROOF_INVALID carries the expected and the computed root', () => {
    const b = plain(sampleBundle());
    const stated = flipHex(b.batch.root);
    b.batch.root = stated;
    const result = verifyProofBundle(b);
    expect(result).toMatchObject({ ok: false, code: 'PROOF_INVALID', expected: stated, computed: sampleBundle().batch.root });
  });

  it('LEAF_MISMATCH carries the stated and the recomputed leaf', () => {
    const b = plain(sampleBundle());
    const good = b.leaf;
    b.leaf = flipHex(good);
    expect(verifyProofBundle(b)).toMatchObject({ ok: false, code: 'LEAF_MISMATCH', expected: b.leaf, computed: good });
  });

  it('claimId is not bound by the leaf: editing it alone still verifies (the commitment binds the claim)', () => {
    const b = plain(sampleBundle());
    b.decision.claimId = 'CLM-SOMEONE-ELSE';
    expect(verifyProofBundle(b)).toEqual({ ok: true });
  });
});

describe('assertProofBundle', () => {
  const thrown = (b: unknown) => {
    try {
      assertProofBundle(b);
    } catch (error) {
      return error;
    }
    return undefined;
  };

  it('returns the verified bundle', () => {
    expect(assertProofBundle(plain(sampleBundle())).batch.leafCount).toBe(37);
  });

  it('throws typed errors with codes', () => {
    const leaf = plain(sampleBundle());
    leaf.leaf = flipHex(leaf.leaf);
    expect(thrown(leaf)).toBeInstanceOf(LeafMismatchError);

    const root = plain(sampleBundle());
    root.batch.root = flipHex(root.batch.root);
    const e = thrown(root) as ProofMismatchError;
    expect(e).toBeInstanceOf(ProofMismatchError);
    expect(e.code).toBe('PROOF_INVALID');
    expect(e.expectedRoot).toBe(root.batch.root);
    expect(e.computedRoot).toBe(sampleBundle().batch.root);

    const id = plain(sampleBundle());
    id.batch.batchId = flipHex(id.batch.batchId);
    expect(thrown(id)).toBeInstanceOf(VerificationError);
    expect((thrown(id) as VerificationError).code).toBe('BATCH_ID_MISMATCH');

    expect(thrown({})).toBeInstanceOf(BundleFormatError);
  });
});

/** An in-memory chain: one contract that recorded the sample batch in block 120. */
function fakeChain(overrides: Partial<AnchorReader> = {}) {
  const bundle = sampleBundle();
  const calls: string[] = [];
  const reader: AnchorReader = {
    async chainId() {
      calls.push('chainId');
      return 31337n;
    },
    async batchOf(id) {
      calls.push('batchOf');
      return id === bundle.batch.batchId ? { root: bundle.batch.root, leafCount: bundle.batch.leafCount, anchoredBlock: 120n } : null;
    },
    async blockNumber() {
      calls.push('blockNumber');
      return 131n;
    },
    async blockHash(n) {
      calls.push('blockHash');
      return n === 120n ? SAMPLE_ANCHOR.blockHash : keccak256(toUtf8Bytes(`block ${n}`));
    },
    ...overrides,
  };
  return { bundle, reader, calls };
}

describe('verifyAgainstChain', () => {
  it('verifies a bundle whose root the contract recorded, counting confirmations', async () => {
    const { bundle, reader } = fakeChain();
    expect(await verifyAgainstChain(plain(bundle), () => reader, { minConfirmations: 12, trust: TRUST })).toEqual({ ok: true, confirmations: 12n, chainId: 31337n, contract: SAMPLE_ANCHOR.contract });
  });

  it('checks the bundle itself first and does not touch the chain when it fails', async () => {
    const { bundle, reader, calls } = fakeChain();
    const b = plain(bundle);
    b.proof[0] = flipHex(b.proof[0]);
    expect(await verifyAgainstChain(b, () => reader, { minConfirmations: 1, trust: TRUST })).toMatchObject({ ok: false, code: 'PROOF_INVALID' });
    expect(calls).toEqual([]);
  });

  const cases: Array<[string, Partial<AnchorReader> | ((b: Mutable) => void), VerificationCode, number?]> = [
    ['a bundle exported before anchoring', (b) => void (b.anchor = null), 'NOT_ANCHORED'],
    ['a reader on another chain', { chainId: async () => 1n }, 'CHAIN_ID_MISMATCH'],
    ['a contract without the batch', { batchOf: async () => null }, 'ROOT_NOT_ON_CHAIN'],
    ['a contract with another root', { batchOf: async () => ({ root: keccak256('0x01'), leafCount: 37, anchoredBlock: 120n }) }, 'ROOT_DIFFERS_ON_CHAIN'],
    ['a contract with another leaf count', { batchOf: async (id) => ({ root: sampleBundle().batch.root, leafCount: 36, anchoredBlock: id ? 120n : 0n }) }, 'ROOT_DIFFERS_ON_CHAIN'],
    ['a contract that recorded it in another block', { batchOf: async () => ({ root: sampleBundle().batch.root, leafCount: 37, anchoredBlock: 121n }) }, 'BLOCK_HASH_MISMATCH'],
    ['a reorg: block 120 is another block now', { blockHash: async () => keccak256('0x02') }, 'BLOCK_HASH_MISMATCH'],
    ['a block the node does not have', { blockHash: async () => null }, 'BLOCK_HASH_MISMATCH'],
    ['a bundle block hash edited', (b) => void (b.anchor.blockHash = flipHex(b.anchor.blockHash)), 'BLOCK_HASH_MISMATCH'],
    ['too few confirmations', {}, 'NOT_CONFIRMED', 13],
    ['a head behind the anchor block', { blockNumber: async () => 100n }, 'NOT_CONFIRMED'],
  ];

  it.each(cases)('%s -> %s', async (_what, change, code, minConfirmations = 1) => {
    const { bundle, reader } = fakeChain(typeof change === 'function' ? {} : change);
    const b = plain(bundle);
    if (typeof change === 'function') change(b);
    const result = await verifyAgainstChain(b, () => reader, { minConfirmations, trust: TRUST });
    expect(result).toMatchObject({ ok: false, code });
  });

  it('NOT_CONFIRMED says how many there are and how many are needed', async () => {
    const { bundle, reader } = fakeChain();
    expect(await verifyAgainstChain(bundle, () => reader, { minConfirmations: 13, trust: TRUST })).toMatchObject({ expected: '13', computed: '12' });
  });

  it('asks the TRUSTED contract, never the one the bundle names, and reports it', async () => {
    const { bundle, reader } = fakeChain();
    const asked: string[] = [];
    const b = plain(bundle);
    b.anchor.contract = SAMPLE_ANCHOR.contract.toLowerCase();
    const result = await verifyAgainstChain(b, (contract) => (asked.push(contract), reader), { minConfirmations: 1, trust: TRUST });
    expect(result).toMatchObject({ ok: true, chainId: 31337n, contract: SAMPLE_ANCHOR.contract });
    expect(asked).toEqual([SAMPLE_ANCHOR.contract]);
  });

  it('CONTRACT_NOT_TRUSTED: a bundle naming another contract or chain never reaches the chain', async () => {
    const { bundle, reader, calls } = fakeChain();
    const asked: string[] = [];
    const connect = (contract: string) => (asked.push(contract), reader);
    const foreign = plain(bundle);
    foreign.anchor.contract = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
    expect(await verifyAgainstChain(foreign, connect, { minConfirmations: 1, trust: TRUST })).toMatchObject({
      ok: false,
      code: 'CONTRACT_NOT_TRUSTED',
      computed: `31337:${foreign.anchor.contract.toLowerCase()}`,
      expected: `31337:${SAMPLE_ANCHOR.contract.toLowerCase()}`,
    });
    const otherChain = plain(bundle);
    otherChain.anchor.chainId = 1;
    expect(await verifyAgainstChain(otherChain, connect, { minConfirmations: 1, trust: TRUST })).toMatchObject({ ok: false, code: 'CONTRACT_NOT_TRUSTED' });
    expect(asked).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('UNPINNED without a trust anchor: the bundle is checked, the chain is not asked, and it never passes', async () => {
    const { bundle, reader, calls } = fakeChain();
    expect(await verifyAgainstChain(plain(bundle), () => reader, { minConfirmations: 1, trust: null })).toMatchObject({ ok: false, code: 'UNPINNED' });
    expect(calls).toEqual([]);
    const b = plain(bundle);
    b.proof[0] = flipHex(b.proof[0]);
    expect(await verifyAgainstChain(b, () => reader, { minConfirmations: 1, trust: null })).toMatchObject({ ok: false, code: 'PROOF_INVALID' });
  });

  it('refuses a bad minConfirmations and lets reader errors through', async () => {
    const { bundle, reader } = fakeChain({
      batchOf: async () => {
        throw new Error('ECONNREFUSED');
      },
    });
    await expect(verifyAgainstChain(bundle, () => reader, { minConfirmations: 0, trust: TRUST })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(verifyAgainstChain(bundle, () => reader, { minConfirmations: 1.5, trust: TRUST })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(verifyAgainstChain(bundle, () => reader, { minConfirmations: 1, trust: TRUST })).rejects.toThrow('ECONNREFUSED');
  });
});

describe('verifyClaimBytes', () => {
  const claimOf = (offset: bigint) => toUtf8Bytes(`claim-${offset}`); // what fixtures committed to

  it('accepts the claim bytes the decision committed to', () => {
    const { decisions } = sampleBatch();
    expect(claimCommitment(claimOf(522n), SALT)).toBe(decisions[11]!.claimCommitment);
    expect(verifyClaimBytes(plain(sampleBundle()), claimOf(522n))).toEqual({ ok: true });
  });

  it('rejects other bytes, and a bundle without salt', () => {
    expect(verifyClaimBytes(plain(sampleBundle()), claimOf(524n))).toMatchObject({ ok: false, code: 'COMMITMENT_MISMATCH' });
    const b = plain(sampleBundle());
    delete b.salt;
    expect(verifyClaimBytes(b, claimOf(522n))).toMatchObject({ ok: false, code: 'SALT_MISSING' });
    expect(verifyClaimBytes({}, claimOf(522n))).toMatchObject({ ok: false, code: 'FORMAT_INVALID' });
  });
});
