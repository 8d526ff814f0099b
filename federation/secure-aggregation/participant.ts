/**
 * One participant's side of a secure-aggregation round: a state machine fed the coordinator's
 * signed messages, answering with its own signed messages. It checks every coordinator message
 * against the registry and refuses anything out of order. See protocol.ts for the steps.
 */
import { createHash, randomBytes } from 'node:crypto';
import { addGaussianShare, clipToNorm } from './clipping.ts';
import { FederationError } from './errors.ts';
import { encodeFixedPoint, ringAddInPlace, ringSubInPlace, assertRingCapacity } from './fixed-point.ts';
import { signMessage, type Identity, type ParticipantRegistry, type SignedMessage } from './identity.ts';
import { expandMask, generateAgreementKey, openShare, pairwiseKey, rawPrivateKey, ringToBase64, sealShare, selfMaskKey, type AgreementKeyPair } from './masks.ts';
import { KIND, type AdvertiseBody, type DeliverBody, type MaskedBody, type RevealBody, type RoundParameters, type SharePlaintext, type SharesBody, type UnmaskBody } from './protocol.ts';
import { split } from 'shamir-secret-sharing';

type Stage = 'new' | 'advertised' | 'shared' | 'masked' | 'revealed';

export interface ParticipantRoundDeps {
  readonly identity: Identity;
  /** Registered participants' keys. */
  readonly registry: ParticipantRegistry;
  /** The coordinator's registered key (a registry of one). */
  readonly coordinator: ParticipantRegistry;
  readonly federation: string;
  /**
   * Fewest participants whose sum this participant will take part in (default 2). A sum over few
   * parties says more about each: an insurer may ask for more, and then refuses a round that
   * invites fewer or unmasks with fewer survivors.
   */
  readonly minParticipants?: number;
}

export function validateParameters(p: RoundParameters): void {
  const n = p.participants.length;
  if (new Set(p.participants).size !== n) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', 'the announcement lists a participant twice');
  if (n < 2) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', 'a round needs at least two participants');
  if (!Number.isInteger(p.threshold) || p.threshold <= n / 2 || p.threshold > n) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `threshold ${p.threshold} must be an integer above half of ${n} participants and at most ${n}`);
  if (!Number.isInteger(p.vectorLength) || p.vectorLength < 1) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `vector length ${p.vectorLength} must be a positive integer`);
  if (!(p.dpSigma >= 0)) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `dp sigma ${p.dpSigma} must be >= 0`);
  assertRingCapacity(n, p.normBound + 8 * p.dpSigma, p.fractionalBits);
}

/**
 * A participant in one round. Create one per round; `update` is the vector it contributes
 * (clipped to the announced norm bound here, before masking).
 */
export class ParticipantRound {
  readonly #deps: ParticipantRoundDeps;
  readonly #update: Float64Array;
  #stage: Stage = 'new';
  #round = '';
  #params: RoundParameters | undefined;
  #maskKey: AgreementKeyPair | undefined;
  #shareKey: AgreementKeyPair | undefined;
  #seed: Uint8Array | undefined;
  /** Other participants' adverts (verified). */
  #peers = new Map<string, AdvertiseBody>();
  /** Shares others dealt to this participant, by dealer. */
  #held = new Map<string, SharePlaintext>();
  /** U1 as this participant saw it (dealers whose shares reached it, plus itself). */
  #u1: string[] = [];

  constructor(deps: ParticipantRoundDeps, update: ArrayLike<number>) {
    this.#deps = deps;
    this.#update = Float64Array.from(update as ArrayLike<number>);
  }

  get id(): string {
    return this.#deps.identity.id;
  }

