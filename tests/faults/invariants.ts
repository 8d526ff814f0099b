import { decodeDecision } from '../../domain/decision-codec.ts';
import type { Kafka, KafkaMessage } from 'kafkajs';
import pg from 'pg';

/** What one trial found; every count but `decisionsInLog` / `decisionsInIndex` must be 0. */
export interface InvariantReport {
  decisionsInLog: number;
  decisionsInIndex: number;
  /** Valid claims with no decision in the decisions topic (read_committed). */
  lostInLog: number;
  /** Decisions in the topic beyond the first for the same claim. */
  duplicatedInLog: number;
  /** Valid claims with no row in PostgreSQL `decisions`. */
  lostInIndex: number;
  duplicatedInIndex: number;
  /** DLQ messages minus malformed messages produced (negative: lost, positive: duplicated). */
  dlqDelta: number;
  /** Leaves present more than once in the index. */
  duplicateLeaves: number;
  /** Decisions whose offset is in no anchored batch, or in more than one batch range. */
  decisionsNotInOneAnchoredBatch: number;
  /** Batches whose ranges overlap another batch of the same partition. */
  overlappingBatches: number;
  /** Batches named by more than one confirmed anchor transaction. */
  doubleAnchoredBatches: number;
  /** review / flag decisions with no case in the review queue. */
  flaggedMissingFromQueue: number;
}

export const VIOLATION_KEYS = [
  'lostInLog',
  'duplicatedInLog',
  'lostInIndex',
  'duplicatedInIndex',
  'dlqDelta',
  'duplicateLeaves',
  'decisionsNotInOneAnchoredBatch',
  'overlappingBatches',
  'doubleAnchoredBatches',
  'flaggedMissingFromQueue',
] as const satisfies ReadonlyArray<keyof InvariantReport>;

/** Names of the invariants a report breaks (empty when it holds them all). */
export function violations(report: InvariantReport): string[] {
  return VIOLATION_KEYS.filter((k) => report[k] !== 0).map((k) => `${k}=${report[k]}`);
}

/**
 * Reads a whole topic with a fresh group, `read_committed` (aborted transactions invisible), until
 * it has at least `expected` messages and nothing new arrived for `quietMs`, or nothing arrived
 * at all for `idleMs` (so a short topic is reported short instead of hanging).
 */
export async function readTopic(kafka: Kafka, topic: string, expected: number, quietMs = 2_000, idleMs = 10_000): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({ groupId: `${topic}-faults-reader-${Date.now()}`, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const messages: KafkaMessage[] = [];
  let last = Date.now();
  await consumer.run({
    eachMessage: async ({ message }) => {
      messages.push(message);
      last = Date.now();
    },
  });
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    const quiet = Date.now() - last;
    if ((messages.length >= expected && quiet >= quietMs) || quiet >= idleMs) break;
  }
  await consumer.disconnect();
  return messages;
}

/** Checks every invariant of a finished trial against the decisions topic, the DLQ and PostgreSQL. */
export async function checkInvariants(options: {
  kafka: Kafka;
  databaseUrl: string;
  schema: string;
  topics: { decisions: string; dlq: string };
  expectedClaimIds: ReadonlySet<string>;
  malformed: number;
}): Promise<InvariantReport> {
  const { kafka, expectedClaimIds } = options;
  const log = await readTopic(kafka, options.topics.decisions, expectedClaimIds.size);
  const logIds = log.map((m) => decodeDecision(m.value!).claimId);
  const logSet = new Set(logIds);
  const dlq = options.malformed > 0 ? await readTopic(kafka, options.topics.dlq, options.malformed) : [];

  const client = new pg.Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    await client.query(`SET search_path TO "${options.schema}"`);
    const one = async (sql: string): Promise<number> => Number((await client.query<{ n: string }>(sql)).rows[0]!.n);
    const { rows: indexRows } = await client.query<{ claim_id: string }>('SELECT claim_id FROM decisions');
    const indexSet = new Set(indexRows.map((r) => r.claim_id));
    return {
      decisionsInLog: log.length,
      decisionsInIndex: indexRows.length,
      lostInLog: [...expectedClaimIds].filter((id) => !logSet.has(id)).length,
      duplicatedInLog: logIds.length - logSet.size,
      lostInIndex: [...expectedClaimIds].filter((id) => !indexSet.has(id)).length,
      duplicatedInIndex: indexRows.length - indexSet.size,
      dlqDelta: dlq.length - options.malformed,
      duplicateLeaves: await one('SELECT count(*) AS n FROM (SELECT leaf FROM decisions GROUP BY leaf HAVING count(*) > 1) d'),
      decisionsNotInOneAnchoredBatch: await one(
        `SELECT count(*) AS n FROM decisions d
          WHERE (SELECT count(*) FROM batches b
                  WHERE b.status = 'anchored' AND b.batch_id = d.batch_id AND b.topic = d.log_topic AND b.partition = d.log_partition
                    AND d.log_offset BETWEEN b.first_offset AND b.last_offset) <> 1
             OR (SELECT count(*) FROM batches b
                  WHERE b.topic = d.log_topic AND b.partition = d.log_partition AND d.log_offset BETWEEN b.first_offset AND b.last_offset) <> 1`,
      ),
      overlappingBatches: await one(
        `SELECT count(*) AS n FROM batches a JOIN batches b
           ON a.topic = b.topic AND a.partition = b.partition AND a.batch_id < b.batch_id
          AND a.first_offset <= b.last_offset AND b.first_offset <= a.last_offset`,
      ),
      // v1: batch ids; v2: epoch ids and flagged roots (each stored with its attempts), plus any
      // batch in two epochs (epoch_batches forbids it; counted in case a migration ever drops that).
      doubleAnchoredBatches: (await one(`SELECT count(*) AS n FROM (SELECT batch_id FROM epoch_batches WHERE batch_id IS NOT NULL GROUP BY batch_id HAVING count(*) > 1) x`)) + await one(
        `SELECT count(*) AS n FROM (
           SELECT id FROM anchor_transactions, unnest(batch_ids) AS id
            WHERE state = 'confirmed' AND method IN ('anchorBatch', 'anchorBatches', 'anchorEpoch', 'anchorFlaggedRoot')
            GROUP BY id HAVING count(*) > 1) x`,
      ),
      flaggedMissingFromQueue: await one(
        `SELECT count(*) AS n FROM decisions d WHERE d.outcome IN ('review', 'flag')
            AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.decision_id = d.decision_id)`,
      ),
    };
  } finally {
    await client.end();
  }
}
