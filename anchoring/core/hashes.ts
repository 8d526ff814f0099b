/**
 * keccak256 and sha256 for the hot paths (leaves, inner nodes, commitments, reasons hashes), through
 * `hash-wasm`'s WebAssembly Keccak: about 6x faster than ethers' JavaScript keccak (`@noble/hashes`)
 * on the 32-384 byte inputs hashed here. ethers' keccak256 stays the reference:
 * tests/unit/anchoring/hashes.test.ts checks both agree (and sha256 with ethers' sha256) on random inputs of every length class,
 * and the Merkle tests check roots and proofs against `@openzeppelin/merkle-tree`.
 *
 * The wasm hasher is created once when this module loads (top-level await). Where WebAssembly is
 * not available, every function falls back to ethers' JavaScript hashes with the same results.
 * One hasher is reused for every call: it is synchronous (init, update, digest), so no two calls
 * can interleave on one thread; worker threads load their own copy of the module.
 */
import { keccak256 as keccakJs, sha256 as sha256Js } from 'ethers';
import { createKeccak, createSHA256, type IHasher } from 'hash-wasm';
import { bytesToHex, hexToBytes } from './bytes.ts';

let wasm: IHasher | null = null;
let wasmSha256: IHasher | null = null;
try {
  wasm = await createKeccak(256);
  wasmSha256 = await createSHA256();
} catch {
  wasm = null;
  wasmSha256 = null;
}

/** Which implementation answers: `wasm` normally, `js` where WebAssembly could not start. */
export const KECCAK_BACKEND: 'wasm' | 'js' = wasm ? 'wasm' : 'js';

/** keccak256 of `data` as 32 raw bytes. */
export function keccak256Bytes(data: Uint8Array): Uint8Array {
  if (wasm) {
    wasm.init();
    wasm.update(data);
    return wasm.digest('binary');
  }
  return hexToBytes(keccakJs(data));
}

/**
 * keccak256 of `data` (bytes, or `0x` hex as ethers accepts it), as `0x` + 64 lowercase hex digits:
 * a drop-in for ethers' `keccak256`.
 */
export function keccak256(data: Uint8Array | string): string {
  const bytes = typeof data === 'string' ? hexToBytes(data) : data;
  if (wasm) {
    wasm.init();
    wasm.update(bytes);
    return `0x${wasm.digest('hex')}`;
  }
  return keccakJs(bytes);
}

/** keccak256(keccak256(data)): the StandardMerkleTree leaf hash of an ABI-encoded tuple. */
export function doubleKeccak256(data: Uint8Array): string {
  return bytesToHex(keccak256Bytes(keccak256Bytes(data)));
}

const utf8 = new TextEncoder();

/** keccak256 of a string's UTF-8 bytes (ethers' `id`). */
export function keccakUtf8(text: string): string {
  return keccak256(utf8.encode(text));
}

/** SHA-256 of `data` as 32 raw bytes (ethers' `sha256` is the reference). */
export function sha256Bytes(data: Uint8Array): Uint8Array {
  if (wasmSha256) {
    wasmSha256.init();
    wasmSha256.update(data);
    return wasmSha256.digest('binary');
  }
  return hexToBytes(sha256Js(data));
}
