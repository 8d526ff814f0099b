import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertAggregate, checkAggregate, clipToNorm, gaussianEpsilon, l2Norm } from '../../../federation/secure-aggregation/clipping.ts';
import { FederationError } from '../../../federation/secure-aggregation/errors.ts';
import { decodeFixedPoint, encodeFixedPoint, ringAddInPlace } from '../../../federation/secure-aggregation/fixed-point.ts';
import { generateIdentity, signMessage, type SignedMessage } from '../../../federation/secure-aggregation/identity.ts';
import { CoordinatorRound } from '../../../federation/secure-aggregation/coordinator.ts';
import { ParticipantRound } from '../../../federation/secure-aggregation/participant.ts';
import { runLocalRound } from '../../../federation/secure-aggregation/local-round.ts';
import { expandMask, pairwiseKey, privateKeyFromRaw, ringFromBase64, ringToBase64 } from '../../../federation/secure-aggregation/masks.ts';
import { KIND, type AdvertiseBody, type MaskedBody, type RevealBody } from '../../../federation/secure-aggregation/protocol.ts';
import { combine, split } from 'shamir-secret-sharing';
import { FEDERATION, setup } from './secure-aggregation.fixtures.ts';

/** The exact ring sum of the participants' clipped, encoded updates: what the protocol must return. */
function exactSum(updates: readonly number[][], normBound = 100): Float64Array {
  const acc = new BigUint64Array(updates[0]!.length);
  for (const u of updates) ringAddInPlace(acc, encodeFixedPoint(clipToNorm(u, normBound)));
  return decodeFixedPoint(acc);
}

async function expectFederationError(p: Promise<unknown> | (() => unknown), code: string, message?: RegExp): Promise<void> {
  let caught: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(FederationError);
  expect((caught as FederationError).code).toBe(code);
  if (message) expect((caught as Error).message).toMatch(message);
}

const vectorArb = (len: number) => fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: len, maxLength: len });

describe('fixed-point ring', () => {
  it('property: decode(encode(x)) is within 2^-25 of x, and ring sums decode to the float sum within n * 2^-25', () => {
    fc.assert(
      fc.property(fc.array(vectorArb(6), { minLength: 1, maxLength: 6 }), (vs) => {
        const acc = new BigUint64Array(6);
        for (const v of vs) {
          const enc = encodeFixedPoint(v);
          decodeFixedPoint(enc).forEach((d, i) => expect(Math.abs(d - v[i]!)).toBeLessThanOrEqual(2 ** -25 + 1e-12));
          ringAddInPlace(acc, enc);
        }
        const sum = decodeFixedPoint(acc);
        for (let i = 0; i < 6; i++) expect(Math.abs(sum[i]! - vs.reduce((s, v) => s + v[i]!, 0))).toBeLessThanOrEqual(vs.length * 2 ** -25 + 1e-9);
      }),
    );
  });

  it('refuses NaN, Infinity and values beyond the ring', async () => {
    await expectFederationError(() => encodeFixedPoint([1, Number.NaN]), 'FEDERATION_ENCODING_INVALID', /coordinate 1 is NaN/);
    await expectFederationError(() => encodeFixedPoint([Infinity]), 'FEDERATION_ENCODING_INVALID');
    await expectFederationError(() => encodeFixedPoint([2 ** 40]), 'FEDERATION_ENCODING_INVALID', /beyond the ring/);
  });
});

