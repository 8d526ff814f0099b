import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BundleFormatError, InvalidArgumentError, ProofMismatchError } from '../../../anchoring/core/errors.ts';
import { LEAF_TYPES, leafValues } from '../../../anchoring/core/leaf.ts';
import { buildBatchTree } from '../../../anchoring/core/merkle.ts';
import {
  PROOF_BUNDLE_FORMAT,
  loadProofBundle,
  makeProofBundle,
  proofBundleJsonSchema,
} from '../../../anchoring/core/proof-bundle.ts';
import { plain, SALT, SAMPLE_ANCHOR, sampleBatch, sampleBundle, type Mutable } from './fixtures.ts';

const SCHEMA_FILE = fileURLToPath(new URL('../../../anchoring/core/proof-bundle.schema.json', import.meta.url));

function formatIssues(input: unknown): readonly string[] {
  try {
    loadProofBundle(input);
  } catch (error) {
    expect(error).toBeInstanceOf(BundleFormatError);
    expect((error as BundleFormatError).code).toBe('FORMAT_INVALID');
    return (error as BundleFormatError).issues;
  }
  throw new Error('expected loadProofBundle to throw');
}

describe('makeProofBundle', () => {
  it('makes a complete v1 bundle', () => {
    const bundle = sampleBundle();
    expect(bundle.format).toBe(PROOF_BUNDLE_FORMAT);
    expect(bundle.leafEncoding).toBe('claimtrail-leaf-v1');
    expect(bundle.leafTypes).toEqual([...LEAF_TYPES]);
    expect(bundle.decision.log).toEqual({ topic: 'decisions', partition: 3, offset: '522' });
    expect(bundle.batch).toMatchObject({ topic: 'decisions', partition: 3, firstOffset: '500', lastOffset: '572', leafCount: 37 });
    expect(bundle.salt).toBe(SALT);
    expect(bundle.anchor).toEqual(SAMPLE_ANCHOR);
    expect(Object.isFrozen(bundle.decision.reasons[0])).toBe(true);
  });

  it('writes the score at the precision the leaf binds', () => {
    const { decisions, range } = sampleBatch();
    const d = { ...decisions[0]!, score: 0.123456789 };
    const tree = buildBatchTree([leafValues(d), ...decisions.slice(1).map((x) => leafValues(x))]);
    const bundle = makeProofBundle({ decision: d, proof: tree.proofFor(0), batch: { ...range, leafCount: 37, root: tree.root }, anchor: null });
    expect(bundle.decision.score).toBe(0.123457);
    expect(bundle.salt).toBeUndefined();
    expect('salt' in bundle).toBe(false);
  });

  it('keeps only the leaf fields and claimId of a richer decision object', () => {
    const { decisions, range } = sampleBatch();
    const rich = { ...decisions[0]!, components: { rf: 0.1, nn: 0.2 }, salt: SALT, correlationId: 'c-1' };
    const tree = buildBatchTree(decisions.map((x) => leafValues(x)));
    const bundle = makeProofBundle({ decision: rich, proof: tree.proofFor(0), batch: { ...range, leafCount: 37, root: tree.root }, anchor: null });
    expect(Object.keys(bundle.decision).sort()).toEqual(
      ['claimCommitment', 'claimId', 'decidedAt', 'decisionId', 'log', 'modelHash', 'outcome', 'reasons', 'score'],
    );
  });

  it('refuses inputs that do not prove the decision, with the verification error as cause', () => {
    const { decisions, range } = sampleBatch();
    const tree = buildBatchTree(decisions.map((x) => leafValues(x)));
    const attempt = () =>
      makeProofBundle({ decision: decisions[3]!, proof: tree.proofFor(4), batch: { ...range, leafCount: 37, root: tree.root }, anchor: null });
    expect(attempt).toThrow(InvalidArgumentError);
    try {
      attempt();
    } catch (error) {
      expect((error as Error).cause).toBeInstanceOf(ProofMismatchError);
    }
  });

  it('refuses malformed inputs', () => {
    const { decisions, range } = sampleBatch();
    const tree = buildBatchTree(decisions.map((x) => leafValues(x)));
    const base = { decision: decisions[0]!, proof: tree.proofFor(0), batch: { ...range, leafCount: 37, root: tree.root }, anchor: SAMPLE_ANCHOR };
    expect(() => makeProofBundle({ ...base, salt: '0x12' })).toThrow(/salt/);
    expect(() => makeProofBundle({ ...base, anchor: { ...SAMPLE_ANCHOR, contract: '0x1234' } })).toThrow(/anchor\.contract/);
    expect(() => makeProofBundle({ ...base, batch: { ...base.batch, leafCount: 0 } })).toThrow(/batch\.leafCount/);
    expect(() => makeProofBundle({ ...base, batch: { ...base.batch, firstOffset: '600' } })).toThrow(InvalidArgumentError);
    expect(() => makeProofBundle({ ...base, decision: { ...base.decision, claimId: '' } })).toThrow(/decision\.claimId/);
  });
});

