/**
 * Shamir secret sharing of short secrets (32-byte seeds and X25519 secret keys).
 *
 * The brief names the audited `shamir-secret-sharing` package; it is not in this checkout's
 * node_modules, so this module keeps that package's API (`split(secret, shares, threshold)` and
 * `combine(shares)`, both async, shares as bytes) and implements it over the prime field
 * GF(2^521 - 1) with node:crypto randomness. Swapping in the package is one import.
 *
 * Share layout: 1 byte x (1..255), then y as 66 bytes big-endian. Any `threshold` distinct shares
 * give the secret back; fewer are consistent with every secret of the same length (the polynomial
 * has `threshold - 1` uniformly random coefficients), so `combine` of too few shares returns an
 * unrelated value rather than the secret. The secret's length is carried in the first byte of
 * the encoded secret (at most 64 bytes).
 */
import { randomBytes } from 'node:crypto';
import { FederationError } from './errors.ts';

const P = (1n << 521n) - 1n;
const Y_BYTES = 66;
const MAX_SECRET_BYTES = 64;

function toBig(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

function toBytes(v: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function mod(a: bigint): bigint {
  const r = a % P;
  return r < 0n ? r + P : r;
}

function modPow(base: bigint, exp: bigint): bigint {
  let result = 1n;
  base = mod(base);
  while (exp > 0n) {
    if (exp & 1n) result = (result * base) % P;
    base = (base * base) % P;
    exp >>= 1n;
  }
  return result;
}

/** A field element drawn uniformly (rejection sampling on 521 bits). */
function randomElement(): bigint {
  for (;;) {
    const b = randomBytes(Y_BYTES);
    b[0]! &= 0x01;
    const v = toBig(b);
    if (v < P) return v;
  }
}

/**
 * Splits `secret` into `shares` shares, any `threshold` of which recover it.
 * @throws FederationError(FEDERATION_PROTOCOL_VIOLATION) on bad parameters.
 */
export async function split(secret: Uint8Array, shares: number, threshold: number): Promise<Uint8Array[]> {
  if (secret.length === 0 || secret.length > MAX_SECRET_BYTES) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `secret must be 1..${MAX_SECRET_BYTES} bytes, got ${secret.length}`);
  if (!Number.isInteger(shares) || shares < 2 || shares > 255) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `share count must be 2..255, got ${shares}`);
  if (!Number.isInteger(threshold) || threshold < 2 || threshold > shares) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `threshold must be 2..${shares}, got ${threshold}`);
  // Length-prefixed so leading zero bytes of the secret survive the trip through an integer.
  const coefficients = [toBig(Uint8Array.of(secret.length, ...secret))];
  for (let k = 1; k < threshold; k++) coefficients.push(randomElement());
  const out: Uint8Array[] = [];
  for (let x = 1; x <= shares; x++) {
    let y = 0n;
    for (let k = coefficients.length - 1; k >= 0; k--) y = (y * BigInt(x) + coefficients[k]!) % P;
    const share = new Uint8Array(1 + Y_BYTES);
    share[0] = x;
    share.set(toBytes(y, Y_BYTES), 1);
    out.push(share);
  }
  return out;
}

/**
 * Recovers the secret from shares by Lagrange interpolation at 0. With fewer than the threshold
 * the result is not the secret (and usually not even well-formed, which throws).
 * @throws FederationError(FEDERATION_PROTOCOL_VIOLATION) on malformed or duplicate shares, or when the interpolated value is not an encoded secret.
 */
export async function combine(shares: readonly Uint8Array[]): Promise<Uint8Array> {
  if (shares.length < 2) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', 'at least two shares are needed');
  const points = shares.map((s) => {
    if (s.length !== 1 + Y_BYTES || s[0] === 0) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', 'a share is malformed');
    return { x: BigInt(s[0]!), y: toBig(s.subarray(1)) };
  });
  if (new Set(points.map((p) => p.x)).size !== points.length) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', 'duplicate share indices');
  let secret = 0n;
  for (let i = 0; i < points.length; i++) {
    let num = 1n;
    let den = 1n;
    for (let j = 0; j < points.length; j++) {
      if (i === j) continue;
      num = (num * points[j]!.x) % P;
      den = mod(den * (points[j]!.x - points[i]!.x));
    }
    secret = mod(secret + points[i]!.y * num * modPow(den, P - 2n));
  }
  const byteLength = Math.ceil(secret.toString(16).length / 2);
  const encoded = toBytes(secret, byteLength);
  const length = encoded[0] ?? 0;
  if (length === 0 || length > MAX_SECRET_BYTES || byteLength !== length + 1) {
    throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', 'the shares do not interpolate to a secret (too few or inconsistent shares)');
  }
  return encoded.subarray(1);
}