  /** Step 1 -> 2: checks the announcement, answers with its advert. */
  onAnnounce(message: SignedMessage<RoundParameters>): SignedMessage<AdvertiseBody> {
    this.#expect('new');
    const m = this.#deps.coordinator.verify(message, { federation: this.#deps.federation, kind: KIND.announce });
    validateParameters(m.body);
    for (const id of m.body.participants) {
      if (!this.#deps.registry.has(id)) throw new FederationError('FEDERATION_PARTICIPANT_UNREGISTERED', `the announcement invites ${JSON.stringify(id)}, who is not registered; round refused`);
    }
    const floor = this.#deps.minParticipants ?? 2;
    if (m.body.participants.length < floor) throw new FederationError('FEDERATION_TOO_FEW_SURVIVORS', `the round invites ${m.body.participants.length} participants; ${this.id} takes part in sums of at least ${floor}`);
    if (!m.body.participants.includes(this.id)) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `${this.id} is not invited to round ${m.round}`);
    if (m.body.vectorLength !== this.#update.length) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `the round expects ${m.body.vectorLength} coordinates, this update has ${this.#update.length}`);
    this.#round = m.round;
    this.#params = m.body;
    this.#maskKey = generateAgreementKey();
    this.#shareKey = generateAgreementKey();
    this.#seed = new Uint8Array(randomBytes(32));
    this.#stage = 'advertised';
    return this.#sign(KIND.advertise, { maskPublicKey: this.#maskKey.publicKey, sharePublicKey: this.#shareKey.publicKey });
  }

  /** Step 3 -> 4: checks every advert itself, deals its shares to each peer. */
  async onRoster(message: SignedMessage<{ adverts: SignedMessage<AdvertiseBody>[] }>): Promise<SignedMessage<SharesBody>> {
    this.#expect('advertised');
    const params = this.#params!;
    const m = this.#deps.coordinator.verify(message, { federation: this.#deps.federation, round: this.#round, kind: KIND.roster });
    const seen = new Set<string>();
    for (const advert of m.body.adverts) {
      const a = this.#deps.registry.verify(advert, { federation: this.#deps.federation, round: this.#round, kind: KIND.advertise });
      if (!params.participants.includes(a.from)) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `the roster holds ${a.from}, who was not invited`);
      if (seen.has(a.from)) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `the roster holds ${a.from} twice`);
      seen.add(a.from);
      if (a.from === this.id) {
        if (a.body.maskPublicKey !== this.#maskKey!.publicKey) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', 'the roster carries another advert for this participant');
      } else this.#peers.set(a.from, a.body);
    }
    if (!seen.has(this.id)) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', 'the roster leaves this participant out');
    if (seen.size < params.threshold) throw new FederationError('FEDERATION_TOO_FEW_SURVIVORS', `${seen.size} participants advertised keys, the threshold is ${params.threshold}`);
    // Share indices follow the announcement's order, so every dealer gives participant k the share x = k + 1.
    const n = params.participants.length;
    const seedShares = await split(new Uint8Array(this.#seed!), n, params.threshold);
    const keyShares = await split(new Uint8Array(rawPrivateKey(this.#maskKey!.privateKey)), n, params.threshold);
    const sealed: Record<string, string> = {};
    for (const [peer, advert] of this.#peers) {
      const k = params.participants.indexOf(peer);
      const plain: SharePlaintext = { seedShare: Buffer.from(seedShares[k]!).toString('hex'), maskKeyShare: Buffer.from(keyShares[k]!).toString('hex') };
      const key = pairwiseKey(this.#shareKey!.privateKey, advert.sharePublicKey, this.#round, 'share', this.id, peer);
      sealed[peer] = sealShare(key, this.id, peer, this.#round, Buffer.from(JSON.stringify(plain)));
    }
    const own = params.participants.indexOf(this.id);
    this.#held.set(this.id, { seedShare: Buffer.from(seedShares[own]!).toString('hex'), maskKeyShare: Buffer.from(keyShares[own]!).toString('hex') });
    this.#stage = 'shared';
    return this.#sign(KIND.shares, { sealed });
  }

  /** Step 5 -> 6: opens the shares dealt to it and sends its double-masked update. */
  onDeliver(message: SignedMessage<DeliverBody>): SignedMessage<MaskedBody> {
    this.#expect('shared');
    const params = this.#params!;
    const m = this.#deps.coordinator.verify(message, { federation: this.#deps.federation, round: this.#round, kind: KIND.deliver });
    if (m.body.to !== this.id) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `a delivery for ${m.body.to} reached ${this.id}`);
    const u1 = [this.id];
    for (const [dealer, sealed] of Object.entries(m.body.sealed)) {
      const advert = this.#peers.get(dealer);
      if (!advert) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `shares from ${dealer}, who is not on the roster`);
      const key = pairwiseKey(this.#shareKey!.privateKey, advert.sharePublicKey, this.#round, 'share', this.id, dealer);
      this.#held.set(dealer, JSON.parse(openShare(key, dealer, this.id, this.#round, sealed).toString('utf8')) as SharePlaintext);
      u1.push(dealer);
    }
    if (u1.length < params.threshold) throw new FederationError('FEDERATION_TOO_FEW_SURVIVORS', `${u1.length} participants dealt shares, the threshold is ${params.threshold}`);
    this.#u1 = u1.sort();

    let x = clipToNorm(this.#update, params.normBound);
    if (params.dpSigma > 0) x = addGaussianShare(x, { aggregateSigma: params.dpSigma, expectedParticipants: params.participants.length, delta: 1e-5 });
    const y = encodeFixedPoint(x, params.fractionalBits);
    ringAddInPlace(y, expandMask(selfMaskKey(this.#seed!, this.#round), params.vectorLength));
    for (const peer of this.#u1) {
      if (peer === this.id) continue;
      const mask = expandMask(pairwiseKey(this.#maskKey!.privateKey, this.#peers.get(peer)!.maskPublicKey, this.#round, 'mask', this.id, peer), params.vectorLength);
      if (this.id < peer) ringAddInPlace(y, mask);
      else ringSubInPlace(y, mask);
    }
    const masked = ringToBase64(y);
    const commitment = createHash('sha256').update(Buffer.from(masked, 'base64')).digest('hex');
    this.#stage = 'masked';
    return this.#sign(KIND.masked, { masked, commitment });
  }

  /**
   * Step 7 -> 8: reveals, for each survivor, its seed share and, for each dropped participant,
   * its mask-key share. Answers once per round; refuses a list that puts one participant in
   * both sets, leaves U1, or is below the threshold.
   */
  onUnmask(message: SignedMessage<UnmaskBody>): SignedMessage<RevealBody> {
    this.#expect('masked');
    const params = this.#params!;
    const m = this.#deps.coordinator.verify(message, { federation: this.#deps.federation, round: this.#round, kind: KIND.unmask });
    const { survivors, dropped } = m.body;
    const all = [...survivors, ...dropped];
    if (new Set(all).size !== all.length) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', 'the unmask request names a participant as both survivor and dropped');
    if (all.length !== this.#u1.length || !all.every((id) => this.#u1.includes(id))) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', 'the unmask request does not partition the participants who dealt shares');
    if (!survivors.includes(this.id)) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', 'the unmask request lists this participant as dropped');
    if (survivors.length < params.threshold) throw new FederationError('FEDERATION_TOO_FEW_SURVIVORS', `${survivors.length} survivors, the threshold is ${params.threshold}`);
    if (survivors.length < (this.#deps.minParticipants ?? 2)) throw new FederationError('FEDERATION_TOO_FEW_SURVIVORS', `${survivors.length} survivors; ${this.id} reveals only for sums of at least ${this.#deps.minParticipants}`);
    const seedShares: Record<string, string> = {};
    const maskKeyShares: Record<string, string> = {};
    for (const id of survivors) seedShares[id] = this.#held.get(id)!.seedShare;
    for (const id of dropped) maskKeyShares[id] = this.#held.get(id)!.maskKeyShare;
    this.#stage = 'revealed';
    return this.#sign(KIND.reveal, { seedShares, maskKeyShares });
  }

  #expect(stage: Stage): void {
    if (this.#stage !== stage) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `${this.id} is at step ${this.#stage}, not ${stage}; message refused`);
  }

  #sign<B>(kind: string, body: B): SignedMessage<B> {
    return signMessage(this.#deps.identity, this.#deps.federation, this.#round, kind, body);
  }
}
