import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import type { Config } from '../core/config.ts';
import { connectProvider } from '../anchoring/chain/provider.ts';
import { InstanceRepository } from '../anchoring/instance.repository.ts';

/** One consumer group's lag on its input topic. */
export interface GroupLag {
  role: 'ingest' | 'scoring' | 'batching';
  group: string;
  topic: string;
  /** Sum over partitions of high watermark - committed offset (a partition without a commit counts from its low watermark). */
  lag: number;
  partitions: Array<{ partition: number; committed: string | null; high: string; lag: number }>;
}

/** `claimtrail status` as data (`--json` prints this object). Sections that could not be read hold `{ error }`. */
export interface PipelineStatus {
  at: string;
  instanceId: string | null;
  throughput: { decisionsLastMinute: number; decisionsLastHour: number } | { error: string };
  consumerLag: GroupLag[] | { error: string };
  pending: { batches: number; epochs: number; flaggedRoots: number; oldestPendingBatchAgeSeconds: number | null } | { error: string };
  /** Seconds from a decision's decided_at to the anchoring of its batch (its epoch, or the v1 batch), decisions anchored in the last 24 hours. */
  anchorLag: { sample: number; p50: number | null; p95: number | null; p99: number | null } | { error: string };
  lastAnchored: { blockNumber: string | null; txHash: string | null; at: string | null } | { error: string };
  signer:
    | {
        address: string | null;
        balanceWei: string | null;
        gasUsedLastDay: string;
        gasPriceWei: string | null;
        /** Wei spent per day at the last day's gas use and the current gas price. */
        spendWeiPerDay: string | null;
        /** null: nothing spent in the last day (no rate), or no balance known. */
        daysOfGasLeft: number | null;
      }
    | { error: string };
  dlq: { topic: string; messages: number; failedAnchorTransactionsLastDay: number } | { error: string };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

async function section<T>(fn: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await fn();
  } catch (error) {
    return { error: message(error) };
  }
}

async function one<T>(pool: Pool, sql: string, params: unknown[] = []): Promise<T> {
  const { rows } = await pool.query(sql, params);
  return rows[0] as T;
}

/** Lag of each pipeline consumer group on its input topic (kafkajs admin fetchOffsets vs fetchTopicOffsets). */
export async function consumerLag(kafka: Kafka, config: Readonly<Config>): Promise<GroupLag[]> {
  const { topics, ingestGroupId, scoringGroupId, batchingGroupId } = config.kafka;
  const groups: Array<Omit<GroupLag, 'lag' | 'partitions'>> = [
    { role: 'ingest', group: ingestGroupId, topic: topics.interchanges },
    { role: 'scoring', group: scoringGroupId, topic: topics.claims },
    { role: 'batching', group: batchingGroupId, topic: topics.decisions },
  ];
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const out: GroupLag[] = [];
    for (const g of groups) {
      if (!existing.has(g.topic)) continue;
      const watermarks = await admin.fetchTopicOffsets(g.topic);
      const committed = (await admin.fetchOffsets({ groupId: g.group, topics: [g.topic] }))[0]?.partitions ?? [];
      const partitions = watermarks
        .map((w) => {
          const c = committed.find((p) => p.partition === w.partition)?.offset;
          const from = c !== undefined && c !== '-1' ? BigInt(c) : BigInt(w.low);
          return { partition: w.partition, committed: c !== undefined && c !== '-1' ? c : null, high: w.high, lag: Number(BigInt(w.high) > from ? BigInt(w.high) - from : 0n) };
        })
        .sort((a, b) => a.partition - b.partition);
      out.push({ ...g, lag: partitions.reduce((s, p) => s + p.lag, 0), partitions });
    }
    return out;
  } finally {
    await admin.disconnect();
  }
}

