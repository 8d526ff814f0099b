/**
 * The coordinator's Aggregator over Kafka: each `sum` is one secure-aggregation round across the
 * participant processes, each step closing when every expected participant answered or when
 * `stepTimeoutMs` passes (the round then goes on with whoever answered, if at least the
 * threshold). Messages that fail the registry check (unregistered sender, bad signature, wrong
 * round, duplicates) are refused: logged with their code and dropped, never counted.
 */
import type { Logger } from '../../core/logger.ts';
import type { ForestModelJson } from '../../scoring/forest-model.ts';
import { aggregateHash, type Aggregator, type RoundRecord } from '../aggregator.ts';
import { CoordinatorRound, newRoundId } from '../secure-aggregation/coordinator.ts';
import { FederationError } from '../secure-aggregation/errors.ts';
import { signMessage, type Identity, type ParticipantRegistry, type SignedMessage } from '../secure-aggregation/identity.ts';
import { KIND } from '../secure-aggregation/protocol.ts';
import type { SumSpec, Task } from '../tasks.ts';
import type { FederationChannel } from './channel.ts';

export const FED_KIND = { hello: 'fed.hello', task: 'fed.task', trees: 'fed.trees', done: 'fed.done' } as const;

/** Body of a `fed.task` message. */
export interface TaskBody {
  readonly index: number;
  readonly task: Task;
  readonly spec?: SumSpec;
}

export interface KafkaAggregatorDeps {
  readonly channel: FederationChannel;
  readonly federation: string;
  readonly identity: Identity;
  readonly registry: ParticipantRegistry;
  readonly log: Logger;
  /** How long one protocol step waits for the missing participants. Default 30 s. */
  readonly stepTimeoutMs?: number;
  /** DP sigma added to FedAvg sums (0: none). */
  readonly dpSigma?: number;
}

export class KafkaAggregator implements Aggregator {
  readonly #d: KafkaAggregatorDeps;
  #alive: string[] = [];
  #index = 0;
  /** Messages refused, by error code (for the report and the tests). */
  readonly refused: { code: string; from: string; kind: string }[] = [];

  constructor(deps: KafkaAggregatorDeps) {
    this.#d = deps;
  }

  get participants(): readonly string[] {
    return this.#alive;
  }

