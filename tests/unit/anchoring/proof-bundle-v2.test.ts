import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BundleFormatError, InvalidArgumentError } from '../../../anchoring/core/errors.ts';
import { loadAnyProofBundle } from '../../../anchoring/core/proof-bundle-any.ts';
import { loadProofBundleV2, makeProofBundleV2, proofBundleV2JsonSchema } from '../../../anchoring/core/proof-bundle-v2.ts';
import { sampleBundle } from './fixtures.ts';
import { plainV2, SAMPLE_ANCHOR_V2, sampleBundleV2, sampleEpoch } from './fixtures-v2.ts';

const SCHEMA_FILE = fileURLToPath(new URL('../../../anchoring/core/proof-bundle-v2.schema.json', import.meta.url));

function issuesOf(input: unknown): readonly string[] {
  try {
    loadProofBundleV2(input);
  } catch (error) {
    expect(error).toBeInstanceOf(BundleFormatError);
    return (error as BundleFormatError).issues;
  }
  throw new Error('expected loadProofBundleV2 to throw');
}

describe('proof bundle v2: loader', () => {
  it('loads a bundle as made, deeply frozen, with the spec fields in order', () => {
    const loaded = loadProofBundleV2(JSON.stringify(sampleBundleV2()));
    expect(Object.isFrozen(loaded.decision.reasons[0])).toBe(true);
    expect(Object.keys(loaded)).toEqual(['format', 'leafEncoding', 'decision', 'leaf', 'proof', 'batch', 'epoch', 'anchor', 'salt']);
    expect(Object.keys(loaded.decision)).toEqual(['instanceId', 'runId', 'decisionId', 'claimId', 'claimCommitment', 'score', 'outcome', 'modelHash', 'reasons', 'decidedAt', 'input', 'log']);
    expect(Object.keys(loaded.epoch)).toEqual(['epochId', 'sequence', 'root', 'batchCount', 'leafCount', 'proof']);
    expect(Object.keys(loaded.anchor)).toEqual(['chainId', 'contract', 'anchorer', 'txHash', 'blockNumber', 'blockHash', 'confirmationsAtExport']);
    const flagged = sampleBundleV2(1, 0);
    expect(Object.keys(flagged.flagged!)).toEqual(['root', 'count', 'proof', 'txHash', 'blockNumber', 'blockHash']);
  });

  it('lists every problem at once, unknown members included at every level', () => {
    const b = plainV2(sampleBundleV2(1, 0));
    b.note = 'x';
    b.decision.reasons[0].text = 'v1 text';
    b.epoch.sequence = '012';
    b.flagged.extra = 1;
    b.anchor.anchorer = '0x12';
    b.batch.firstOffset = '300';
    delete b.epoch.root;
    const issues = issuesOf(b);
    for (const path of ['(root)', 'decision.reasons.0', 'epoch.sequence', 'flagged', 'anchor.anchorer', 'epoch.root']) {
      expect(issues.some((i) => i.startsWith(`${path}:`)), `${path} in ${issues.join(' | ')}`).toBe(true);
    }
  });

  it('enforces the cross-field rules the JSON Schema cannot say', () => {
    const cases: Array<[(b: ReturnType<typeof plainV2>) => void, string]> = [
      [(b) => (b.batch.firstOffset = '999'), 'batch.firstOffset'],
      [(b) => (b.batch.leafCount = 9), 'batch.leafCount'],
      [(b) => (b.epoch.leafCount = '3'), 'epoch.leafCount'],
      [(b) => (b.epoch.leafCount = '18446744073709551616'), 'epoch.leafCount'],
      [(b) => (b.decision.decidedAt = '2024-02-30T00:00:00.000Z'), 'decision'],
      [(b) => (b.decision.reasons[0].contribution = 5000), 'decision'],
      [(b) => (b.decision.runId = 'LIVE'), 'decision.runId'],
      [(b) => (b.epoch.proof = Array(65).fill(b.proof[0])), 'epoch.proof'],
      [(b) => (b.anchor = null), 'anchor'],
      [(b) => (b.leafEncoding = 'claimtrail-leaf-v1'), 'leafEncoding'],
    ];
    for (const [mutate, path] of cases) {
      const b = plainV2(sampleBundleV2());
      mutate(b);
      expect(issuesOf(b).some((i) => i.startsWith(`${path}:`)), path).toBe(true);
    }
  });

  it('loadAnyProofBundle dispatches on format, v1 and v2, and names an unknown format', () => {
    expect(loadAnyProofBundle(sampleBundle()).format).toBe('claimtrail-proof-v1');
    expect(loadAnyProofBundle(JSON.stringify(sampleBundleV2())).format).toBe('claimtrail-proof-v2');
    for (const bad of [{ format: 'claimtrail-proof-v3' }, {}, [], 'not json', null]) {
      expect(() => loadAnyProofBundle(bad)).toThrow(BundleFormatError);
    }
    expect(() => loadAnyProofBundle({ format: 'claimtrail-proof-v3' })).toThrow(/claimtrail-proof-v1, claimtrail-proof-v2/);
    // A v2 document under the v1 name is judged by v1's rules, and fails them.
    expect(() => loadAnyProofBundle({ ...plainV2(sampleBundleV2()), format: 'claimtrail-proof-v1' })).toThrow(BundleFormatError);
  });
});