/** Everything `claimtrail status` shows. Never throws for one unreachable service: its section holds the error. */
export async function collectStatus(deps: { pool: Pool; kafka: Kafka; config: Readonly<Config>; signer?: string }): Promise<PipelineStatus> {
  const { pool, kafka, config } = deps;
  const instanceId = await new InstanceRepository(pool).instanceId().catch(() => null);
  const throughput = await section(async () => {
    const r = await one<{ minute: number; hour: number }>(
      pool,
      "SELECT count(*) FILTER (WHERE decided_at > now() - interval '1 minute')::int AS minute, count(*)::int AS hour FROM decisions WHERE decided_at > now() - interval '1 hour'",
    );
    return { decisionsLastMinute: r.minute, decisionsLastHour: r.hour };
  });
  const lag = await section(() => consumerLag(kafka, config));
  const pending = await section(async () => {
    const r = await one<{ batches: number; epochs: number; flagged: number; oldest: number | null }>(
      pool,
      `SELECT (SELECT count(*)::int FROM batches b WHERE b.status = 'pending'
                AND NOT EXISTS (SELECT 1 FROM epoch_batches eb JOIN epochs e ON e.epoch_id = eb.epoch_id WHERE eb.batch_id = b.batch_id AND e.status = 'anchored')) AS batches,
              (SELECT count(*)::int FROM epochs WHERE status = 'pending') AS epochs,
              (SELECT count(*)::int FROM flagged_roots WHERE status = 'pending') AS flagged,
              (SELECT extract(epoch FROM now() - min(b.created_at))::float FROM batches b WHERE b.status = 'pending'
                AND NOT EXISTS (SELECT 1 FROM epoch_batches eb JOIN epochs e ON e.epoch_id = eb.epoch_id WHERE eb.batch_id = b.batch_id AND e.status = 'anchored')) AS oldest`,
    );
    return { batches: r.batches, epochs: r.epochs, flaggedRoots: r.flagged, oldestPendingBatchAgeSeconds: r.oldest === null ? null : Math.round(r.oldest) };
  });
  const anchorLag = await section(async () => {
    const r = await one<{ n: number; q: number[] | null }>(
      pool,
      `WITH anchored AS (
         SELECT d.decided_at, coalesce(e.anchored_at, b.anchored_at) AS anchored_at
           FROM decisions d JOIN batches b ON b.batch_id = d.batch_id
           LEFT JOIN epoch_batches eb ON eb.batch_id = b.batch_id
           LEFT JOIN epochs e ON e.epoch_id = eb.epoch_id AND e.status = 'anchored')
       SELECT count(*)::int AS n,
              percentile_cont(ARRAY[0.5, 0.95, 0.99]::float8[]) WITHIN GROUP (ORDER BY extract(epoch FROM anchored_at - decided_at)) AS q
         FROM anchored WHERE anchored_at > now() - interval '1 day'`,
    );
    const q = r.q ?? [null, null, null];
    const round = (v: number | null | undefined) => (v === null || v === undefined ? null : Math.round(v * 1000) / 1000);
    return { sample: r.n, p50: round(q[0]), p95: round(q[1]), p99: round(q[2]) };
  });
  const lastAnchored = await section(async () => {
    const r = await one<{ block_number: string | null; tx_hash: string | null; at: Date | null } | undefined>(
      pool,
      `SELECT block_number::text, tx_hash, anchored_at AS at FROM (
         SELECT block_number, tx_hash, anchored_at FROM epochs WHERE status = 'anchored'
         UNION ALL SELECT block_number, tx_hash, anchored_at FROM batches WHERE status = 'anchored'
         UNION ALL SELECT block_number, tx_hash, anchored_at FROM flagged_roots WHERE status = 'anchored') a
       ORDER BY block_number DESC NULLS LAST LIMIT 1`,
    );
    return { blockNumber: r?.block_number ?? null, txHash: r?.tx_hash ?? null, at: r?.at ? r.at.toISOString() : null };
  });
  const signer = await section(async () => {
    const spent = await one<{ gas: string; signer: string | null }>(
      pool,
      `SELECT coalesce(sum(gas_used) FILTER (WHERE block_number IS NOT NULL AND updated_at > now() - interval '1 day'), 0)::text AS gas,
              (SELECT signer FROM anchor_transactions ORDER BY created_at DESC LIMIT 1) AS signer
         FROM anchor_transactions`,
    );
    const address = deps.signer ?? spent.signer;
    const gasUsedLastDay = spent.gas;
    if (!address) return { address: null, balanceWei: null, gasUsedLastDay, gasPriceWei: null, spendWeiPerDay: null, daysOfGasLeft: null };
    const provider = await connectProvider(config.chain.rpcUrl);
    try {
      const [balance, fee] = await Promise.all([provider.getBalance(address), provider.getFeeData()]);
      const price = fee.maxFeePerGas ?? fee.gasPrice;
      const perDay = price === null ? null : BigInt(gasUsedLastDay) * price;
      const days = perDay === null || perDay === 0n ? null : Math.round((Number(balance) / Number(perDay)) * 10) / 10;
      return { address, balanceWei: balance.toString(), gasUsedLastDay, gasPriceWei: price?.toString() ?? null, spendWeiPerDay: perDay?.toString() ?? null, daysOfGasLeft: days };
    } finally {
      provider.destroy();
    }
  });
  const dlq = await section(async () => {
    const topic = config.kafka.topics.dlq;
    const admin = kafka.admin();
    await admin.connect();
    let messages = 0;
    try {
      if ((await admin.listTopics()).includes(topic)) {
        // Transaction markers count too: an upper bound on the records kept (30 days).
        for (const w of await admin.fetchTopicOffsets(topic)) messages += Number(BigInt(w.high) - BigInt(w.low));
      }
    } finally {
      await admin.disconnect();
    }
    const failed = await one<{ n: number }>(pool, "SELECT count(*)::int AS n FROM anchor_transactions WHERE state = 'failed' AND updated_at > now() - interval '1 day'");
    return { topic, messages, failedAnchorTransactionsLastDay: failed.n };
  });
  return { at: new Date().toISOString(), instanceId, throughput, consumerLag: lag, pending, anchorLag, lastAnchored, signer, dlq };
}