  /** Waits until every registered participant said hello (or the timeout: then those who did). */
  async start(expected: readonly string[], timeoutMs: number): Promise<readonly string[]> {
    const got = await this.#collect(FED_KIND.hello, 'hello', new Set(expected), timeoutMs, () => {});
    this.#alive = expected.filter((id) => got.has(id));
    if (this.#alive.length < 2) throw new FederationError('FEDERATION_TOO_FEW_SURVIVORS', `only ${this.#alive.length} participants joined (${[...got].join(', ') || 'none'})`);
    return this.#alive;
  }

  async sum(task: Exclude<Task, { kind: 'forest' }>, spec: SumSpec): Promise<{ sum: Float64Array; record: RoundRecord }> {
    const d = this.#d;
    const started = performance.now();
    const bytesBefore = d.channel.bytesIn + d.channel.bytesOut;
    const index = this.#index++;
    const ids = [...this.#alive];
    const c = new CoordinatorRound(
      { identity: d.identity, registry: d.registry, federation: d.federation },
      { participants: ids, threshold: Math.floor(ids.length / 2) + 1, vectorLength: spec.vectorLength, normBound: spec.normBound, fractionalBits: spec.fractionalBits, dpSigma: task.kind === 'fedavg' ? (d.dpSigma ?? 0) : 0 },
      newRoundId(),
    );
    const R = c.round;
    await d.channel.send(signMessage(d.identity, d.federation, R, FED_KIND.task, { index, task, spec } satisfies TaskBody));
    await d.channel.send(c.announce());
    const advertised = await this.#collect(KIND.advertise, R, new Set(ids), this.#timeout, (m) => c.receiveAdvert(m as never));
    await d.channel.send(c.roster());
    const dealt = await this.#collect(KIND.shares, R, advertised, this.#timeout, (m) => c.receiveShares(m as never));
    for (const [to, delivery] of c.deliveries()) await d.channel.send(delivery, to);
    await this.#collect(KIND.masked, R, dealt, this.#timeout, (m) => c.receiveMasked(m as never));
    const unmask = c.unmaskRequest();
    await d.channel.send(unmask);
    const revealed = await this.#collect(KIND.reveal, R, new Set(unmask.body.survivors), this.#timeout, (m) => c.receiveReveal(m as never));
    const result = await c.finish();
    // A survivor that never revealed is gone too: later rounds do not wait for it.
    this.#alive = result.survivors.filter((id) => revealed.has(id));
    if (this.#alive.length < ids.length) d.log.warn({ component: 'federation', round: R, index, lost: ids.filter((id) => !this.#alive.includes(id)), droppedBeforeMasking: result.dropped }, 'participants dropped out of the round; it completed without them');
    const record: RoundRecord = {
      index,
      round: R,
      task: task.kind,
      survivors: result.survivors,
      dropped: result.dropped,
      commitments: result.commitments,
      aggregateHash: aggregateHash(result.sum),
      bytes: d.channel.bytesIn + d.channel.bytesOut - bytesBefore,
      ms: Math.round(performance.now() - started),
    };
    d.log.info({ component: 'federation', round: R, index, task: task.kind, survivors: result.survivors.length, bytes: record.bytes, ms: record.ms }, 'secure aggregation round complete');
    return { sum: result.sum, record };
  }

  async trees(task: Extract<Task, { kind: 'forest' }>): Promise<{ forests: ForestModelJson[]; bytes: number }> {
    const d = this.#d;
    const R = newRoundId();
    const before = d.channel.bytesIn;
    // Trees are no secure-aggregation round: the index is not advanced (round indices are the chain's).
    await d.channel.send(signMessage(d.identity, d.federation, R, FED_KIND.task, { index: this.#index, task } satisfies TaskBody));
    const forests: ForestModelJson[] = [];
    const got = await this.#collect(FED_KIND.trees, R, new Set(this.#alive), this.#timeout * 4, (m) => forests.push((m.body as { forest: ForestModelJson }).forest));
    this.#alive = this.#alive.filter((id) => got.has(id));
    return { forests, bytes: d.channel.bytesIn - before };
  }

  /** Tells the participants training is over (they exit). */
  async finish(modelHash: string): Promise<void> {
    await this.#d.channel.send(signMessage(this.#d.identity, this.#d.federation, 'done', FED_KIND.done, { modelHash }));
  }

  get #timeout(): number {
    return this.#d.stepTimeoutMs ?? 30_000;
  }

  /** Accepts `kind` messages of `round` until every expected id answered or the timeout; returns who answered. */
  async #collect(kind: string, round: string, expected: ReadonlySet<string>, timeoutMs: number, accept: (m: SignedMessage) => void): Promise<Set<string>> {
    const got = new Set<string>();
    const deadline = Date.now() + timeoutMs;
    while ([...expected].some((id) => !got.has(id))) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      const m = await this.#d.channel.inbox.next((x) => x.kind === kind && x.round === round, left);
      if (!m) break;
      try {
        this.#d.registry.verify(m, { federation: this.#d.federation, round, kind });
        if (!expected.has(m.from)) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `${m.from} is not expected at this step`);
        if (got.has(m.from)) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `a second ${kind} message from ${m.from}`);
        accept(m);
        got.add(m.from);
      } catch (error) {
        if (!(error instanceof FederationError)) throw error;
        this.refused.push({ code: error.code, from: String(m.from), kind });
        this.#d.log.warn({ component: 'federation', code: error.code, from: String(m.from).slice(0, 64), kind }, `federation message refused: ${error.message}`);
      }
    }
    return got;
  }
}
