import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { keccak256, toUtf8Bytes } from 'ethers';
import { describe, expect, it } from 'vitest';
import { BundleFormatError, InvalidArgumentError, VerificationError, type VerificationCode } from '../../../anchoring/core/errors.ts';
import { epochId } from '../../../anchoring/core/ids-v2.ts';
import { LEAF_TYPES_V2, leafValuesV2 } from '../../../anchoring/core/leaf-v2.ts';
import { ENTRY_TYPES, entryValues } from '../../../anchoring/core/epoch.ts';
import { verifyAnyProofBundle } from '../../../anchoring/core/verify-any.ts';
import { verifyClaimBytes } from '../../../anchoring/core/verify-proof.ts';
import {
  assertProofBundleV2,
  verifyAgainstChainV2,
  verifyProofBundleV2,
  type AnchorReaderV2,
} from '../../../anchoring/core/verify-proof-v2.ts';
import { sampleBundle } from './fixtures.ts';
import { ANCHORER, CLAIM_BYTES, CONTRACT, FLAGGED_TX, OTHER_INSTANCE, plainV2, SAMPLE_ANCHOR_V2, sampleBundleV2, TRUST, type MutableV2 } from './fixtures-v2.ts';

const h = (s: string) => keccak256(toUtf8Bytes(s));
const codeOf = (input: unknown, trust = false) => {
  const r = verifyProofBundleV2(input, trust ? { trust: TRUST } : {});
  return r.ok ? 'ok' : r.code;
};

