import { CoordinatorRound } from '../../../federation/secure-aggregation/coordinator.ts';
import { generateIdentity, ParticipantRegistry, type Identity } from '../../../federation/secure-aggregation/identity.ts';
import { ParticipantRound } from '../../../federation/secure-aggregation/participant.ts';
import type { RoundParameters } from '../../../federation/secure-aggregation/protocol.ts';

export const FEDERATION = 'test-federation';

/** A coordinator and `n` registered participants (ids insurer-0..), fresh keys each call. */
export function consortium(n: number): { coordinatorId: Identity; participantIds: Identity[]; registry: ParticipantRegistry; coordinatorRegistry: ParticipantRegistry } {
  const coordinatorId = generateIdentity('coordinator');
  const participantIds = Array.from({ length: n }, (_, i) => generateIdentity(`insurer-${i}`));
  return {
    coordinatorId,
    participantIds,
    registry: new ParticipantRegistry(participantIds.map((p) => ({ id: p.id, publicKey: p.publicKey }))),
    coordinatorRegistry: new ParticipantRegistry([{ id: coordinatorId.id, publicKey: coordinatorId.publicKey }]),
  };
}

export function params(ids: readonly string[], vectorLength: number, over: Partial<RoundParameters> = {}): RoundParameters {
  return { participants: ids, threshold: Math.floor(ids.length / 2) + 1, vectorLength, normBound: 100, fractionalBits: 24, dpSigma: 0, ...over };
}

export function setup(updates: readonly number[][], over: Partial<RoundParameters> = {}) {
  const c = consortium(updates.length);
  const coordinator = new CoordinatorRound({ identity: c.coordinatorId, registry: c.registry, federation: FEDERATION }, params(c.participantIds.map((p) => p.id), updates[0]!.length, over));
  const participants = c.participantIds.map((identity, i) => new ParticipantRound({ identity, registry: c.registry, coordinator: c.coordinatorRegistry, federation: FEDERATION }, updates[i]!));
  return { ...c, coordinator, participants };
}
