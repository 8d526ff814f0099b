/**
 * Runs one secure-aggregation round with every party in this process (simulations, evaluation,
 * tests). The messages are the same signed objects the Kafka transport carries; only the relay is
 * a function call. `dropAfterMasking` lists participants that vanish once their masked update is
 * made but before the coordinator receives it (the hardest dropout for the protocol).
 */
import type { CoordinatorRound } from './coordinator.ts';
import type { ParticipantRound } from './participant.ts';
import type { MaskedBody, RoundResult } from './protocol.ts';
import type { SignedMessage } from './identity.ts';

export interface LocalRoundOptions {
  readonly dropAfterMasking?: ReadonlySet<string>;
}

export interface LocalRoundOutcome {
  readonly result: RoundResult;
  /** Masked updates that were made but never delivered (the dropped ones'), by id. */
  readonly undelivered: ReadonlyMap<string, SignedMessage<MaskedBody>>;
}

export async function runLocalRound(coordinator: CoordinatorRound, participants: readonly ParticipantRound[], options: LocalRoundOptions = {}): Promise<LocalRoundOutcome> {
  const drop = options.dropAfterMasking ?? new Set<string>();
  const announce = coordinator.announce();
  for (const p of participants) coordinator.receiveAdvert(p.onAnnounce(announce));
  const roster = coordinator.roster();
  for (const p of participants) coordinator.receiveShares(await p.onRoster(roster));
  const deliveries = coordinator.deliveries();
  const undelivered = new Map<string, SignedMessage<MaskedBody>>();
  const alive: ParticipantRound[] = [];
  for (const p of participants) {
    const masked = p.onDeliver(deliveries.get(p.id)!);
    if (drop.has(p.id)) undelivered.set(p.id, masked);
    else {
      coordinator.receiveMasked(masked);
      alive.push(p);
    }
  }
  const unmask = coordinator.unmaskRequest();
  for (const p of alive) coordinator.receiveReveal(p.onUnmask(unmask));
  return { result: await coordinator.finish(), undelivered };
}