describe('verifyProofBundleV2 (pure)', () => {
  it('accepts every bundle of the sample epoch, flagged ones included', () => {
    for (const [b, n] of [[0, 5], [1, 8], [2, 3]] as const) {
      for (let i = 0; i < n; i++) expect(codeOf(sampleBundleV2(b, i), true), `${b}/${i}`).toBe('ok');
    }
    expect(sampleBundleV2(1, 0).flagged).toBeDefined();
  });

  const mutations: Array<[string, (b: MutableV2) => void, VerificationCode | 'ok']> = [
    ['leaf replaced', (b) => (b.leaf = h('x')), 'LEAF_MISMATCH'],
    ['score with more precision than bound', (b) => (b.decision.score += 1e-9), 'LEAF_MISMATCH'],
    ['contribution with more precision than bound', (b) => (b.decision.reasons[0].contribution += 1e-9), 'LEAF_MISMATCH'],
    ['outcome altered', (b) => (b.decision.outcome = 'approve'), 'LEAF_MISMATCH'],
    ['instance altered', (b) => (b.decision.instanceId = OTHER_INSTANCE), 'LEAF_MISMATCH'],
    ['run altered (not in the leaf)', (b) => (b.decision.runId = 'backfill-7'), 'DECISION_ID_MISMATCH'],
    ['input offset altered (not in the leaf)', (b) => (b.decision.input.offset = '1'), 'DECISION_ID_MISMATCH'],
    ['proof element replaced', (b) => (b.proof[0] = h('y')), 'PROOF_INVALID'],
    ['batch id replaced', (b) => (b.batch.batchId = h('z')), 'BATCH_ID_MISMATCH'],
    ['batch range shifted', (b) => (b.batch.lastOffset = '208'), 'BATCH_ID_MISMATCH'],
    ['batch leafCount altered (entry changes)', (b) => (b.batch.leafCount = 7), 'EPOCH_PROOF_INVALID'],
    ['epoch proof element replaced', (b) => (b.epoch.proof[0] = h('w')), 'EPOCH_PROOF_INVALID'],
    ['epoch root replaced', (b) => (b.epoch.root = h('v')), 'EPOCH_PROOF_INVALID'],
    ['epoch sequence altered', (b) => (b.epoch.sequence = '13'), 'EPOCH_ID_MISMATCH'],
    ['epoch id of another instance', (b) => (b.epoch.epochId = epochId(OTHER_INSTANCE, '12')), 'EPOCH_ID_MISMATCH'],
    ['claim id altered (a label only)', (b) => (b.decision.claimId = 'CLM-OTHER'), 'ok'],
    ['unknown member', (b) => (b.extra = true), 'FORMAT_INVALID'],
  ];
  it.each(mutations)('%s -> %s', (_what, mutate, code) => {
    const b = plainV2(sampleBundleV2());
    mutate(b);
    expect(codeOf(b)).toBe(code);
  });

  it('checks the flagged proof when present', () => {
    const b = plainV2(sampleBundleV2(1, 0));
    expect(codeOf(b)).toBe('ok');
    b.flagged.proof[0] = h('u');
    expect(codeOf(b)).toBe('FLAGGED_PROOF_INVALID');
    const c = plainV2(sampleBundleV2(1, 0));
    c.flagged.root = h('t');
    expect(codeOf(c)).toBe('FLAGGED_PROOF_INVALID');
  });

  it('with a trust anchor: another chain, contract or anchorer fails CONTRACT_NOT_TRUSTED; case does not matter', () => {
    const cases: Array<[(b: MutableV2) => void, VerificationCode | 'ok']> = [
      [(b) => (b.anchor.chainId = 1), 'CONTRACT_NOT_TRUSTED'],
      [(b) => (b.anchor.contract = '0x' + '11'.repeat(20)), 'CONTRACT_NOT_TRUSTED'],
      [(b) => (b.anchor.anchorer = '0x' + '22'.repeat(20)), 'CONTRACT_NOT_TRUSTED'],
      [(b) => (b.anchor.contract = b.anchor.contract.toLowerCase()), 'ok'],
    ];
    for (const [mutate, code] of cases) {
      const b = plainV2(sampleBundleV2());
      mutate(b);
      expect(codeOf(b, true)).toBe(code);
      expect(codeOf(b, false)).toBe('ok');
    }
    const anyAnchorer = verifyProofBundleV2({ ...plainV2(sampleBundleV2()), anchor: { ...SAMPLE_ANCHOR_V2, anchorer: '0x' + '33'.repeat(20) } }, { trust: { chainId: 31337, contract: CONTRACT } });
    expect(anyAnchorer.ok).toBe(true);
    expect(() => verifyProofBundleV2(sampleBundleV2(), { trust: { chainId: 0, contract: CONTRACT } })).toThrow(InvalidArgumentError);
  });

  it('assertProofBundleV2 throws typed errors with their code', () => {
    expect(assertProofBundleV2(sampleBundleV2()).format).toBe('claimtrail-proof-v2');
    const b = plainV2(sampleBundleV2());
    b.epoch.sequence = '13';
    expect(() => assertProofBundleV2(b)).toThrow(VerificationError);
    expect(() => assertProofBundleV2({})).toThrow(BundleFormatError);
  });

  it('a third party verifies both paths with @openzeppelin/merkle-tree alone (docs/proof-bundle.md#v2)', () => {
    const b = sampleBundleV2(1, 3);
    const d = b.decision;
    const reasonsHash = h(JSON.stringify(d.reasons.map(({ code, contribution }) => ({ code, contributionMicros: Math.round(contribution * 1e6) }))));
    const values = [h('claimtrail-leaf-v2'), d.instanceId, d.decisionId, d.claimCommitment, Math.round(d.score * 1e6), ['approve', 'review', 'flag'].indexOf(d.outcome),
      d.modelHash, reasonsHash, String(Date.parse(d.decidedAt)), h(d.log.topic), d.log.partition, d.log.offset];
    expect(values).toEqual([...leafValuesV2(d)]);
    expect(StandardMerkleTree.verify(b.batch.root, [...LEAF_TYPES_V2], values, [...b.proof])).toBe(true);
    const entry = [...entryValues(d.instanceId, b.batch)];
    expect(StandardMerkleTree.verify(b.epoch.root, [...ENTRY_TYPES], entry, [...b.epoch.proof])).toBe(true);
    expect(StandardMerkleTree.verify(b.flagged!.root, [...LEAF_TYPES_V2], values, [...b.flagged!.proof])).toBe(true);
  });
});

