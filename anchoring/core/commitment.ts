/**
 * The salted claim commitment: how a leaf binds the full claim without containing any of it.
 *
 *   claimCommitment = keccak256(abi.encode(bytes32 salt, bytes32 sha256(claimBytes)))
 *
 * Why salted: claims are low-entropy (a member id, a procedure code, a date and an amount can be
 * guessed), so a bare hash could be confirmed by brute force. With a random 256-bit salt, the
 * commitment alone reveals nothing about the claim; only someone holding both the claim bytes and
 * the salt can recompute it. Erasing the salt (and the claim) severs the link for good: the
 * on-chain root stays valid, but nobody can tie it back to a person any more, which is how a
 * deletion request is honoured without rewriting the chain.
 *
 * WARNING: the salt is as sensitive as the claim. Keep it off chain, next to the claim, and hand
 * it out only inside proof bundles meant for someone entitled to the claim.
 */
import { randomBytes, ZeroHash } from 'ethers';
import { bytesToHex, writeHex32 } from './bytes.ts';
import { InvalidArgumentError } from './errors.ts';
import { keccak256, sha256Bytes } from './hashes.ts';
import { bytes32 } from './validate.ts';

/**
 * Commits to `claimBytes` under `salt`.
 * @param claimBytes the claim exactly as received (the bytes of the Kafka record value); non-empty.
 * @param salt 32 random bytes as `0x` + 64 hex digits (see {@link newSalt}); never all zero.
 * @returns the commitment, `0x` + 64 lowercase hex digits.
 * @throws InvalidArgumentError when the bytes are empty or the salt is malformed or zero.
 */
export function claimCommitment(claimBytes: Uint8Array, salt: string): string {
  if (!(claimBytes instanceof Uint8Array) || claimBytes.length === 0) {
    throw new InvalidArgumentError('claimBytes must be a non-empty Uint8Array');
  }
  const s = bytes32(salt, 'salt');
  // A zero salt is what a forgotten default looks like, and it makes the commitment guessable.
  if (s === ZeroHash) throw new InvalidArgumentError('salt must not be zero');
  // abi.encode(bytes32, bytes32) is the two words side by side; tests check it against ethers' AbiCoder.
  const preimage = new Uint8Array(64);
  writeHex32(preimage, 0, s);
  preimage.set(sha256Bytes(claimBytes), 32);
  return keccak256(preimage);
}

/** A fresh salt: 32 bytes from the platform's cryptographic RNG, `0x` + 64 lowercase hex digits. */
export function newSalt(): string {
  return bytesToHex(randomBytes(32));
}