describe('Shamir sharing', () => {
  it('property: any t of n shares recover a 32-byte secret; t - 1 shares do not', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.integer({ min: 2, max: 7 }), fc.integer({ min: 0, max: 100 }), async (secret, n, pick) => {
        const t = Math.floor(n / 2) + 1;
        const shares = await split(secret, n, t);
        const start = pick % (n - t + 1);
        expect(Buffer.from(await combine(shares.slice(start, start + t)))).toEqual(Buffer.from(secret));
        if (t - 1 >= 2) {
          const few = await combine(shares.slice(0, t - 1)).catch(() => undefined);
          expect(few === undefined || !Buffer.from(few).equals(Buffer.from(secret))).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('keeps leading zero bytes of the secret', async () => {
    const secret = new Uint8Array(32);
    secret[31] = 7;
    expect(Buffer.from(await combine((await split(secret, 3, 2)).slice(1)))).toEqual(Buffer.from(secret));
  });
});

describe('secure aggregation round', () => {
  it('property: masks cancel exactly, the coordinator gets the exact ring sum of the clipped updates', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 5 }).chain((n) => fc.array(vectorArb(4), { minLength: n, maxLength: n })), async (updates) => {
        const { coordinator, participants } = setup(updates);
        const { result } = await runLocalRound(coordinator, participants);
        expect(Array.from(result.sum)).toEqual(Array.from(exactSum(updates)));
        expect(result.dropped).toEqual([]);
        expect(Object.keys(result.commitments).sort()).toEqual(participants.map((p) => p.id).sort());
      }),
      { numRuns: 25 },
    );
  });

  it('each masked update on its own looks nothing like its input (the self and pairwise masks cover every coordinate)', async () => {
    const updates = [[1, 2, 3], [4, 5, 6], [7, 8, 9]];
    const { coordinator, participants } = setup(updates);
    const { undelivered } = await runLocalRound(coordinator, participants, { dropAfterMasking: new Set(['insurer-2']) });
    const masked = ringFromBase64(undelivered.get('insurer-2')!.body.masked, 3);
    const decoded = decodeFixedPoint(masked);
    decoded.forEach((d, i) => expect(Math.abs(d - updates[2]![i]!)).toBeGreaterThan(1));
  });

  it('clips each update to the norm bound before masking', async () => {
    const updates = [[300, 400], [0.3, 0.4], [0, 1]];
    const { coordinator, participants } = setup(updates, { normBound: 5 });
    const { result } = await runLocalRound(coordinator, participants);
    expect(Array.from(result.sum)).toEqual(Array.from(exactSum(updates, 5)));
    expect(result.sum[0]).toBeCloseTo(3 + 0.3, 6);
  });

  it('a participant dropped after masking: the round completes with the exact sum of the survivors', async () => {
    const updates = [[1.5, -2, 3], [0.25, 4, -1], [-3, 0.5, 2], [2, 2, 2], [0, -1, 7]];
    const { coordinator, participants } = setup(updates);
    const { result } = await runLocalRound(coordinator, participants, { dropAfterMasking: new Set(['insurer-1', 'insurer-3']) });
    expect(result.dropped).toEqual(['insurer-1', 'insurer-3']);
    expect(result.survivors).toEqual(['insurer-0', 'insurer-2', 'insurer-4']);
    expect(Array.from(result.sum)).toEqual(Array.from(exactSum([updates[0]!, updates[2]!, updates[4]!])));
  });

  it("a dropped participant's late update is refused and stays masked even with its mask key reconstructed", async () => {
    const updates = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]];
    const { coordinator, participants, coordinatorId } = setup(updates);
    const announce = coordinator.announce();
    const adverts = participants.map((p) => p.onAnnounce(announce));
    adverts.forEach((a) => coordinator.receiveAdvert(a));
    const roster = coordinator.roster();
    for (const p of participants) coordinator.receiveShares(await p.onRoster(roster));
    const deliveries = coordinator.deliveries();
    const masked = participants.map((p) => p.onDeliver(deliveries.get(p.id)!));
    coordinator.receiveMasked(masked[0]!);
    coordinator.receiveMasked(masked[1]!);
    const unmask = coordinator.unmaskRequest();
    const reveals: SignedMessage<RevealBody>[] = [participants[0]!.onUnmask(unmask), participants[1]!.onUnmask(unmask)];
    reveals.forEach((r) => coordinator.receiveReveal(r));
    const result = await coordinator.finish();
    expect(Array.from(result.sum)).toEqual(Array.from(exactSum([updates[0]!, updates[1]!])));

    // The late update is refused by the coordinator.
    await expectFederationError(() => coordinator.receiveMasked(masked[2]!), 'FEDERATION_PROTOCOL_VIOLATION', /after masked-update collection closed.*stays masked/);

    // A curious coordinator holding the late update and everything revealed: the mask key of the
    // dropped participant removes its pairwise masks, but its self mask stays on.
    const late = ringFromBase64(masked[2]!.body.masked, 4);
    const key = privateKeyFromRaw(await combine(reveals.map((r) => new Uint8Array(Buffer.from(r.body.maskKeyShares['insurer-2']!, 'hex')))), adverts[2]!.body.maskPublicKey);
    for (const [k, survivor] of ['insurer-0', 'insurer-1'].entries()) {
      const mask = expandMask(pairwiseKey(key, adverts[k]!.body.maskPublicKey, coordinator.round, 'mask', 'insurer-2', survivor), 4);
      ringAddInPlace(late, mask); // insurer-2 sorts above both survivors, so it had subtracted these masks
    }
    const stripped = decodeFixedPoint(late);
    stripped.forEach((d, i) => expect(Math.abs(d - updates[2]![i]!)).toBeGreaterThan(1));
    // No reveal carries a seed share of the dropped participant, and a second unmask request is refused.
    for (const r of reveals) expect(r.body.seedShares['insurer-2']).toBeUndefined();
    const forged = signMessage(coordinatorId, FEDERATION, coordinator.round, KIND.unmask, { survivors: ['insurer-0', 'insurer-1', 'insurer-2'], dropped: [] });
    await expectFederationError(() => participants[0]!.onUnmask(forged), 'FEDERATION_PROTOCOL_VIOLATION', /at step revealed, not masked/);
  });

  it('t - 1 reveals cannot unmask: the coordinator refuses to finish, and t - 1 seed shares do not give the seed', async () => {
    const updates = [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]];
    const { coordinator, participants } = setup(updates); // t = 3
    const announce = coordinator.announce();
    participants.forEach((p) => coordinator.receiveAdvert(p.onAnnounce(announce)));
    const roster = coordinator.roster();
    for (const p of participants) coordinator.receiveShares(await p.onRoster(roster));
    const deliveries = coordinator.deliveries();
    const masked = participants.map((p) => p.onDeliver(deliveries.get(p.id)!));
    masked.forEach((m) => coordinator.receiveMasked(m));
    const unmask = coordinator.unmaskRequest();
    const reveals = participants.slice(0, 2).map((p) => p.onUnmask(unmask));
    reveals.forEach((r) => coordinator.receiveReveal(r));
    await expectFederationError(coordinator.finish(), 'FEDERATION_TOO_FEW_SURVIVORS', /only 2 participants reveals; the threshold is 3/);
    // With the two seed shares of insurer-4, the interpolated value is not its seed: subtracting
    // that "self mask" and every pairwise mask (which cancel in no single update) recovers nothing.
    const seedGuess = await combine(reveals.map((r) => new Uint8Array(Buffer.from(r.body.seedShares['insurer-4']!, 'hex')))).catch(() => undefined);
    const third = participants[2]!.onUnmask(unmask);
    const realSeed = await combine([...reveals, third].map((r) => new Uint8Array(Buffer.from(r.body.seedShares['insurer-4']!, 'hex'))));
    expect(seedGuess === undefined || !Buffer.from(seedGuess).equals(Buffer.from(realSeed))).toBe(true);
  });

  it('an aggregate beyond the bound (a participant that skipped clipping) is rejected with the reason', async () => {
    const updates = [[1, 1], [1, 1], [1, 1]];
    const { coordinator, participants, participantIds } = setup(updates, { normBound: 10 });
    const announce = coordinator.announce();
    participants.forEach((p) => coordinator.receiveAdvert(p.onAnnounce(announce)));
    const roster = coordinator.roster();
    for (const p of participants) coordinator.receiveShares(await p.onRoster(roster));
    const deliveries = coordinator.deliveries();
    for (const [i, p] of participants.entries()) {
      let m = p.onDeliver(deliveries.get(p.id)!);
      if (i === 1) {
        // insurer-1 adds 1000 to its masked update and signs it: masks still cancel, the bound does not hold.
        const y = ringFromBase64(m.body.masked, 2);
        ringAddInPlace(y, encodeFixedPoint([1000, 0]));
        const masked = ringToBase64(y);
        const { createHash } = await import('node:crypto');
        m = signMessage(participantIds[1]!, FEDERATION, coordinator.round, KIND.masked, { masked, commitment: createHash('sha256').update(Buffer.from(masked, 'base64')).digest('hex') } satisfies MaskedBody);
      }
      coordinator.receiveMasked(m);
    }
    const unmask = coordinator.unmaskRequest();
    participants.forEach((p) => coordinator.receiveReveal(p.onUnmask(unmask)));
    await expectFederationError(coordinator.finish(), 'FEDERATION_AGGREGATE_REJECTED', /aggregate norm 100\d\.\d+ exceeds the bound 30\.0000 \(3 participants x norm bound 10\)/);
  });

  it('an aggregate holding NaN is rejected with the coordinate named', async () => {
    expect(checkAggregate([1, Number.NaN, 2], 3, 10)).toEqual({ ok: false, reason: 'aggregate coordinate 1 is NaN (not finite)' });
    await expectFederationError(() => assertAggregate([Infinity], 1, 10), 'FEDERATION_AGGREGATE_REJECTED', /coordinate 0 is Infinity/);
    expect(assertAggregate([3, 4], 1, 5)).toBe(5);
  });

  it('an unregistered participant is refused by the coordinator and cannot be slipped into the roster', async () => {
    const { coordinator, participants, coordinatorId, participantIds, registry, coordinatorRegistry } = setup([[1], [2], [3]]);
    const announce = coordinator.announce();
    const outsider = generateIdentity('insurer-9');
    const outsiderAdvert = signMessage(outsider, FEDERATION, coordinator.round, KIND.advertise, { maskPublicKey: '00'.repeat(32), sharePublicKey: '00'.repeat(32) } satisfies AdvertiseBody);
    await expectFederationError(() => coordinator.receiveAdvert(outsiderAdvert), 'FEDERATION_PARTICIPANT_UNREGISTERED', /"insurer-9" is not a registered participant/);
    // An outsider claiming a registered id fails the signature check.
    const impostor = { ...outsiderAdvert, from: 'insurer-0' };
    await expectFederationError(() => coordinator.receiveAdvert(impostor), 'FEDERATION_SIGNATURE_INVALID');
    const adverts = participants.map((p) => p.onAnnounce(announce));
    // A coordinator that adds the outsider's advert to a (validly signed) roster is refused by every participant.
    const forgedRoster = signMessage(coordinatorId, FEDERATION, coordinator.round, KIND.roster, { adverts: [...adverts, outsiderAdvert] });
    await expectFederationError(participants[0]!.onRoster(forgedRoster), 'FEDERATION_PARTICIPANT_UNREGISTERED');
    // ... and one announcing an unregistered participant is refused at the start.
    const badAnnounce = signMessage(coordinatorId, FEDERATION, 'r2', KIND.announce, { ...coordinator.parameters, participants: ['insurer-0', 'insurer-1', 'insurer-9'] });
    const fresh = new ParticipantRound({ identity: participantIds[0]!, registry, coordinator: coordinatorRegistry, federation: FEDERATION }, [1]);
    await expectFederationError(() => fresh.onAnnounce(badAnnounce), 'FEDERATION_PARTICIPANT_UNREGISTERED', /invites "insurer-9", who is not registered/);
    // The coordinator itself cannot invite one.
    await expectFederationError(() => new CoordinatorRound({ identity: coordinatorId, registry, federation: FEDERATION }, { ...coordinator.parameters, participants: ['insurer-0', 'insurer-1', 'insurer-9'] }), 'FEDERATION_PARTICIPANT_UNREGISTERED');
  });

  it('a message altered in transit fails its signature; duplicates and wrong steps are refused', async () => {
    const { coordinator, participants } = setup([[1], [2], [3]]);
    const announce = coordinator.announce();
    const advert = participants[0]!.onAnnounce(announce);
    await expectFederationError(() => coordinator.receiveAdvert({ ...advert, body: { ...advert.body, maskPublicKey: 'ab'.repeat(32) } }), 'FEDERATION_SIGNATURE_INVALID');
    coordinator.receiveAdvert(advert);
    await expectFederationError(() => coordinator.receiveAdvert(advert), 'FEDERATION_PROTOCOL_VIOLATION', /second secagg.advertise/);
    await expectFederationError(() => participants[0]!.onAnnounce(announce), 'FEDERATION_PROTOCOL_VIOLATION', /at step advertised/);
  });

  it('a participant with a floor of 4 refuses a round of 3 (sums over few parties say more about each)', async () => {
    const { coordinator, participantIds, registry, coordinatorRegistry } = setup([[1], [2], [3]]);
    const strict = new ParticipantRound({ identity: participantIds[0]!, registry, coordinator: coordinatorRegistry, federation: FEDERATION, minParticipants: 4 }, [1]);
    await expectFederationError(() => strict.onAnnounce(coordinator.announce()), 'FEDERATION_TOO_FEW_SURVIVORS', /invites 3 participants; insurer-0 takes part in sums of at least 4/);
  });

  it('Gaussian DP: noise reaches the sum and epsilon is reported', async () => {
    const updates = [[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]];
    const { coordinator, participants } = setup(updates, { normBound: 4, dpSigma: 0.5 });
    const { result } = await runLocalRound(coordinator, participants);
    expect(Array.from(result.sum)).not.toEqual(Array.from(exactSum(updates, 4)));
    expect(l2Norm(Array.from(result.sum, (s) => s - 3))).toBeLessThan(0.5 * 8);
    const eps = gaussianEpsilon(4, { aggregateSigma: 40, expectedParticipants: 3, delta: 1e-5 }, 10);
    expect(eps.epsilonPerRound).toBeCloseTo((4 * Math.sqrt(2 * Math.log(1.25e5))) / 40, 10);
    expect(eps.epsilonTotal).toBeCloseTo(10 * eps.epsilonPerRound, 10);
    expect(eps.classicalBoundHolds).toBe(true);
  });
});