describe('verifyAnyProofBundle and verifyClaimBytes', () => {
  it('dispatches on format', () => {
    expect(verifyAnyProofBundle(sampleBundle())).toEqual({ ok: true });
    expect(verifyAnyProofBundle(JSON.stringify(sampleBundleV2()), { trust: TRUST })).toEqual({ ok: true });
    expect(verifyAnyProofBundle({ format: 'claimtrail-proof-v9' })).toMatchObject({ ok: false, code: 'FORMAT_INVALID' });
    expect(verifyAnyProofBundle('{')).toMatchObject({ ok: false, code: 'FORMAT_INVALID' });
    const b = plainV2(sampleBundleV2());
    b.epoch.proof = [];
    expect(verifyAnyProofBundle(b)).toMatchObject({ ok: false, code: 'EPOCH_PROOF_INVALID' });
  });

  it('pins v1 bundles to the trust anchor by chain id and contract', () => {
    expect(verifyAnyProofBundle(sampleBundle(), { trust: TRUST })).toEqual({ ok: true });
    expect(verifyAnyProofBundle(sampleBundle(), { trust: { ...TRUST, contract: '0x' + '44'.repeat(20) } })).toMatchObject({ code: 'CONTRACT_NOT_TRUSTED' });
    expect(verifyAnyProofBundle(sampleBundle(), { trust: { ...TRUST, chainId: 1 } })).toMatchObject({ code: 'CONTRACT_NOT_TRUSTED' });
    expect(verifyAnyProofBundle(sampleBundle(11, null), { trust: { ...TRUST, chainId: 1 } })).toEqual({ ok: true });
  });

  it('verifyClaimBytes works on v2 bundles', () => {
    const b = sampleBundleV2(1, 2);
    expect(verifyClaimBytes(b, CLAIM_BYTES(202n))).toEqual({ ok: true });
    expect(verifyClaimBytes(b, CLAIM_BYTES(203n))).toMatchObject({ ok: false, code: 'COMMITMENT_MISMATCH' });
    expect(verifyClaimBytes(sampleBundleV2(1, 2, false), CLAIM_BYTES(202n))).toMatchObject({ ok: false, code: 'SALT_MISSING' });
    expect(verifyClaimBytes({ format: 'x' }, CLAIM_BYTES(202n))).toMatchObject({ ok: false, code: 'FORMAT_INVALID' });
  });
});