function isError(v: unknown): v is { error: string } {
  return typeof v === 'object' && v !== null && 'error' in v;
}

const ETH = (wei: string | null) => (wei === null ? '?' : `${(Number(BigInt(wei)) / 1e18).toFixed(6)} ETH`);

/** The one-screen text of `claimtrail status`. */
export function formatStatus(s: PipelineStatus): string {
  const lines: string[] = [`claimtrail status at ${s.at}  instance ${s.instanceId ?? '?'}`];
  const row = (label: string, value: string) => lines.push(`  ${label.padEnd(18)} ${value}`);
  row('throughput', isError(s.throughput) ? `unavailable: ${s.throughput.error}` : `${s.throughput.decisionsLastMinute} decisions in the last minute (${s.throughput.decisionsLastHour} in the last hour)`);
  if (isError(s.consumerLag)) row('consumer lag', `unavailable: ${s.consumerLag.error}`);
  else if (s.consumerLag.length === 0) row('consumer lag', 'no topics yet');
  else for (const g of s.consumerLag) row(`lag ${g.role}`, `${g.lag} (${g.group} on ${g.topic}, ${g.partitions.length} partitions)`);
  row('pending', isError(s.pending) ? `unavailable: ${s.pending.error}` : `${s.pending.batches} batches, ${s.pending.epochs} epochs, ${s.pending.flaggedRoots} flagged roots${s.pending.oldestPendingBatchAgeSeconds === null ? '' : `; oldest batch ${s.pending.oldestPendingBatchAgeSeconds} s`}`);
  row('anchor lag', isError(s.anchorLag) ? `unavailable: ${s.anchorLag.error}` : s.anchorLag.sample === 0 ? 'nothing anchored in the last day' : `p50 ${s.anchorLag.p50} s  p95 ${s.anchorLag.p95} s  p99 ${s.anchorLag.p99} s (${s.anchorLag.sample} decisions, last day)`);
  row('last anchored', isError(s.lastAnchored) ? `unavailable: ${s.lastAnchored.error}` : s.lastAnchored.blockNumber === null ? 'nothing yet' : `block ${s.lastAnchored.blockNumber} (${s.lastAnchored.at ?? '?'}, tx ${s.lastAnchored.txHash ?? '?'})`);
  if (isError(s.signer)) row('signer', `unavailable: ${s.signer.error}`);
  else if (s.signer.address === null) row('signer', 'no anchor transaction yet (pass --signer <address>)');
  else row('signer', `${s.signer.address} balance ${ETH(s.signer.balanceWei)}; ${s.signer.daysOfGasLeft === null ? 'no gas spent in the last day' : `${s.signer.daysOfGasLeft} days of gas left at ${s.signer.gasUsedLastDay} gas/day`}`);
  row('dlq', isError(s.dlq) ? `unavailable: ${s.dlq.error}` : `${s.dlq.messages} messages on ${s.dlq.topic}; ${s.dlq.failedAnchorTransactionsLastDay} failed anchor transactions in the last day`);
  return `${lines.join('\n')}\n`;
}
