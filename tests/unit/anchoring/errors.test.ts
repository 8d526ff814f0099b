import { describe, expect, it } from 'vitest';
import {
  AnchoringError,
  BundleFormatError,
  InvalidArgumentError,
  InvariantError,
  LeafMismatchError,
  ProofMismatchError,
  VerificationError,
  invariant,
} from '../../../anchoring/core/errors.ts';

describe('anchoring errors', () => {
  it('carry a stable code, their class name, retriable=false and the cause', () => {
    const cause = new Error('underlying');
    const cases: Array<[AnchoringError, string, string]> = [
      [new InvalidArgumentError('bad', { cause }), 'INVALID_ARGUMENT', 'InvalidArgumentError'],
      [new InvariantError('bug'), 'INVARIANT_VIOLATED', 'InvariantError'],
      [new ProofMismatchError('0xaa', '0xbb'), 'PROOF_INVALID', 'ProofMismatchError'],
      [new LeafMismatchError('leaf', '0xaa', '0xbb'), 'LEAF_MISMATCH', 'LeafMismatchError'],
      [new BundleFormatError(['a: x', 'b: y']), 'FORMAT_INVALID', 'BundleFormatError'],
      [new VerificationError('NOT_CONFIRMED', 'wait'), 'NOT_CONFIRMED', 'VerificationError'],
    ];
    for (const [error, code, name] of cases) {
      expect(error).toBeInstanceOf(AnchoringError);
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe(code);
      expect(error.name).toBe(name);
      expect(error.retriable).toBe(false);
    }
    expect(cases[0]![0].cause).toBe(cause);
  });

  it('verification errors carry expected vs computed', () => {
    const e = new ProofMismatchError('0xaa', '0xbb');
    expect(e).toBeInstanceOf(VerificationError);
    expect([e.expectedRoot, e.computedRoot, e.expected, e.computed]).toEqual(['0xaa', '0xbb', '0xaa', '0xbb']);
    const f = new BundleFormatError(['a: x', 'b: y']);
    expect(f.issues).toEqual(['a: x', 'b: y']);
    expect(f.message).toContain('a: x');
  });

  it('invariant throws InvariantError only when the condition is false', () => {
    expect(() => invariant(true, 'fine')).not.toThrow();
    expect(() => invariant(0, 'broken')).toThrow(InvariantError);
  });
});