describe('verifyAgainstChainV2', () => {
  const flaggedBundle = sampleBundleV2(1, 0);
  const reader = (over: Partial<AnchorReaderV2> = {}): AnchorReaderV2 & { asked: string[] } => {
    const asked: string[] = [];
    return {
      asked,
      contract: CONTRACT,
      async epochOf(anchorer, id) {
        asked.push(`epochOf ${anchorer} ${id}`);
        return anchorer === ANCHORER && id === flaggedBundle.epoch.epochId ? { root: flaggedBundle.epoch.root, blockNumber: 120n, batchCount: 3, leafCount: 16n } : null;
      },
      async flaggedRootOf(anchorer, root) {
        asked.push(`flaggedRootOf ${anchorer} ${root}`);
        return anchorer === ANCHORER && root === flaggedBundle.flagged!.root ? { count: flaggedBundle.flagged!.count, blockNumber: 118n } : null;
      },
      async blockNumber() {
        return 124n;
      },
      async blockHash(n) {
        return n === 120n ? SAMPLE_ANCHOR_V2.blockHash : n === 118n ? FLAGGED_TX.blockHash : null;
      },
      async chainId() {
        return 31337n;
      },
      ...over,
    };
  };
  const opts = { minConfirmations: 3 };

  it('passes and reports both confirmations; the reader is asked about the trusted anchorer', async () => {
    const r = reader();
    expect(await verifyAgainstChainV2(flaggedBundle, r, TRUST, opts)).toEqual({ ok: true, confirmations: 5n, flaggedConfirmations: 7n });
    expect(r.asked).toEqual([`epochOf ${ANCHORER} ${flaggedBundle.epoch.epochId}`, `flaggedRootOf ${ANCHORER} ${flaggedBundle.flagged!.root}`]);
    expect(await verifyAgainstChainV2(sampleBundleV2(), reader(), TRUST, opts)).toEqual({ ok: true, confirmations: 5n });
  });

  const cases: Array<[string, Partial<AnchorReaderV2> | ((b: MutableV2) => void), VerificationCode, number?]> = [
    ['foreign contract in the bundle', (b) => (b.anchor.contract = '0x' + '55'.repeat(20)), 'CONTRACT_NOT_TRUSTED'],
    ['foreign anchorer in the bundle', (b) => (b.anchor.anchorer = '0x' + '66'.repeat(20)), 'CONTRACT_NOT_TRUSTED'],
    ['another chain answering', { chainId: async () => 1n }, 'CHAIN_ID_MISMATCH'],
    ['epoch missing', { epochOf: async () => null }, 'ROOT_NOT_ON_CHAIN'],
    ['another epoch root', { epochOf: async () => ({ root: h('r'), blockNumber: 120n }) }, 'ROOT_DIFFERS_ON_CHAIN'],
    ['another batch count', { epochOf: async () => ({ root: flaggedBundle.epoch.root, blockNumber: 120n, batchCount: 4 }) }, 'ROOT_DIFFERS_ON_CHAIN'],
    ['another leaf count', { epochOf: async () => ({ root: flaggedBundle.epoch.root, blockNumber: 120n, leafCount: 17n }) }, 'ROOT_DIFFERS_ON_CHAIN'],
    ['epoch in another block', { epochOf: async () => ({ root: flaggedBundle.epoch.root, blockNumber: 121n }) }, 'BLOCK_HASH_MISMATCH'],
    ['block reorganised', { blockHash: async () => h('other block') }, 'BLOCK_HASH_MISMATCH'],
    ['flagged root missing', { flaggedRootOf: async () => null }, 'ROOT_NOT_ON_CHAIN'],
    ['flagged count differs', { flaggedRootOf: async () => ({ count: 99, blockNumber: 118n }) }, 'ROOT_DIFFERS_ON_CHAIN'],
    ['flagged in another block', { flaggedRootOf: async () => ({ count: flaggedBundle.flagged!.count, blockNumber: 119n }) }, 'BLOCK_HASH_MISMATCH'],
    ['too few confirmations', { blockNumber: async () => 121n }, 'NOT_CONFIRMED'],
    ['pure failure first', (b) => (b.epoch.sequence = '1'), 'EPOCH_ID_MISMATCH'],
  ];
  it.each(cases)('%s -> %s', async (_what, change, code) => {
    const b = plainV2(flaggedBundle);
    if (typeof change === 'function') change(b);
    const result = await verifyAgainstChainV2(b, reader(typeof change === 'function' ? {} : change), TRUST, opts);
    expect(result).toMatchObject({ ok: false, code });
  });

  it('refuses a reader bound to another contract, a malformed trust anchor or confirmation count', async () => {
    await expect(verifyAgainstChainV2(flaggedBundle, reader({ contract: '0x' + '77'.repeat(20) }), TRUST, opts)).rejects.toThrow(/bind the reader to the trusted contract/);
    await expect(verifyAgainstChainV2(flaggedBundle, reader(), { ...TRUST, contract: 'nope' }, opts)).rejects.toThrow(InvalidArgumentError);
    await expect(verifyAgainstChainV2(flaggedBundle, reader(), TRUST, { minConfirmations: 0 })).rejects.toThrow(InvalidArgumentError);
  });
});
