/**
 * What each participant does to its own update before masking (clip to a norm bound, optional
 * Gaussian noise), and what the coordinator checks on the unmasked sum. Masked updates cannot be
 * inspected one by one, so these two checks are all that bounds a participant's influence.
 *
 * WARNING: a malicious participant can still send any vector of norm at most the bound (a crafted
 * direction, a scaled-up honest update, a backdoor pattern) and the aggregate check cannot tell it
 * from an honest one; it can also skip clipping, which the coordinator sees only when the sum
 * leaves the bound `survivors * normBound`. Clipping bounds the damage, it does not prevent it.
 */
import { randomBytes } from 'node:crypto';
import { FederationError } from './errors.ts';

/** L2 norm of a vector. */
export function l2Norm(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]! * values[i]!;
  return Math.sqrt(s);
}

/** Returns `values` scaled so its L2 norm is at most `normBound` (unchanged when already inside). */
export function clipToNorm(values: ArrayLike<number>, normBound: number): Float64Array {
  const out = Float64Array.from(values as ArrayLike<number>);
  const norm = l2Norm(out);
  if (!Number.isFinite(norm)) throw new FederationError('FEDERATION_ENCODING_INVALID', 'the update holds a value that is not finite; it cannot be clipped');
  if (norm > normBound) for (let i = 0; i < out.length; i++) out[i] = out[i]! * (normBound / norm);
  return out;
}

/** Why the coordinator refused an aggregate. */
export type AggregateRejection = { ok: false; reason: string } | { ok: true; norm: number };

/**
 * The coordinator's check on the unmasked sum of `survivors` clipped updates: every coordinate
 * finite and the L2 norm at most `survivors * normBound` (the triangle inequality's limit for
 * honest clipped updates; DP noise adds `noiseSlack`).
 */
export function checkAggregate(sum: ArrayLike<number>, survivors: number, normBound: number, noiseSlack = 0): AggregateRejection {
  for (let i = 0; i < sum.length; i++) {
    if (!Number.isFinite(sum[i]!)) return { ok: false, reason: `aggregate coordinate ${i} is ${sum[i]} (not finite)` };
  }
  const norm = l2Norm(sum);
  const limit = survivors * normBound + noiseSlack;
  if (norm > limit) return { ok: false, reason: `aggregate norm ${norm.toPrecision(6)} exceeds the bound ${limit.toPrecision(6)} (${survivors} participants x norm bound ${normBound})` };
  return { ok: true, norm };
}

/** {@link checkAggregate} that throws FederationError(FEDERATION_AGGREGATE_REJECTED) with the reason. */
export function assertAggregate(sum: ArrayLike<number>, survivors: number, normBound: number, noiseSlack = 0): number {
  const verdict = checkAggregate(sum, survivors, normBound, noiseSlack);
  if (!verdict.ok) throw new FederationError('FEDERATION_AGGREGATE_REJECTED', `aggregate rejected: ${verdict.reason}`);
  return verdict.norm;
}

/** Differential-privacy settings of a federation (participant-level, add/remove one participant's clipped update). */
export interface GaussianDpOptions {
  /** Standard deviation of the noise in the aggregate, in units of the update (not of the norm bound). */
  readonly aggregateSigma: number;
  /** Expected number of participants contributing; each adds sigma / sqrt(expected) so the sum carries sigma. */
  readonly expectedParticipants: number;
  /** The delta of (epsilon, delta)-DP. */
  readonly delta: number;
}

/** One standard normal draw from the OS CSPRNG (Box-Muller over two 53-bit uniforms). */
function standardNormal(): number {
  const b = randomBytes(16);
  const u1 = (Number(b.readBigUInt64BE(0) >> 11n) + 1) / 2 ** 53;
  const u2 = Number(b.readBigUInt64BE(8) >> 11n) / 2 ** 53;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Adds this participant's share of the Gaussian noise to an already clipped update. */
export function addGaussianShare(values: Float64Array, dp: GaussianDpOptions): Float64Array {
  const sigma = dp.aggregateSigma / Math.sqrt(dp.expectedParticipants);
  const out = Float64Array.from(values);
  for (let i = 0; i < out.length; i++) out[i] = out[i]! + sigma * standardNormal();
  return out;
}

/**
 * Epsilon of the Gaussian mechanism for one aggregate: sensitivity `normBound` (one participant's
 * clipped update), noise `aggregateSigma`: epsilon = normBound * sqrt(2 ln(1.25 / delta)) / sigma
 * (Dwork & Roth, Thm A.1; the classical bound holds for epsilon < 1, larger values are reported
 * as computed and flagged). Over `rounds` rounds, basic composition: rounds * epsilon, rounds * delta.
 * When participants drop out the noise in the sum shrinks by sqrt(survivors / expected); the
 * epsilon reported uses the survivors actually seen.
 */
export function gaussianEpsilon(normBound: number, dp: GaussianDpOptions, rounds = 1, survivors = dp.expectedParticipants): { epsilonPerRound: number; epsilonTotal: number; deltaTotal: number; classicalBoundHolds: boolean } {
  const effectiveSigma = dp.aggregateSigma * Math.sqrt(survivors / dp.expectedParticipants);
  const epsilonPerRound = (normBound * Math.sqrt(2 * Math.log(1.25 / dp.delta))) / effectiveSigma;
  return { epsilonPerRound, epsilonTotal: rounds * epsilonPerRound, deltaTotal: rounds * dp.delta, classicalBoundHolds: epsilonPerRound < 1 };
}
