/**
 * The messages of one secure-aggregation round (after Bonawitz et al., CCS 2017, "Practical
 * Secure Aggregation for Privacy-Preserving Machine Learning", with double masking), in order:
 *
 *  1. `announce` (coordinator): round parameters and the registered participants invited.
 *  2. `advertise` (participant): two fresh X25519 public keys (mask, share encryption).
 *  3. `roster` (coordinator): every signed advert received; each participant re-checks each one
 *     against the registry, so the coordinator can neither add a participant nor swap a key.
 *  4. `shares` (participant): for every other participant, an AES-GCM sealed pair of Shamir
 *     shares, of its self-mask seed and of its mask secret key, with threshold t.
 *  5. `deliver` (coordinator -> one participant): the sealed shares addressed to it; their senders
 *     are the set U1 whose pairwise masks everyone now adds.
 *  6. `masked` (participant): y = encode(clip(x)) + PRG(seed) + Σ_{j>i} PRG(s_ij) - Σ_{j<i} PRG(s_ij).
 *  7. `unmask` (coordinator): who sent a masked update (survivors U2) and who dropped (U1 \ U2).
 *  8. `reveal` (participant): for each survivor its self-seed share, for each dropped participant
 *     its mask-key share, never both for one participant, and only once per round. That is what
 *     keeps a dropped participant's late update masked: its seed shares are never revealed.
 *
 * A coordinator that sends different `unmask` lists to different participants could collect both
 * kinds of share for one participant; requiring t > n/2 and one answer per participant per round
 * means at most one list can gather t answers, as in the paper's semi-honest-server setting. The
 * paper's consistency-check round (signatures over U2 exchanged among participants) is not built.
 */

export const KIND = {
  announce: 'secagg.announce',
  advertise: 'secagg.advertise',
  roster: 'secagg.roster',
  shares: 'secagg.shares',
  deliver: 'secagg.deliver',
  masked: 'secagg.masked',
  unmask: 'secagg.unmask',
  reveal: 'secagg.reveal',
} as const;

/** Round parameters, fixed by the coordinator's signed announcement. */
export interface RoundParameters {
  /** Invited participants (registered ids), in share-index order: the k-th gets Shamir share x = k + 1. */
  readonly participants: readonly string[];
  /** Shares needed to reconstruct; more than half of the participants. */
  readonly threshold: number;
  /** Number of coordinates of every update. */
  readonly vectorLength: number;
  /** L2 norm each participant clips its update to. */
  readonly normBound: number;
  /** Fixed-point fractional bits (precision 2^-bits). */
  readonly fractionalBits: number;
  /** Participant-level Gaussian DP: sigma of the noise in the sum, or 0 for none. */
  readonly dpSigma: number;
}

export interface AdvertiseBody {
  readonly maskPublicKey: string;
  readonly sharePublicKey: string;
}

export interface SharesBody {
  /** Recipient id -> sealed {@link SharePlaintext}, base64. */
  readonly sealed: Readonly<Record<string, string>>;
}

/** What one participant deals another (hex of Shamir shares). */
export interface SharePlaintext {
  readonly seedShare: string;
  readonly maskKeyShare: string;
}

export interface DeliverBody {
  /** The recipient (signed, so a relay cannot redirect a delivery). */
  readonly to: string;
  /** Sender id -> sealed shares for this recipient. */
  readonly sealed: Readonly<Record<string, string>>;
}

export interface MaskedBody {
  /** Masked ring vector, little-endian u64, base64. */
  readonly masked: string;
  /** sha256 of the masked bytes, hex: the commitment anchored on chain. */
  readonly commitment: string;
}

export interface UnmaskBody {
  readonly survivors: readonly string[];
  readonly dropped: readonly string[];
}

export interface RevealBody {
  /** Survivor id -> this participant's share of its self-mask seed (hex). */
  readonly seedShares: Readonly<Record<string, string>>;
  /** Dropped id -> this participant's share of its mask secret key (hex). */
  readonly maskKeyShares: Readonly<Record<string, string>>;
}

/** What the coordinator ends a round with. */
export interface RoundResult {
  /** Unmasked sum of the survivors' clipped (and noised) updates, decoded. */
  readonly sum: Float64Array;
  readonly survivors: readonly string[];
  readonly dropped: readonly string[];
  /** Survivor id -> sha256 commitment of its masked update. */
  readonly commitments: Readonly<Record<string, string>>;
  /** Bytes of every message of the round, as sent (canonical JSON). */
  readonly bytesExchanged: number;
}
