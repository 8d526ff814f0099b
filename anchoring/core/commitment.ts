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
import { AbiCoder, hexlify, keccak256, randomBytes, sha256, ZeroHash } from 'ethers';
import { InvalidArgumentError } from './errors.ts';
import { bytes32 } from './validate.ts';

const COMMITMENT_TYPES = ['bytes32', 'bytes32'] as const;

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
  return keccak256(AbiCoder.defaultAbiCoder().encode(COMMITMENT_TYPES, [s, sha256(claimBytes)]));
}

/** A fresh salt: 32 bytes from the platform's cryptographic RNG, `0x` + 64 lowercase hex digits. */
export function newSalt(): string {
  return hexlify(randomBytes(32));
}