describe('proof bundle v2: maker', () => {
  it('re-verifies what it makes: a wrong proof, epoch or flagged root is refused with the cause', () => {
    const { batches, epoch } = sampleEpoch();
    const b = batches[1]!;
    const input = {
      decision: b.decisions[2]!,
      proof: b.tree.proofFor(2),
      batch: b.batch,
      epoch: { sequence: '12', root: epoch.root, batchCount: 3, leafCount: epoch.leafCount, proof: epoch.proofFor(1) },
      anchor: { ...SAMPLE_ANCHOR_V2 },
    };
    expect(makeProofBundleV2(input).salt).toBeUndefined();
    const bad: Array<[Partial<typeof input>, string]> = [
      [{ proof: b.tree.proofFor(3) }, 'PROOF_INVALID'],
      [{ epoch: { ...input.epoch, proof: epoch.proofFor(0) } }, 'EPOCH_PROOF_INVALID'],
      [{ decision: { ...input.decision, runId: 'backfill-1' } }, 'DECISION_ID_MISMATCH'],
    ];
    for (const [override, code] of bad) {
      let caught: unknown;
      try {
        makeProofBundleV2({ ...input, ...override });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(InvalidArgumentError);
      expect(((caught as InvalidArgumentError).cause as { code: string }).code).toBe(code);
    }
    expect(() => makeProofBundleV2({ ...input, flagged: { root: epoch.root, count: 1, proof: [], txHash: epoch.root, blockNumber: 1, blockHash: epoch.root } })).toThrow(/flagged proof/);
  });

  it('writes score and contributions at the precision the leaf binds', () => {
    const { batches, epoch } = sampleEpoch();
    const b = batches[0]!;
    const d = b.decisions[0]!;
    const made = makeProofBundleV2({
      decision: { ...d, score: d.score + 1e-9, reasons: d.reasons.map((r) => ({ ...r, contribution: r.contribution + 1e-9 })) },
      proof: b.tree.proofFor(0),
      batch: b.batch,
      epoch: { sequence: '0', root: epoch.root, batchCount: 3, leafCount: epoch.leafCount, proof: epoch.proofFor(0) },
      anchor: { ...SAMPLE_ANCHOR_V2 },
    });
    expect(made.decision.score).toBe(d.score);
    expect(made.decision.reasons.map((r) => r.contribution)).toEqual(d.reasons.map((r) => r.contribution));
  });
});

describe('proof-bundle-v2.schema.json', () => {
  it('is the JSON Schema generated from the loader schema (update: vitest -u)', async () => {
    await expect(`${JSON.stringify(proofBundleV2JsonSchema(), null, 2)}\n`).toMatchFileSnapshot(SCHEMA_FILE);
  });

  it('is draft 2020-12, closed, and requires exactly the bundle fields', () => {
    const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'));
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.additionalProperties).toBe(false);
    const bundle = sampleBundleV2(1, 0);
    expect([...schema.required, 'salt', 'flagged'].sort()).toEqual(Object.keys(bundle).sort());
    for (const part of ['decision', 'batch', 'epoch', 'flagged', 'anchor'] as const) {
      expect(Object.keys(schema.properties[part].properties).sort(), part).toEqual(Object.keys(bundle[part]!).sort());
      expect(schema.properties[part].additionalProperties, part).toBe(false);
    }
  });
});
