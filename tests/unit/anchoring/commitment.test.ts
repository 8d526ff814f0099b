import { AbiCoder, keccak256, sha256, ZeroHash } from 'ethers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { claimCommitment, newSalt } from '../../../anchoring/core/commitment.ts';
import { InvalidArgumentError } from '../../../anchoring/core/errors.ts';
import { CLAIM_BYTES, SALT } from './fixtures.ts';

describe('claimCommitment', () => {
  it('is keccak256(abi.encode(bytes32 salt, bytes32 sha256(claim)))', () => {
    const expected = keccak256(AbiCoder.defaultAbiCoder().encode(['bytes32', 'bytes32'], [SALT, sha256(CLAIM_BYTES)]));
    expect(claimCommitment(CLAIM_BYTES, SALT)).toBe(expected);
    expect(claimCommitment(CLAIM_BYTES, SALT.toUpperCase().replace('0X', '0x'))).toBe(expected);
  });

  it('equals the ethers AbiCoder reference on random claims and salts (the hand-built encoding)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 4_096 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes, saltBytes) => {
        fc.pre(saltBytes.some((b) => b !== 0));
        const salt = `0x${Buffer.from(saltBytes).toString('hex')}`;
        const expected = keccak256(AbiCoder.defaultAbiCoder().encode(['bytes32', 'bytes32'], [salt, sha256(bytes)]));
        expect(claimCommitment(bytes, salt)).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('changes when any single claim byte changes', () => {
    const base = claimCommitment(CLAIM_BYTES, SALT);
    fc.assert(
      fc.property(fc.nat({ max: CLAIM_BYTES.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, delta) => {
        const edited = Uint8Array.from(CLAIM_BYTES);
        edited[at] = (edited[at]! + delta) % 256;
        expect(claimCommitment(edited, SALT)).not.toBe(base);
      }),
    );
  });

  it('changes when any single salt bit changes', () => {
    const base = claimCommitment(CLAIM_BYTES, SALT);
    for (let bit = 0; bit < 256; bit++) {
      const flipped = (BigInt(SALT) ^ (1n << BigInt(bit))).toString(16).padStart(64, '0');
      expect(claimCommitment(CLAIM_BYTES, `0x${flipped}`)).not.toBe(base);
    }
  });

  it.each([
    ['an empty claim', new Uint8Array(0), SALT],
    ['a short salt', CLAIM_BYTES, '0x1234'],
    ['a salt without 0x', CLAIM_BYTES, '5a'.repeat(32)],
    ['a zero salt', CLAIM_BYTES, ZeroHash],
  ])('refuses %s', (_what, bytes, salt) => {
    expect(() => claimCommitment(bytes, salt)).toThrow(InvalidArgumentError);
  });
});

describe('newSalt', () => {
  it('returns 32 fresh random bytes as lowercase 0x hex', () => {
    const salts = new Set(Array.from({ length: 100 }, () => newSalt()));
    expect(salts.size).toBe(100);
    for (const s of salts) expect(s).toMatch(/^0x[0-9a-f]{64}$/);
  });
});
