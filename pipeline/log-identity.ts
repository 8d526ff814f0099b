import { createHash, randomBytes } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import { ClaimtrailError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { LogIdentityRepository, PartitionFingerprint, StoredLogIdentity } from '../anchoring/log-identity.repository.ts';

/**
 * The Kafka log identity check (issue 17). Batches name (topic, partition, offset) of the
 * `decisions` topic. Pointed at another Kafka cluster, or at a `decisions` topic that was deleted
 * and created again, the same offsets mean other records or none: kafkajs would reset the
 * batcher's position and decisions would silently never be batched. So before the batching stage
 * subscribes it compares what the schema stored with what the brokers say:
 *
 * - the cluster id (admin describeCluster) must be the stored one;
 * - per partition, the fingerprint (offset and SHA-256 of the first record retained when the
 *   partition was first seen) must still be there while retention keeps that offset: a recreated
 *   topic has other records there, or none;
 * - the high watermark must lie beyond the last stored batch of every partition, and every
 *   partition with stored batches must still exist.
 *
 * kafkajs speaks Metadata v6, which has no topic ids, hence the fingerprint. What is missing is
 * recorded (first start, new partitions); nothing stored is ever overwritten except by
 * {@link rebaselineLogIdentity} (`claimtrail rebaseline --confirm`).
 */

export const REBASELINE_HINT = 'if this is intended, run `claimtrail rebaseline --confirm` (docs/runbooks.md#kafka-log-identity)';

/** The brokers are not the log this schema's batches describe. Exit 2: an operator decides. */
export class LogIdentityError extends ClaimtrailError {
  readonly problems: readonly string[];
  constructor(message: string, problems: readonly string[]) {
    super('LOG_IDENTITY_CHANGED', message);
    this.problems = problems;
  }
}

/** What the brokers say now. */
export interface LiveLogIdentity {
  clusterId: string;
  /** Every partition of the topic with its watermarks (high = offset of the next record). */
  partitions: Array<{ partition: number; low: string; high: string }>;
  /** The first committed record at or after each stored fingerprint's offset (null: none was delivered). */
  atFingerprint: Map<number, { offset: string; sha256: string } | null>;
}

/** `0x` + SHA-256 over the record's key and value, each length-prefixed (a null one as length -1). */
export function recordFingerprint(key: Buffer | null, value: Buffer | null): string {
  const hash = createHash('sha256');
  for (const part of [key, value]) {
    const length = Buffer.alloc(4);
    length.writeInt32BE(part ? part.length : -1);
    hash.update(length);
    if (part) hash.update(part);
  }
  return `0x${hash.digest('hex')}`;
}

/** The partitions whose fingerprint must be read, and from which offset. */
export function fingerprintReads(stored: StoredLogIdentity, live: Pick<LiveLogIdentity, 'partitions'>): Map<number, string> {
  const reads = new Map<number, string>();
  for (const p of live.partitions) {
    const fp = stored.partitions.find((f) => f.partition === p.partition);
    if (fp) {
      // Retention removed it (low beyond it): nothing to compare; the watermark checks remain.
      if (BigInt(p.low) <= BigInt(fp.firstOffset) && BigInt(p.high) > BigInt(fp.firstOffset)) reads.set(p.partition, fp.firstOffset);
    } else if (BigInt(p.high) > BigInt(p.low)) {
      reads.set(p.partition, p.low);
    }
  }
  return reads;
}

/** Every way `live` contradicts `stored`, one phrase each; empty when they agree. Pure. */
export function logIdentityProblems(topic: string, stored: StoredLogIdentity, live: LiveLogIdentity): string[] {
  const problems: string[] = [];
  if (stored.clusterId !== null && stored.clusterId !== live.clusterId) {
    problems.push(`Kafka cluster id is ${live.clusterId}, this schema's batches were made on cluster ${stored.clusterId}`);
  }
  const livePartitions = new Map(live.partitions.map((p) => [p.partition, p]));
  for (const fp of stored.partitions) {
    const p = livePartitions.get(fp.partition);
    if (!p) {
      problems.push(`${topic} partition ${fp.partition} no longer exists`);
      continue;
    }
    if (BigInt(p.low) > BigInt(fp.firstOffset)) continue; // deleted by retention: cannot compare
    if (BigInt(p.high) <= BigInt(fp.firstOffset)) {
      problems.push(`${topic}/${fp.partition} ends at offset ${p.high}, before its first record at ${fp.firstOffset} (topic recreated)`);
      continue;
    }
    const seen = live.atFingerprint.get(fp.partition);
    if (seen === undefined) continue; // not read (caller's choice)
    if (seen === null || seen.offset !== fp.firstOffset || seen.sha256 !== fp.sha256) {
      problems.push(`${topic}/${fp.partition} holds another record at offset ${fp.firstOffset} than when first seen (topic recreated)`);
    }
  }
  for (const [partition, last] of stored.lastBatched) {
    const p = livePartitions.get(partition);
    if (!p) {
      if (!stored.partitions.some((f) => f.partition === partition)) problems.push(`${topic} partition ${partition} holds stored batches but no longer exists`);
      continue;
    }
    if (BigInt(p.high) <= last) problems.push(`${topic}/${partition} high watermark ${p.high} is not beyond the last stored batch offset ${last} (topic recreated or truncated)`);
  }
  return problems;
}

/**
 * The first committed record at or after each given offset, per partition (null when none came
 * within `idleMs` of the group join or the last record). A fresh consumer group that never commits.
 */
export async function firstRecordsFrom(kafka: Kafka, topic: string, from: ReadonlyMap<number, string>, options: { idleMs?: number; timeoutMs?: number } = {}): Promise<Map<number, { offset: string; sha256: string } | null>> {
  const found = new Map<number, { offset: string; sha256: string } | null>();
  if (from.size === 0) return found;
  const idleMs = options.idleMs ?? 3000;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const consumer = kafka.consumer({ groupId: `claimtrail-log-identity-${randomBytes(6).toString('hex')}`, readUncommitted: false });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      let idle: NodeJS.Timeout | undefined;
      const deadline = setTimeout(() => settle(new ClaimtrailError('LOG_READ_FAILED', `reading the first records of ${topic} took more than ${timeoutMs} ms`, { retriable: true })), timeoutMs);
      function settle(error?: unknown): void {
        clearTimeout(idle);
        clearTimeout(deadline);
        if (error === undefined) resolve();
        else reject(error);
      }
      const armIdle = () => {
        clearTimeout(idle);
        idle = setTimeout(() => settle(), idleMs);
      };
      consumer.on(consumer.events.GROUP_JOIN, armIdle);
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const start = from.get(partition);
            if (start === undefined || found.has(partition) || BigInt(message.offset) < BigInt(start)) return;
            armIdle();
            found.set(partition, { offset: message.offset, sha256: recordFingerprint(message.key, message.value) });
            consumer.pause([{ topic, partitions: [partition] }]);
            if (found.size === from.size) settle();
          },
        })
        .catch((error: unknown) => settle(error ?? new Error('consumer stopped')));
      for (const [partition, offset] of from) consumer.seek({ topic, partition, offset });
    });
  } finally {
    await consumer.disconnect();
  }
  for (const partition of from.keys()) if (!found.has(partition)) found.set(partition, null);
  return found;
}

