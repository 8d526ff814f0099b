/**
 * Hex to bytes for 32-byte values on the hot path (leaf encoding, tree building), where ethers'
 * general `getBytes` costs more than the hashing. Callers validate the hex first (validate.ts).
 */
import { invariant } from './errors.ts';

/** char code -> nibble value, -1 for non-hex characters. */
const NIBBLE = new Int8Array(128).fill(-1);
for (let c = 0; c < 10; c++) NIBBLE[48 + c] = c;
for (let c = 0; c < 6; c++) {
  NIBBLE[65 + c] = 10 + c;
  NIBBLE[97 + c] = 10 + c;
}

/** Writes `0x` + 64 hex digits as 32 bytes into `out` at byte offset `at`. */
export function writeHex32(out: Uint8Array, at: number, hex: string): void {
  invariant(hex.length === 66, 'expected 0x + 64 hex digits');
  for (let i = 0; i < 32; i++) {
    const hi = NIBBLE[hex.charCodeAt(2 + 2 * i)] ?? -1;
    const lo = NIBBLE[hex.charCodeAt(3 + 2 * i)] ?? -1;
    invariant(hi >= 0 && lo >= 0, 'expected hex digits');
    out[at + i] = (hi << 4) | lo;
  }
}

/** `0x` + 64 hex digits as a new 32-byte array. */
export function hex32ToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(32);
  writeHex32(out, 0, hex);
  return out;
}

/** Byte -> two lowercase hex digits. */
const HEX_PAIRS = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** Bytes as `0x` + lowercase hex. */
export function bytesToHex(bytes: Uint8Array): string {
  let out = '0x';
  for (let i = 0; i < bytes.length; i++) out += HEX_PAIRS[bytes[i]!];
  return out;
}

/** `0x` + an even number of hex digits (either case) as bytes. */
export function hexToBytes(hex: string): Uint8Array {
  invariant(hex.length % 2 === 0 && hex.startsWith('0x'), 'expected 0x + an even number of hex digits');
  const out = new Uint8Array((hex.length - 2) / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = NIBBLE[hex.charCodeAt(2 + 2 * i)] ?? -1;
    const lo = NIBBLE[hex.charCodeAt(3 + 2 * i)] ?? -1;
    invariant(hi >= 0 && lo >= 0, 'expected hex digits');
    out[i] = (hi << 4) | lo;
  }
  return out;
}
