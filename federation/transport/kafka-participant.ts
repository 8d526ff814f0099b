/**
 * A participant process over Kafka: says hello, then answers the coordinator's tasks in order
 * (computing its contribution from its own rows, then taking part in the secure-aggregation
 * round), until the coordinator's `fed.done`. A message that fails a check is logged with its
 * code and ignored; a round that goes wrong is abandoned (the coordinator carries on without us).
 */
import type { Logger } from '../../core/logger.ts';
import type { LocalParty } from '../local-party.ts';
import { FederationError } from '../secure-aggregation/errors.ts';
import { signMessage, type Identity, type ParticipantRegistry, type SignedMessage } from '../secure-aggregation/identity.ts';
import { ParticipantRound } from '../secure-aggregation/participant.ts';
import { KIND } from '../secure-aggregation/protocol.ts';
import type { FederationChannel } from './channel.ts';
import { FED_KIND, type TaskBody } from './kafka-aggregator.ts';

export interface KafkaParticipantDeps {
  readonly channel: FederationChannel;
  readonly federation: string;
  readonly identity: Identity;
  readonly registry: ParticipantRegistry;
  readonly coordinator: ParticipantRegistry;
  readonly party: LocalParty;
  readonly log: Logger;
  /** Give up when the coordinator says nothing for this long. Default 10 min. */
  readonly idleTimeoutMs?: number;
  /** Fewest participants whose sum this participant takes part in (default 2). */
  readonly minParticipants?: number;
  /** Called after each masked update is sent (round index), e.g. for progress output. */
  readonly onMasked?: (index: number) => void;
}

const TASK_KINDS: ReadonlySet<unknown> = new Set(['stats', 'variance', 'fedavg', 'validate', 'forest', 'logistic', 'histogram']);

/** Runs until `fed.done`; returns the model hash the coordinator announced. */
export async function runKafkaParticipant(d: KafkaParticipantDeps): Promise<string> {
  const me = d.identity.id;
  await d.channel.send(signMessage(d.identity, d.federation, 'hello', FED_KIND.hello, { participant: me }));
  d.log.info({ component: 'federation', participant: me }, 'joined the federation');
  let current: { round: string; index: number; secagg: ParticipantRound } | undefined;
  for (;;) {
    const m = await d.channel.inbox.next(() => true, d.idleTimeoutMs ?? 600_000);
    if (!m) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `the coordinator sent nothing for ${(d.idleTimeoutMs ?? 600_000) / 1000} s`);
    try {
      if (m.kind === FED_KIND.done) {
        const done = d.coordinator.verify(m as SignedMessage<{ modelHash: string }>, { federation: d.federation, kind: FED_KIND.done });
        return done.body.modelHash;
      }
      if (m.kind === FED_KIND.task) {
        const t = d.coordinator.verify(m as SignedMessage<TaskBody>, { federation: d.federation, kind: FED_KIND.task });
        if (!TASK_KINDS.has(t.body?.task?.kind)) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `unknown task ${JSON.stringify(String(t.body?.task?.kind)).slice(0, 40)}`);
        if (t.body.task.kind === 'forest') {
          await d.channel.send(signMessage(d.identity, d.federation, t.round, FED_KIND.trees, { forest: d.party.trees(t.body.task) }));
          current = undefined;
        } else {
          current = { round: t.round, index: t.body.index, secagg: new ParticipantRound({ identity: d.identity, registry: d.registry, coordinator: d.coordinator, federation: d.federation, ...(d.minParticipants ? { minParticipants: d.minParticipants } : {}) }, await d.party.contribution(t.body.task)) };
        }
        continue;
      }
      if (!current || m.round !== current.round) continue; // another round's message, or one we abandoned
      const p = current.secagg;
      switch (m.kind) {
        case KIND.announce:
          await d.channel.send(p.onAnnounce(m as never));
          break;
        case KIND.roster:
          await d.channel.send(await p.onRoster(m as never));
          break;
        case KIND.deliver:
          if ((m.body as { to?: unknown }).to !== me) break;
          await d.channel.send(p.onDeliver(m as never));
          d.log.info({ component: 'federation', participant: me, index: current.index, round: m.round }, 'masked update sent');
          d.onMasked?.(current.index);
          break;
        case KIND.unmask:
          await d.channel.send(p.onUnmask(m as never));
          current = undefined;
          break;
        default:
          break;
      }
    } catch (error) {
      if (!(error instanceof FederationError)) throw error;
      d.log.warn({ component: 'federation', participant: me, code: error.code, kind: m.kind }, `federation message refused: ${error.message}`);
      if (current && m.round === current.round) current = undefined;
    }
  }
}
