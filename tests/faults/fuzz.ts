import { decodeDecision } from '../../domain/decision-codec.ts';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { type Message, Partitioners } from 'kafkajs';
import pg from 'pg';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { DLQ_HEADERS, headerString } from '../../ingest/claim-decoder.ts';
import { createKafka } from '../../infra/kafka/kafka.ts';
import { trainModel } from '../../training/train.ts';
import { PipelineChild, sleep } from './children.ts';
import { fuzzMessageArbitrary } from './fuzz-messages.ts';
import { readTopic } from './invariants.ts';

/** Topic-level message size limit set on the fuzz run's claims and DLQ topics (bytes). */
const TOPIC_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** Huge messages are drawn among the first this many messages only. */
const HUGE_SPAN = 5000;

export interface FuzzOptions {
  /** Fuzzed messages (plus one valid sentinel at the end). Default 2,000. */
  count?: number;
  /** fast-check seed. Default 1. */
  seed?: number;
  /** Include payloads around the 1 MiB limit (about 1 in 90 of the first 5,000 messages). Default true. */
  huge?: boolean;
  onProgress?(line: string): void;
}

export interface FuzzReport {
  produced: number;
  decided: number;
  deadLettered: number;
  /** Input offsets with neither a decision nor a DLQ copy. */
  unaccounted: number;
  /** Input offsets with more than one outcome. */
  duplicated: number;
  /** DLQ copies without an `x-dlq-reason` header. */
  dlqWithoutReason: number;
  dlqReasons: Record<string, number>;
  kinds: Record<string, number>;
  /** Times the scoring child died on its own (must be 0: the consumer never stops). */
  crashes: number;
  rssStartMiB: number;
  rssPeakMiB: number;
  rssEndMiB: number;
  elapsedMs: number;
}

