/**
 * How the coordinator's training loop gets the sum of the parties' contributions to a task:
 * through one secure-aggregation round per task. `InProcessAggregator` runs every party in this
 * process (evaluation, tests); the Kafka transport implements the same interface across processes.
 */
import { createHash } from 'node:crypto';
import { CoordinatorRound } from './secure-aggregation/coordinator.ts';
import type { Identity, ParticipantRegistry } from './secure-aggregation/identity.ts';
import { runLocalRound } from './secure-aggregation/local-round.ts';
import { ParticipantRound } from './secure-aggregation/participant.ts';
import type { ForestModelJson } from '../scoring/forest-model.ts';
import type { LocalParty } from './local-party.ts';
import type { SumSpec, Task } from './tasks.ts';

/** One secure-aggregation round as the lineage records it. */
export interface RoundRecord {
  readonly index: number;
  readonly round: string;
  readonly task: Task['kind'];
  readonly survivors: readonly string[];
  readonly dropped: readonly string[];
  /** Survivor id -> sha256 of its masked update. */
  readonly commitments: Readonly<Record<string, string>>;
  /** sha256 of the unmasked aggregate (little-endian float64 bytes). */
  readonly aggregateHash: string;
  readonly bytes: number;
  readonly ms: number;
}

export interface Aggregator {
  /** Registered participant ids taking part. */
  readonly participants: readonly string[];
  /** The sum of every surviving party's contribution to `task`. */
  sum(task: Exclude<Task, { kind: 'forest' }>, spec: SumSpec): Promise<{ sum: Float64Array; record: RoundRecord }>;
  /** Every party's trees for `task` (shared in clear). */
  trees(task: Extract<Task, { kind: 'forest' }>): Promise<{ forests: ForestModelJson[]; bytes: number }>;
}

export function aggregateHash(sum: Float64Array): string {
  return createHash('sha256').update(Buffer.from(sum.buffer, sum.byteOffset, sum.byteLength)).digest('hex');
}

export interface InProcessAggregatorDeps {
  readonly federation: string;
  readonly coordinator: Identity;
  readonly registry: ParticipantRegistry;
  readonly coordinatorRegistry: ParticipantRegistry;
  readonly parties: readonly { party: LocalParty; identity: Identity }[];
  /** Participant-level DP noise in every sum (0: none). */
  readonly dpSigma?: number;
  /** Drop this participant after masking in the round with this index (a dropout drill). */
  readonly dropout?: { readonly participant: string; readonly roundIndex: number };
}

export class InProcessAggregator implements Aggregator {
  readonly #deps: InProcessAggregatorDeps;
  #index = 0;

  constructor(deps: InProcessAggregatorDeps) {
    this.#deps = deps;
  }

  get participants(): readonly string[] {
    return this.#deps.parties.map((p) => p.identity.id);
  }

  async sum(task: Exclude<Task, { kind: 'forest' }>, spec: SumSpec): Promise<{ sum: Float64Array; record: RoundRecord }> {
    const started = performance.now();
    const d = this.#deps;
    const index = this.#index++;
    const ids = this.participants;
    const coordinator = new CoordinatorRound(
      { identity: d.coordinator, registry: d.registry, federation: d.federation },
      { participants: ids, threshold: Math.floor(ids.length / 2) + 1, vectorLength: spec.vectorLength, normBound: spec.normBound, fractionalBits: spec.fractionalBits, dpSigma: task.kind === 'fedavg' ? (d.dpSigma ?? 0) : 0 },
    );
    const rounds: ParticipantRound[] = [];
    for (const { party, identity } of d.parties) {
      rounds.push(new ParticipantRound({ identity, registry: d.registry, coordinator: d.coordinatorRegistry, federation: d.federation }, await party.contribution(task)));
    }
    const drop = d.dropout && d.dropout.roundIndex === index ? new Set([d.dropout.participant]) : new Set<string>();
    const { result } = await runLocalRound(coordinator, rounds, { dropAfterMasking: drop });
    const record: RoundRecord = {
      index,
      round: coordinator.round,
      task: task.kind,
      survivors: result.survivors,
      dropped: result.dropped,
      commitments: result.commitments,
      aggregateHash: aggregateHash(result.sum),
      bytes: result.bytesExchanged,
      ms: Math.round(performance.now() - started),
    };
    return { sum: result.sum, record };
  }

  async trees(task: Extract<Task, { kind: 'forest' }>): Promise<{ forests: ForestModelJson[]; bytes: number }> {
    const forests = this.#deps.parties.map(({ party }) => party.trees(task));
    return { forests, bytes: forests.reduce((s, f) => s + JSON.stringify(f).length, 0) };
  }
}
