import { createHash } from 'node:crypto';
import { AbiCoder, keccak256, toUtf8Bytes } from 'ethers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../anchoring/core/errors.ts';
import { BATCH_ID_V2_DOMAIN, EPOCH_ID_DOMAIN, batchIdV2, decisionIdV2, epochId, runIdOf } from '../../../anchoring/core/ids-v2.ts';
import { INSTANCE, MODEL, OTHER_INSTANCE, bytes32Arb, uint32Arb, uint64Arb } from './fixtures-v2.ts';

const h = (s: string) => keccak256(toUtf8Bytes(s));
/** The spec's formula, written apart from ids-v2.ts with node:crypto. */
const naiveDecisionId = (...fields: string[]) =>
  `0x${createHash('sha256').update(Buffer.from(['claimtrail-decision-v2', ...fields].join('\0'), 'utf8')).digest('hex')}`;

describe('v2 identifiers', () => {
  it('decisionIdV2 is sha256 over the NUL-joined fields, hex lowercase, numbers decimal', () => {
    expect(decisionIdV2(INSTANCE.toUpperCase().replace('0X', '0x'), 'live', MODEL, 'claims', 3, '1042')).toBe(
      naiveDecisionId(INSTANCE, 'live', MODEL, 'claims', '3', '1042'),
    );
    fc.assert(
      fc.property(bytes32Arb, bytes32Arb, fc.stringMatching(/^[a-z0-9._-]{1,64}$/), uint32Arb, uint64Arb, (inst, model, run, p, o) => {
        expect(decisionIdV2(inst, run, model, 'claims', p, o)).toBe(naiveDecisionId(inst, run, model, 'claims', String(p), o));
      }),
      { numRuns: 100 },
    );
  });

  it('decisionIdV2 changes with the run, the model and the instance; a replay gives the same id', () => {
    const id = decisionIdV2(INSTANCE, 'live', MODEL, 'claims', 0, '7');
    expect(decisionIdV2(INSTANCE, 'live', MODEL, 'claims', 0, '7')).toBe(id);
    expect(decisionIdV2(INSTANCE, 'backfill-2024', MODEL, 'claims', 0, '7')).not.toBe(id);
    expect(decisionIdV2(INSTANCE, 'live', h('other model'), 'claims', 0, '7')).not.toBe(id);
    expect(decisionIdV2(OTHER_INSTANCE, 'live', MODEL, 'claims', 0, '7')).not.toBe(id);
  });

  it('batchIdV2 = keccak256(abi.encode(keccak256("claimtrail-batch-v2"), instanceId, keccak256(topic), uint32, uint64, uint64))', () => {
    expect(BATCH_ID_V2_DOMAIN).toBe(h('claimtrail-batch-v2'));
    const expected = keccak256(
      AbiCoder.defaultAbiCoder().encode(['bytes32', 'bytes32', 'bytes32', 'uint32', 'uint64', 'uint64'], [h('claimtrail-batch-v2'), INSTANCE, h('decisions'), 3, 500n, 572n]),
    );
    expect(batchIdV2(INSTANCE, 'decisions', 3, '500', '572')).toBe(expected);
    expect(batchIdV2(OTHER_INSTANCE, 'decisions', 3, '500', '572')).not.toBe(expected);
  });

  it('epochId = keccak256(abi.encode(keccak256("claimtrail-epoch-v2"), instanceId, uint64 sequence))', () => {
    expect(EPOCH_ID_DOMAIN).toBe(h('claimtrail-epoch-v2'));
    const expected = keccak256(AbiCoder.defaultAbiCoder().encode(['bytes32', 'bytes32', 'uint64'], [h('claimtrail-epoch-v2'), INSTANCE, 12n]));
    expect(epochId(INSTANCE, '12')).toBe(expected);
    expect(epochId(INSTANCE, 12n)).toBe(expected);
    expect(epochId(INSTANCE, (2n ** 64n - 1n).toString())).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it('refuses bad arguments, naming the field', () => {
    const cases: Array<[() => unknown, RegExp]> = [
      [() => decisionIdV2('0x12', 'live', MODEL, 'claims', 0, '1'), /instanceId/],
      [() => decisionIdV2(INSTANCE, 'Live', MODEL, 'claims', 0, '1'), /runId/],
      [() => decisionIdV2(INSTANCE, 'x'.repeat(65), MODEL, 'claims', 0, '1'), /runId/],
      [() => decisionIdV2(INSTANCE, 'live', 'nope', 'claims', 0, '1'), /modelHash/],
      [() => decisionIdV2(INSTANCE, 'live', MODEL, 'bad topic', 0, '1'), /input\.topic/],
      [() => decisionIdV2(INSTANCE, 'live', MODEL, 'claims', -1, '1'), /input\.partition/],
      [() => decisionIdV2(INSTANCE, 'live', MODEL, 'claims', 0, '01'), /input\.offset/],
      [() => batchIdV2(INSTANCE, 'decisions', 0, '9', '8'), /firstOffset/],
      [() => batchIdV2(INSTANCE, 'decisions', 2 ** 32, '1', '8'), /batch\.partition/],
      [() => epochId(INSTANCE, '-1'), /epoch\.sequence/],
      [() => epochId(INSTANCE, 2n ** 64n), /epoch\.sequence/],
      [() => runIdOf(''), /runId/],
    ];
    for (const [call, field] of cases) {
      expect(call).toThrow(InvalidArgumentError);
      expect(call).toThrow(field);
    }
  });
});
