/**
 * The coordinator's side of a secure-aggregation round. It relays and sums; it learns the sum of
 * the survivors' updates and nothing about any single one (unless t participants collude with
 * it). Every incoming message is checked against the registry first: unregistered senders,
 * bad signatures, wrong rounds, duplicates and late messages are refused with a FederationError.
 */
import { createHash, randomBytes } from 'node:crypto';
import { canonicalBytes } from '../../anchoring/core/canonical-json.ts';
import { assertAggregate } from './clipping.ts';
import { FederationError } from './errors.ts';
import { decodeFixedPoint, ringAddInPlace, ringSubInPlace } from './fixed-point.ts';
import { signMessage, type Identity, type ParticipantRegistry, type SignedMessage } from './identity.ts';
import { expandMask, pairwiseKey, privateKeyFromRaw, ringFromBase64, selfMaskKey } from './masks.ts';
import { validateParameters } from './participant.ts';
import { KIND, type AdvertiseBody, type DeliverBody, type MaskedBody, type RevealBody, type RoundParameters, type RoundResult, type SharesBody, type UnmaskBody } from './protocol.ts';
import { combine } from 'shamir-secret-sharing';

type Stage = 'collect-adverts' | 'collect-shares' | 'collect-masked' | 'collect-reveals' | 'done';

export interface CoordinatorRoundDeps {
  readonly identity: Identity;
  readonly registry: ParticipantRegistry;
  readonly federation: string;
}

/** A fresh random round id (hex), unique per round so masks are never reused. */
export function newRoundId(): string {
  return randomBytes(16).toString('hex');
}

export class CoordinatorRound {
  readonly #deps: CoordinatorRoundDeps;
  readonly #params: RoundParameters;
  readonly round: string;
  #stage: Stage = 'collect-adverts';
  #bytes = 0;
  readonly #adverts = new Map<string, SignedMessage<AdvertiseBody>>();
  readonly #shares = new Map<string, SharesBody>();
  readonly #masked = new Map<string, MaskedBody>();
  readonly #reveals = new Map<string, RevealBody>();
  #unmask: UnmaskBody | undefined;

  constructor(deps: CoordinatorRoundDeps, params: RoundParameters, round = newRoundId()) {
    for (const id of params.participants) {
      if (!deps.registry.has(id)) throw new FederationError('FEDERATION_PARTICIPANT_UNREGISTERED', `${JSON.stringify(id)} is not a registered participant and cannot be invited`);
    }
    validateParameters(params);
    this.#deps = deps;
    this.#params = Object.freeze({ ...params, participants: Object.freeze([...params.participants]) });
    this.round = round;
  }

  get parameters(): RoundParameters {
    return this.#params;
  }

  get stage(): Stage {
    return this.#stage;
  }

  announce(): SignedMessage<RoundParameters> {
    return this.#sign(KIND.announce, this.#params);
  }

  receiveAdvert(message: SignedMessage<AdvertiseBody>): void {
    this.#expect('collect-adverts');
    const m = this.#accept(message, KIND.advertise, this.#adverts);
    this.#adverts.set(m.from, m);
  }

  /** Closes key collection; the roster goes to every participant who advertised. */
  roster(): SignedMessage<{ adverts: SignedMessage<AdvertiseBody>[] }> {
    this.#expect('collect-adverts');
    this.#need(this.#adverts.size, 'advertised keys');
    this.#stage = 'collect-shares';
    return this.#sign(KIND.roster, { adverts: [...this.#adverts.values()] });
  }

