import { id, keccak256 as ethersKeccak, sha256 as ethersSha256 } from 'ethers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../../anchoring/core/bytes.ts';
import { doubleKeccak256, KECCAK_BACKEND, keccak256, keccak256Bytes, keccakUtf8, sha256Bytes } from '../../../anchoring/core/hashes.ts';

/**
 * The wasm hashes (hash-wasm) against ethers' JavaScript ones, the reference: every length class
 * around keccak's 136-byte rate and SHA-256's 64-byte block, and random inputs up to 4 KiB.
 */
describe('hashes.ts (hash-wasm) against ethers', () => {
  it('runs on WebAssembly here (the fast path is the one tested)', () => {
    expect(KECCAK_BACKEND).toBe('wasm');
  });

  it('keccak256 and sha256 agree with ethers at every length 0..300', () => {
    for (let n = 0; n <= 300; n++) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 131 + n * 7) & 0xff);
      expect(keccak256(data)).toBe(ethersKeccak(data));
      expect(bytesToHex(keccak256Bytes(data))).toBe(ethersKeccak(data));
      expect(bytesToHex(sha256Bytes(data))).toBe(ethersSha256(data));
    }
  });

  it('agree on random inputs, hex-string input included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4_096 }), (data) => {
        expect(keccak256(data)).toBe(ethersKeccak(data));
        expect(keccak256(bytesToHex(data))).toBe(ethersKeccak(data));
        expect(doubleKeccak256(data)).toBe(ethersKeccak(ethersKeccak(data)));
        expect(bytesToHex(sha256Bytes(data))).toBe(ethersSha256(data));
      }),
      { numRuns: 500 },
    );
  });

  it('keccakUtf8 is ethers id() on any string, non-ASCII included', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
          expect(keccakUtf8(text)).toBe(id(text));
        }), { numRuns: 300 });
  });

  it('hexToBytes / bytesToHex round-trip', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
          expect(hexToBytes(bytesToHex(data))).toEqual(data);
        }));
  });
});
