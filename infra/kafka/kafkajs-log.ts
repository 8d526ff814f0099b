import { logLevel as KafkaLogLevel, type LogEntry, type logCreator } from 'kafkajs';
import type { Logger } from '../../core/logger.ts';

/**
 * kafkajs log lines through pino, with the broker's "wait a moment" answers kept quiet.
 *
 * While a group or transaction coordinator starts (a fresh broker, a new consumer group, the first
 * transaction of a transactional id), kafkajs logs each retriable answer at ERROR and retries it:
 * "The group coordinator is not available", "The coordinator is loading ...", "There is a newer
 * producer ... / concurrent operation on the same transaction". They are normal for a few seconds.
 * Such a line is logged at debug until its kind has been seen more than
 * {@link TransientErrorBounds.count} times or for longer than {@link TransientErrorBounds.windowMs}
 * (a coordinator that never comes back), then at kafkajs' own level (warn / error), once per
 * further occurrence, with `transientRepeats` and `transientForMs` in the context.
 */

/** When a transient kind stops being quiet. */
export interface TransientErrorBounds {
  /** Occurrences of one kind logged at debug before it escalates. Default 20. */
  readonly count: number;
  /** Milliseconds since the first occurrence of a kind after which it escalates. Default 30 000. */
  readonly windowMs: number;
  /** Milliseconds of silence after which a kind starts over (counted afresh). Default 60 000. */
  readonly resetAfterMs: number;
}

export const DEFAULT_TRANSIENT_BOUNDS: TransientErrorBounds = Object.freeze({ count: 20, windowMs: 30_000, resetAfterMs: 60_000 });

/**
 * The retriable coordinator answers, by a fragment of the broker error text kafkajs logs (kafkajs
 * puts the protocol error's message, not its code, into the log entry; these texts are the Kafka
 * protocol's own error messages, stable across versions).
 */
const TRANSIENT_KINDS: ReadonlyArray<readonly [kind: string, fragment: string]> = [
  ['COORDINATOR_NOT_AVAILABLE', 'coordinator is not available'],
  ['COORDINATOR_LOAD_IN_PROGRESS', 'coordinator is loading'],
  ['NOT_COORDINATOR', 'is not the correct coordinator'],
  ['CONCURRENT_TRANSACTIONS', 'concurrent operation on the same transaction'],
  ['REBALANCE_IN_PROGRESS', 'group is rebalancing'],
  ['NOT_LEADER_OR_FOLLOWER', 'not the leader for that topic-partition'],
  ['LEADER_NOT_AVAILABLE', 'no leader for this topic-partition'],
];

/** The transient kind of a kafkajs log entry, or null for anything else. */
export function transientKind(entry: { message: string; error?: unknown }): string | null {
  const text = `${typeof entry.error === 'string' ? entry.error : ''} ${entry.message}`.toLowerCase();
  for (const [kind, fragment] of TRANSIENT_KINDS) if (text.includes(fragment)) return kind;
  return null;
}

interface Seen {
  first: number;
  last: number;
  count: number;
}

/**
 * A kafkajs `logCreator` writing to `log` (child `component: kafkajs`). `now` is injectable for tests.
 * One tracker per created client: each client's coordinators come up on their own.
 */
export function kafkajsLogCreator(log: Logger, bounds: TransientErrorBounds = DEFAULT_TRANSIENT_BOUNDS, now: () => number = Date.now): logCreator {
  const kafkaLog = log.child({ component: 'kafkajs' });
  const seen = new Map<string, Seen>();
  return () =>
    ({ level, log: entry }: LogEntry) => {
      const { message, ...context } = entry;
      const kind = level <= KafkaLogLevel.WARN ? transientKind(entry) : null;
      if (kind !== null) {
        const t = now();
        let s = seen.get(kind);
        if (s === undefined || t - s.last > bounds.resetAfterMs) {
          s = { first: t, last: t, count: 0 };
          seen.set(kind, s);
        }
        s.count += 1;
        s.last = t;
        if (s.count <= bounds.count && t - s.first <= bounds.windowMs) {
          kafkaLog.debug({ ...context, transient: kind }, message);
          return;
        }
        Object.assign(context, { transient: kind, transientRepeats: s.count, transientForMs: t - s.first });
      }
      if (level <= KafkaLogLevel.ERROR) kafkaLog.error(context, message);
      else if (level === KafkaLogLevel.WARN) kafkaLog.warn(context, message);
      else kafkaLog.debug(context, message);
    };
}