describe('loadProofBundle', () => {
  it('loads what makeProofBundle made, from an object or from JSON text', () => {
    const bundle = sampleBundle();
    expect(loadProofBundle(plain(bundle))).toEqual(bundle);
    expect(loadProofBundle(JSON.stringify(bundle, null, 2))).toEqual(bundle);
  });

  it('accepts an unanchored bundle (anchor: null)', () => {
    expect(loadProofBundle(plain(sampleBundle(0, null))).anchor).toBeNull();
  });

  it('reports every problem at once, with paths', () => {
    const b = plain(sampleBundle());
    b.format = 'claimtrail-proof-v2';
    b.decision.outcome = 'deny';
    b.proof[0] = '0x1234';
    b.batch.partition = -1;
    b.anchor.chainId = '31337';
    b.extra = true;
    const issues = formatIssues(b);
    for (const path of ['format', 'decision.outcome', 'proof.0', 'batch.partition', 'anchor.chainId', '(root)']) {
      expect(issues.some((i) => i.startsWith(`${path}:`))).toBe(true);
    }
  });

  it.each([
    ['not JSON text', '{"format":', /not JSON/],
    ['not an object', 42, /\(root\)/],
    ['null', null, /\(root\)/],
    ['leafTypes changed', (b: Mutable) => void (b.leafTypes[2] = 'uint64'), /leafTypes\.2/],
    ['leafTypes too long', (b: Mutable) => void b.leafTypes.push('bytes32'), /leafTypes/],
    ['a reason with an extra member', (b: Mutable) => void (b.decision.reasons[0].phi = 'x'), /decision\.reasons\.0/],
    ['an offset as a number', (b: Mutable) => void (b.decision.log.offset = 522), /decision\.log\.offset/],
    ['an offset above uint64', (b: Mutable) => void (b.batch.lastOffset = '18446744073709551616'), /batch\.lastOffset: must be at most/],
    ['first > last', (b: Mutable) => void (b.batch.firstOffset = '600'), /batch\.firstOffset/],
    ['more leaves than offsets', (b: Mutable) => void (b.batch.leafCount = 74), /batch\.leafCount/],
    ['an impossible date', (b: Mutable) => void (b.decision.decidedAt = '2024-02-30T00:00:00.000Z'), /decision: decidedAt/],
    ['a proof longer than 64', (b: Mutable) => void (b.proof = Array(65).fill(b.leaf)), /proof/],
    ['a missing anchor member', (b: Mutable) => void delete b.anchor.blockHash, /anchor\.blockHash/],
    ['no anchor key at all', (b: Mutable) => void delete b.anchor, /anchor/],
  ])('refuses %s', (_what, edit, message) => {
    let input: unknown = edit;
    if (typeof edit === 'function') {
      const b = plain(sampleBundle());
      edit(b);
      input = b;
    }
    expect(formatIssues(input).join('\n')).toMatch(message);
  });
});

describe('proof-bundle.schema.json', () => {
  it('is the JSON Schema generated from the loader schema (update: vitest -u)', async () => {
    await expect(`${JSON.stringify(proofBundleJsonSchema(), null, 2)}\n`).toMatchFileSnapshot(SCHEMA_FILE);
  });

  it('is draft 2020-12 and requires exactly the bundle fields', () => {
    const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'));
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.additionalProperties).toBe(false);
    const bundle = sampleBundle();
    expect([...schema.required, 'salt'].sort()).toEqual(Object.keys(bundle).sort());
    expect(Object.keys(schema.properties.decision.properties).sort()).toEqual(Object.keys(bundle.decision).sort());
    expect(Object.keys(schema.properties.batch.properties).sort()).toEqual(Object.keys(bundle.batch).sort());
  });
});
