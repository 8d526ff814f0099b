/**
 * Fixed-point encoding of float vectors into the ring Z_{2^64}, where masking and summing happen.
 *
 * A value x is encoded as round(x * 2^fractionalBits) in two's complement mod 2^64 and decoded as
 * the signed 64-bit integer divided by 2^fractionalBits. Precision: each encoded coordinate is
 * within 2^-(fractionalBits+1) of x (default 24 bits: 2^-25 ≈ 3.0e-8); a sum of n coordinates is
 * within n * 2^-(fractionalBits+1) of the real sum. The sum decodes correctly as long as its true
 * value stays inside ±2^(63-fractionalBits) (default ±5.5e11): {@link assertRingCapacity} checks
 * that n participants with a given norm bound cannot overflow it.
 *
 * BigUint64Array stores a BigInt modulo 2^64 on assignment, so ring addition is plain `+`.
 */
import { FederationError } from './errors.ts';

/** Default number of fractional bits: precision 2^-24 per unit. */
export const DEFAULT_FRACTIONAL_BITS = 24;

/** Encodes `values` as ring elements. @throws FederationError(FEDERATION_ENCODING_INVALID) on NaN, ±Infinity or a value beyond the ring's signed range. */
export function encodeFixedPoint(values: ArrayLike<number>, fractionalBits = DEFAULT_FRACTIONAL_BITS): BigUint64Array {
  checkBits(fractionalBits);
  const scale = 2 ** fractionalBits;
  const limit = 2 ** (63 - fractionalBits);
  const out = new BigUint64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (!Number.isFinite(x)) throw new FederationError('FEDERATION_ENCODING_INVALID', `coordinate ${i} is ${x}: only finite values can be encoded`);
    if (Math.abs(x) >= limit) throw new FederationError('FEDERATION_ENCODING_INVALID', `coordinate ${i} is beyond the ring's range ±2^${63 - fractionalBits}`);
    out[i] = BigInt(Math.round(x * scale));
  }
  return out;
}

/** Decodes ring elements (a sum or a single encoded vector) back to floats. */
export function decodeFixedPoint(ring: BigUint64Array, fractionalBits = DEFAULT_FRACTIONAL_BITS): Float64Array {
  checkBits(fractionalBits);
  const signed = new BigInt64Array(ring.buffer, ring.byteOffset, ring.length);
  const scale = 2 ** fractionalBits;
  const out = new Float64Array(ring.length);
  for (let i = 0; i < ring.length; i++) out[i] = Number(signed[i]!) / scale;
  return out;
}

/** `acc += term` coordinate-wise in Z_{2^64} (in place). */
export function ringAddInPlace(acc: BigUint64Array, term: BigUint64Array): void {
  if (acc.length !== term.length) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `vector length ${term.length} differs from the round's ${acc.length}`);
  for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + term[i]!;
}

/** `acc -= term` coordinate-wise in Z_{2^64} (in place). */
export function ringSubInPlace(acc: BigUint64Array, term: BigUint64Array): void {
  if (acc.length !== term.length) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `vector length ${term.length} differs from the round's ${acc.length}`);
  for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! - term[i]!;
}

/**
 * Refuses a round whose honest sum could overflow the ring: `participants` vectors, each of L2
 * norm at most `normBound` (so every coordinate at most `normBound`), summed.
 */
export function assertRingCapacity(participants: number, normBound: number, fractionalBits = DEFAULT_FRACTIONAL_BITS): void {
  checkBits(fractionalBits);
  if (!(normBound > 0) || !Number.isFinite(normBound)) throw new FederationError('FEDERATION_ENCODING_INVALID', `norm bound must be a positive finite number, got ${normBound}`);
  if (participants * normBound >= 2 ** (63 - fractionalBits)) {
    throw new FederationError('FEDERATION_ENCODING_INVALID', `${participants} participants with norm bound ${normBound} can overflow the ring at ${fractionalBits} fractional bits`);
  }
}

function checkBits(bits: number): void {
  if (!Number.isInteger(bits) || bits < 0 || bits > 52) throw new FederationError('FEDERATION_ENCODING_INVALID', `fractional bits must be an integer in 0..52, got ${bits}`);
}