function rssMiB(pid: number | undefined): number {
  if (!pid) return 0;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

/**
 * Sends `count` fast-check hostile messages through the REAL scoring stage (`claimtrail run
 * --roles scoring` child, its own topics / group / schema) and accounts for every input offset:
 * exactly one decision or one DLQ copy with a reason. Samples the child's RSS once a second.
 */
export async function runFuzz(options: FuzzOptions = {}): Promise<FuzzReport> {
  const count = options.count ?? 2000;
  const say = options.onProgress ?? (() => {});
  const root = mkdtempSync(join(tmpdir(), 'claimtrail-fuzz-'));
  const log = createLogger(process.env.FAULTS_LOG_LEVEL ?? 'warn');
  const id = `fz_${randomBytes(4).toString('hex')}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CLAIMS_TOPIC: `${id}.claims`, DLQ_TOPIC: `${id}.claims.dlq`, DECISIONS_TOPIC: `${id}.decisions`,
    SCORING_GROUP_ID: `${id}-scoring`, BATCHING_GROUP_ID: `${id}-batching`, SCORING_INSTANCE_ID: id, ANCHOR_QUEUE: `${id}-anchor`,
    DATABASE_SCHEMA: id, MODEL_DIR: join(root, 'model'), STATE_DIR: join(root, 'state'), LOG_LEVEL: 'info',
  };
  mkdirSync(join(root, 'state'));
  const config = loadConfig(env);
  const kafka = createKafka(config, log);
  const admin = kafka.admin();
  const child = new PipelineChild('scoring', env, join(root, 'scoring.log'));
  const started = Date.now();
  try {
    say('training the model');
    const training = generateClaims({ count: 2000, seed: 11 });
    await trainModel({ claims: training.claims, labels: training.labels, outDir: join(root, 'model'), seed: 11, log });
    // The broker's default limit (message.max.bytes, about 1 MB) is below MAX_CLAIM_BYTES plus a
    // record's overhead, so claims just under and over 1 MiB could not even be produced: the
    // claims and DLQ topics of this run allow 4 MiB (a DLQ copy carries the original bytes).
    await admin.connect();
    const sized = [{ name: 'max.message.bytes', value: String(TOPIC_MAX_MESSAGE_BYTES) }];
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: config.kafka.topics.claims, numPartitions: config.kafka.partitions, replicationFactor: 1, configEntries: sized },
        { topic: config.kafka.topics.dlq, numPartitions: 1, replicationFactor: 1, configEntries: sized },
      ],
    });
    await child.start();
    say(`scoring child up (pid ${child.pid}), producing ${count} fuzzed messages`);
    const rssStart = rssMiB(child.pid);
    let rssPeak = rssStart;
    let crashes = 0;
    const sampler = setInterval(() => {
      if (child.alive) rssPeak = Math.max(rssPeak, rssMiB(child.pid));
      else crashes++;
    }, 1000);

    const kinds: Record<string, number> = {};
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 10_000 } });
    await producer.connect();
    // Huge payloads only in the first HUGE_SPAN messages: about 1 in 90 of those is ~1 MiB, enough
    // to cover both sides of the limit without pushing gigabytes through the broker in a long run.
    const withHuge = fuzzMessageArbitrary({ huge: options.huge ?? true });
    const withoutHuge = fuzzMessageArbitrary({ huge: false });
    const chunk = 500;
    let produced = 0;
    for (let from = 0; from < count; from += chunk) {
      const n = Math.min(chunk, count - from);
      const sample = fc.sample(from < HUGE_SPAN ? withHuge : withoutHuge, { numRuns: n, seed: (options.seed ?? 1) * 1_000_003 + from });
      for (const m of sample) kinds[m.kind] = (kinds[m.kind] ?? 0) + 1;
      const messages: Message[] = sample.map((m) => ({ key: m.key, value: m.value, ...(m.headers ? { headers: m.headers } : {}) }));
      // Huge messages alone: one produce request stays well under the broker's request limit.
      const small = messages.filter((m) => (m.value?.length ?? 0) < 64 * 1024);
      if (small.length > 0) await producer.send({ topic: config.kafka.topics.claims, messages: small });
      for (const m of messages.filter((x) => (x.value?.length ?? 0) >= 64 * 1024)) await producer.send({ topic: config.kafka.topics.claims, messages: [m] });
      produced += n;
      if (produced % 10_000 === 0 || produced === count) say(`produced ${produced}, scoring RSS ${rssMiB(child.pid)} MiB`);
    }
    // The sentinel: a valid claim after everything hostile must still be decided.
    const sentinel = generateClaims({ count: 1, seed: 4242 }).claims[0]!;
    await producer.send({ topic: config.kafka.topics.claims, messages: [{ key: sentinel.memberId, value: JSON.stringify(sentinel) }] });
    produced++;
    await producer.disconnect();

    const db = new pg.Client({ connectionString: config.database.url });
    await db.connect();
    say('waiting for every message to be decided or dead-lettered');
    const deadline = Date.now() + Math.max(120_000, count * 5);
    let decisionsSeen = 0;
    for (;;) {
      const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM "${config.database.schema}".claim_payloads`);
      decisionsSeen = Number(rows[0]!.n);
      const offsets = await admin.fetchTopicOffsets(config.kafka.topics.dlq);
      const dlqHigh = offsets.reduce((n, p) => n + Number(p.high), 0);
      // DLQ high watermarks include transaction markers: an upper bound, good enough to stop waiting.
      if (decisionsSeen + dlqHigh >= produced) break;
      if (Date.now() > deadline || !child.alive) break;
      await sleep(1000);
    }
    await db.end();
    clearInterval(sampler);
    const rssEnd = rssMiB(child.pid);
    if (!child.alive) crashes = Math.max(crashes, 1);

    say('reading decisions and DLQ (read_committed)');
    // Payload rows are written just before their Kafka transaction commits: expect that many
    // decisions, the rest in the DLQ; readTopic stops short (and the accounting says so) if not.
    const decisions = await readTopic(kafka, config.kafka.topics.decisions, decisionsSeen, 3000, 15_000);
    const dlq = await readTopic(kafka, config.kafka.topics.dlq, produced - decisionsSeen, 3000, 15_000);
    const outcomes = new Map<string, number>();
    const bump = (k: string) => outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
    for (const m of decisions) {
      const d = decodeDecision(m.value!);
      bump(`${d.input.partition}/${d.input.offset}`);
    }
    const dlqReasons: Record<string, number> = {};
    let dlqWithoutReason = 0;
    for (const m of dlq) {
      const reason = headerString(m.headers, DLQ_HEADERS.reason);
      if (!reason) dlqWithoutReason++;
      else dlqReasons[reason] = (dlqReasons[reason] ?? 0) + 1;
      bump(`${headerString(m.headers, DLQ_HEADERS.sourcePartition)}/${headerString(m.headers, DLQ_HEADERS.sourceOffset)}`);
    }
    // Every produced offset: the claims topic's partitions hold exactly the produced messages.
    let unaccounted = 0;
    const claimsOffsets = await admin.fetchTopicOffsets(config.kafka.topics.claims);
    let inTopic = 0;
    for (const p of claimsOffsets) {
      // The producer is idempotent, not transactional: offsets low..high-1 are all data records.
      for (let o = Number(p.low); o < Number(p.high); o++) {
        inTopic++;
        if (!outcomes.has(`${p.partition}/${o}`)) unaccounted++;
      }
    }
    if (inTopic !== produced) throw new Error(`claims topic holds ${inTopic} messages, ${produced} were produced`);
    return {
      produced, decided: decisions.length, deadLettered: dlq.length, unaccounted,
      duplicated: [...outcomes.values()].reduce((n, v) => n + (v - 1), 0), dlqWithoutReason, dlqReasons, kinds, crashes,
      rssStartMiB: rssStart, rssPeakMiB: rssPeak, rssEndMiB: rssEnd, elapsedMs: Date.now() - started,
    };
  } finally {
    await child.stop();
    await admin.deleteTopics({ topics: Object.values(config.kafka.topics) }).catch((error: unknown) => log.warn({ err: error }, 'deleting fuzz topics failed'));
    await admin.disconnect();
    const db = new pg.Client({ connectionString: config.database.url });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS "${config.database.schema}" CASCADE`);
    await db.end();
    rmSync(root, { recursive: true, force: true });
  }
}