  receiveShares(message: SignedMessage<SharesBody>): void {
    this.#expect('collect-shares');
    const m = this.#accept(message, KIND.shares, this.#shares);
    if (!this.#adverts.has(m.from)) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `${m.from} deals shares but advertised no keys`);
    for (const to of Object.keys(m.body.sealed)) {
      if (!this.#adverts.has(to) || to === m.from) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `${m.from} deals a share to ${to}, who is not on the roster`);
    }
    this.#shares.set(m.from, m.body);
  }

  /** Closes share collection (U1 = the dealers); one delivery per dealer. */
  deliveries(): Map<string, SignedMessage<DeliverBody>> {
    this.#expect('collect-shares');
    this.#need(this.#shares.size, 'dealt shares');
    this.#stage = 'collect-masked';
    const out = new Map<string, SignedMessage<DeliverBody>>();
    for (const to of this.#shares.keys()) {
      const sealed: Record<string, string> = {};
      for (const [from, body] of this.#shares) if (from !== to && body.sealed[to] !== undefined) sealed[from] = body.sealed[to];
      out.set(to, this.#sign(KIND.deliver, { to, sealed }));
    }
    return out;
  }

  receiveMasked(message: SignedMessage<MaskedBody>): void {
    if (this.#stage !== 'collect-masked') {
      throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `masked update of ${String(message.from)} arrived after masked-update collection closed; it is refused and stays masked`);
    }
    const m = this.#accept(message, KIND.masked, this.#masked);
    if (!this.#shares.has(m.from)) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `${m.from} sends a masked update but dealt no shares`);
    const bytes = ringFromBase64(m.body.masked, this.#params.vectorLength);
    const commitment = createHash('sha256').update(Buffer.from(bytes.buffer)).digest('hex');
    if (commitment !== m.body.commitment) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `the commitment of ${m.from} does not match its masked update`);
    this.#masked.set(m.from, m.body);
  }

  /** Closes masked-update collection: who survived, who dropped after dealing shares. */
  unmaskRequest(): SignedMessage<UnmaskBody> {
    this.#expect('collect-masked');
    this.#need(this.#masked.size, 'masked updates');
    const survivors = [...this.#masked.keys()].sort();
    const dropped = [...this.#shares.keys()].filter((id) => !this.#masked.has(id)).sort();
    this.#unmask = { survivors, dropped };
    this.#stage = 'collect-reveals';
    return this.#sign(KIND.unmask, this.#unmask);
  }

  receiveReveal(message: SignedMessage<RevealBody>): void {
    this.#expect('collect-reveals');
    const m = this.#accept(message, KIND.reveal, this.#reveals);
    if (!this.#unmask!.survivors.includes(m.from)) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `${m.from} reveals shares but is not a survivor`);
    this.#reveals.set(m.from, m.body);
  }

  /**
   * Removes the masks and checks the aggregate.
   * @throws FederationError FEDERATION_TOO_FEW_SURVIVORS (fewer than t reveals), FEDERATION_AGGREGATE_REJECTED (not finite or beyond `survivors x normBound`).
   */
  async finish(): Promise<RoundResult> {
    this.#expect('collect-reveals');
    this.#need(this.#reveals.size, 'reveals');
    const { vectorLength, normBound, fractionalBits, dpSigma } = this.#params;
    const { survivors, dropped } = this.#unmask!;
    const sum = new BigUint64Array(vectorLength);
    for (const id of survivors) ringAddInPlace(sum, ringFromBase64(this.#masked.get(id)!.masked, vectorLength));
    for (const id of survivors) {
      const shares = [...this.#reveals.values()].map((r) => r.seedShares[id]).filter((s): s is string => s !== undefined);
      const seed = await combine(shares.map((s) => new Uint8Array(Buffer.from(s, 'hex'))));
      ringSubInPlace(sum, expandMask(selfMaskKey(seed, this.round), vectorLength));
    }
    for (const id of dropped) {
      const shares = [...this.#reveals.values()].map((r) => r.maskKeyShares[id]).filter((s): s is string => s !== undefined);
      const key = privateKeyFromRaw(await combine(shares.map((s) => new Uint8Array(Buffer.from(s, 'hex')))), this.#adverts.get(id)!.body.maskPublicKey);
      for (const survivor of survivors) {
        const mask = expandMask(pairwiseKey(key, this.#adverts.get(survivor)!.body.maskPublicKey, this.round, 'mask', id, survivor), vectorLength);
        // The survivor added +mask when its id sorts below the dropped one, -mask otherwise.
        if (survivor < id) ringSubInPlace(sum, mask);
        else ringAddInPlace(sum, mask);
      }
    }
    const decoded = decodeFixedPoint(sum, fractionalBits);
    assertAggregate(decoded, survivors.length, normBound, dpSigma > 0 ? 6 * dpSigma * Math.sqrt(vectorLength) : 0);
    this.#stage = 'done';
    const commitments: Record<string, string> = {};
    for (const id of survivors) commitments[id] = this.#masked.get(id)!.commitment;
    return { sum: decoded, survivors, dropped, commitments, bytesExchanged: this.#bytes };
  }

  #accept<B>(message: SignedMessage<B>, kind: string, seen: Map<string, unknown>): SignedMessage<B> {
    const m = this.#deps.registry.verify(message, { federation: this.#deps.federation, round: this.round, kind });
    if (!this.#params.participants.includes(m.from)) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `${m.from} is registered but not invited to round ${this.round}`);
    if (seen.has(m.from)) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `a second ${kind} message from ${m.from} in round ${this.round}`);
    this.#bytes += canonicalBytes(m).length;
    return m;
  }

  #need(count: number, what: string): void {
    if (count < this.#params.threshold) throw new FederationError('FEDERATION_TOO_FEW_SURVIVORS', `only ${count} participants ${what}; the threshold is ${this.#params.threshold}`);
  }

  #expect(stage: Stage): void {
    if (this.#stage !== stage) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `the round is at ${this.#stage}, not ${stage}`);
  }

  #sign<B>(kind: string, body: B): SignedMessage<B> {
    const m = signMessage(this.#deps.identity, this.#deps.federation, this.round, kind, body);
    this.#bytes += canonicalBytes(m).length;
    return m;
  }
}