async function liveIdentity(kafka: Kafka, admin: Admin, topic: string, stored: StoredLogIdentity): Promise<LiveLogIdentity> {
  const { clusterId } = await admin.describeCluster();
  const partitions = (await admin.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, low: o.low, high: o.high })).sort((a, b) => a.partition - b.partition);
  const atFingerprint = await firstRecordsFrom(kafka, topic, fingerprintReads(stored, { partitions }));
  return { clusterId, partitions, atFingerprint };
}

export interface LogIdentityDeps {
  kafka: Kafka;
  /** A connected admin client. */
  admin: Admin;
  identity: LogIdentityRepository;
  topic: string;
  log?: Logger;
}

/**
 * Checks the brokers against what the schema stored and records what is missing (the cluster id on
 * first start, the fingerprint of partitions seen for the first time).
 * @throws LogIdentityError (one line) when the cluster id differs or the topic was recreated.
 */
export async function checkLogIdentity(deps: LogIdentityDeps): Promise<void> {
  const { kafka, admin, identity, topic, log } = deps;
  const stored = await identity.load(topic);
  const live = await liveIdentity(kafka, admin, topic, stored);
  const problems = logIdentityProblems(topic, stored, live);
  if (problems.length > 0) {
    throw new LogIdentityError(`refusing to batch: the Kafka log is not the one this schema's batches describe: ${problems.join('; ')}; ${REBASELINE_HINT}`, problems);
  }
  if (stored.clusterId === null) await identity.saveClusterId(live.clusterId);
  const fresh: PartitionFingerprint[] = [];
  for (const [partition, seen] of live.atFingerprint) {
    if (seen && !stored.partitions.some((f) => f.partition === partition)) fresh.push({ partition, firstOffset: seen.offset, sha256: seen.sha256 });
  }
  if (fresh.length > 0) await identity.saveFingerprints(topic, fresh);
  log?.info({ clusterId: live.clusterId, topic, partitions: live.partitions.length, fingerprinted: fresh.map((f) => f.partition) }, 'Kafka log identity checked');
}

/** What a rebaseline found and recorded. */
export interface RebaselineResult {
  previousClusterId: string | null;
  clusterId: string;
  problemsBefore: string[];
  fingerprints: PartitionFingerprint[];
}

/**
 * `claimtrail rebaseline --confirm`: accepts the current cluster and topic as the log of record
 * and overwrites the stored identity. Refused when a partition's high watermark does not reach
 * past its last stored batch: resuming there would skip the new log's records up to that offset
 * (use a fresh schema instead; see docs/runbooks.md#kafka-log-identity).
 */
export async function rebaselineLogIdentity(deps: LogIdentityDeps): Promise<RebaselineResult> {
  const { kafka, admin, identity, topic } = deps;
  const stored = await identity.load(topic);
  const live = await liveIdentity(kafka, admin, topic, stored);
  const problemsBefore = logIdentityProblems(topic, stored, live);
  const short = [...stored.lastBatched].filter(([partition, last]) => BigInt(live.partitions.find((p) => p.partition === partition)?.high ?? '0') <= last);
  if (short.length > 0) {
    throw new LogIdentityError(
      `cannot rebaseline: ${short.map(([p, last]) => `${topic}/${p} ends before the last stored batch offset ${last}`).join('; ')}; batching would skip those records: start on a fresh DATABASE_SCHEMA instead`,
      problemsBefore,
    );
  }
  // The fingerprint of every partition is taken afresh from its first retained record.
  const first = await firstRecordsFrom(kafka, topic, new Map(live.partitions.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, p.low])));
  const fingerprints = [...first].flatMap(([partition, seen]) => (seen ? [{ partition, firstOffset: seen.offset, sha256: seen.sha256 }] : []));
  await identity.saveClusterId(live.clusterId, true);
  await identity.deleteFingerprintsExcept(topic, fingerprints.map((f) => f.partition));
  await identity.saveFingerprints(topic, fingerprints, true);
  return { previousClusterId: stored.clusterId, clusterId: live.clusterId, problemsBefore, fingerprints };
}
