import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../core/config.ts';
import { decodeDecision } from '../../domain/decision-codec.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { ClaimsProducer } from '../../ingest/claims.producer.ts';
import { DLQ_HEADERS, headerString } from '../../ingest/claim-decoder.ts';
import { startPipeline, type RunningPipeline } from '../../pipeline/runtime.ts';
import { devKeySources } from '../../cli/dev-sources.ts';
import { generatedMessages } from '../../cli/commands/produce.command.ts';
import { trainModel } from '../../training/train.ts';
import { stopAndDeleteTopics, waitUntilSettled } from '../support/pipeline.ts';
import { isolatedConfig, migratedSchema, testLog } from '../support/env.ts';
import { privateServiceUnavailable, startPrivateService, type PrivateService } from '../support/private-services.ts';

const CLAIMS = 300;
const MALFORMED = 12;
const SEED = 1717;

async function readTopic(pipeline: RunningPipeline, topic: string, expected: number): Promise<KafkaMessage[]> {
  const consumer = pipeline.kafka.consumer({ groupId: `${topic}-reader-${Date.now()}`, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const messages: KafkaMessage[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${topic}: ${messages.length} of ${expected}`)), 60_000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        messages.push(message);
        if (messages.length >= expected) {
          clearTimeout(timer);
          setTimeout(resolve, 1000);
        }
      },
    });
  });
  await consumer.disconnect();
  return messages;
}

/** Parses Prometheus text into `name{labels}` -> value. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

const skip = privateServiceUnavailable('postgres');

describe.skipIf(skip !== null)('metrics and health endpoint on the real stack', () => {
  let config: Readonly<Config>;
  let pipeline: RunningPipeline;
  let postgres: PrivateService;
  let dropSchema: () => Promise<void>;
  let modelDir: string;
  let base: string;
  const TOKEN = 'metrics-test-token-0123456789';

  beforeAll(async () => {
    postgres = await startPrivateService('postgres', tmpdir(), testLog);
    modelDir = mkdtempSync(join(tmpdir(), 'claimtrail-model-'));
    const training = generateClaims({ count: 1500, seed: 17 });
    await trainModel({ claims: training.claims, labels: training.labels, outDir: modelDir, seed: 17, forest: { nTrees: 20 }, network: { epochs: 3 }, log: testLog });
    config = isolatedConfig({ MODEL_DIR: modelDir, BATCH_MAX_SIZE: '100', BATCH_MAX_AGE_MS: '1000', DATABASE_URL: postgres.env.DATABASE_URL!, METRICS_TOKEN: TOKEN });
    dropSchema = await migratedSchema(config);
    pipeline = await startPipeline(config, testLog, devKeySources(config), undefined, { metricsPort: 0, sampleMs: 500 });
    base = `http://127.0.0.1:${pipeline.metricsServer!.port}`;
    const producer = new ClaimsProducer(pipeline.kafka);
    await producer.connect();
    await producer.produce(generatedMessages(CLAIMS, SEED, MALFORMED), { topic: config.kafka.topics.claims });
    await producer.disconnect();
    await waitUntilSettled(pipeline, CLAIMS, 240_000);
  }, 600_000);

  afterAll(async () => {
    await stopAndDeleteTopics(pipeline, config).catch(() => undefined);
    await dropSchema?.().catch(() => undefined);
    await postgres?.dispose();
    if (modelDir) rmSync(modelDir, { recursive: true, force: true });
  }, 120_000);

  it('/metrics needs the bearer token', async () => {
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer wrong-token-of-same-size-xx' } })).status).toBe(401);
  });

  it('counters equal the topics and the decision index; histograms have counts', async () => {
    const decisions = await readTopic(pipeline, config.kafka.topics.decisions, CLAIMS);
    const dlq = await readTopic(pipeline, config.kafka.topics.dlq, MALFORMED);
    const byOutcome = new Map<string, number>();
    for (const m of decisions) {
      const outcome = decodeDecision(m.value!).outcome;
      byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + 1);
    }
    const byReason = new Map<string, number>();
    for (const m of dlq) {
      const reason = headerString(m.headers, DLQ_HEADERS.reason)!;
      byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
    }
    const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const m = parse(await res.text());
    // The registry is per process: this file's pipeline is the only one in this worker.
    expect(m.get('claimtrail_claims_consumed_total')).toBe(CLAIMS + MALFORMED);
    for (const [outcome, n] of byOutcome) expect(m.get(`claimtrail_decisions_total{outcome="${outcome}"}`), outcome).toBe(n);
    const counts = await pipeline.index.counts();
    expect(m.get('claimtrail_decisions_total{outcome="flag"}') ?? 0).toBe(counts.flagged);
    expect(m.get('claimtrail_decisions_total{outcome="review"}') ?? 0).toBe(counts.review);
    for (const [reason, n] of byReason) expect(m.get(`claimtrail_dlq_total{reason="${reason}"}`), reason).toBe(n);
    const dlqTotal = [...m].filter(([k]) => k.startsWith('claimtrail_dlq_total{')).reduce((s, [, v]) => s + v, 0);
    expect(dlqTotal).toBe(dlq.length);
    for (const stage of ['decode', 'score', 'transaction', 'batch_close']) expect(m.get(`claimtrail_stage_duration_seconds_count{stage="${stage}"}`), stage).toBeGreaterThan(0);
    expect(m.get('claimtrail_batch_size_sum')).toBe(counts.decisions);
    expect(m.get('claimtrail_batch_size_count')).toBe(counts.batches);
    expect(m.get('claimtrail_batch_age_seconds_count')).toBe(counts.batches);
    expect(m.get('claimtrail_redis_aggregate_duration_seconds_count')).toBeGreaterThan(0);
    expect(m.get('claimtrail_anchor_lag_seconds_count{to="mined"}')).toBeGreaterThan(0);
    expect(m.get('claimtrail_anchor_lag_seconds_count{to="confirmed"}')).toBeGreaterThan(0);
    expect(m.get('claimtrail_anchor_transactions_total{state="confirmed"}')).toBeGreaterThan(0);
    expect(m.get('claimtrail_anchor_gas_used_total')).toBeGreaterThan(0);
    expect(m.get('claimtrail_anchor_fee_paid_wei_total')).toBeGreaterThan(0);
    expect(m.get('claimtrail_batches_anchored_total')).toBeGreaterThanOrEqual(counts.batches);
    expect(m.get('claimtrail_signer_balance_wei')).toBeGreaterThan(0);
    expect(m.get(`claimtrail_consumer_lag{group="${config.kafka.scoringGroupId}",topic="${config.kafka.topics.claims}",partition="0"}`)).toBeGreaterThanOrEqual(0);
    expect(m.has('claimtrail_process_cpu_seconds_total')).toBe(true);
    // No identifier ever becomes a label.
    const text = [...m.keys()].join('\n');
    for (const d of decisions.slice(0, 20)) expect(text).not.toContain(decodeDecision(d.value!).claimId);
  });

  it('/healthz is 200 while the event loop runs', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('ok');
  });

  it('/readyz names each check: 503 while its PostgreSQL is stopped, 200 after it restarts', async () => {
    const ready = async () => {
      const res = await fetch(`${base}/readyz`);
      return { status: res.status, body: (await res.json()) as { checks: Record<string, { ok: boolean }> } };
    };
    const before = await ready();
    expect(before.status).toBe(200);
    expect(Object.keys(before.body.checks).sort()).toEqual(['chain', 'consumer:batching', 'consumer:scoring', 'kafka', 'postgres', 'redis']);
    await postgres.stop('clean');
    const down = await ready();
    expect(down.status).toBe(503);
    expect(down.body.checks.postgres!.ok).toBe(false);
    expect(down.body.checks.redis!.ok).toBe(true);
    await postgres.start();
    const deadline = Date.now() + 30_000;
    let after = await ready();
    while (after.status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      after = await ready();
    }
    expect(after.status).toBe(200);
    expect(after.body.checks.postgres!.ok).toBe(true);
  }, 120_000);
});
