import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../core/config.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { claimToFhir } from '../../fixtures/fhir-writer.ts';
import { CONTENT_TYPE_HEADER, DLQ_HEADERS, headerString } from '../../ingest/claim-decoder.ts';
import { ClaimsProducer } from '../../ingest/claims.producer.ts';
import { FHIR_CONTENT_TYPE } from '../../ingest/fhir/fhir-claim.ts';
import { type InsurerMessage, readInsurerFile } from '../../ingest/insurer-files.ts';
import { startPipeline, type RunningPipeline } from '../../pipeline/runtime.ts';
import { devKeySources } from '../../cli/dev-sources.ts';
import { claimCommitment } from '../../anchoring/core/commitment.ts';
import { recomputeSlices } from '../../ingest/x12/x12-slice.ts';
import { trainModel } from '../../training/train.ts';
import { stopAndDeleteTopics, waitUntilSettled } from '../support/pipeline.ts';
import { isolatedConfig, migratedSchema, payloadRepository, testLog } from '../support/env.ts';
import { readFileSync } from 'node:fs';

const run = promisify(execFile);
const SAMPLES = join(import.meta.dirname, '../../../shared/samples/x12');
const HOME_INFUSION = join(SAMPLES, 'home-infusion-therapy-pharmacy-(adjudicated-with-NDC-in-loop-2410).edi');

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

/**
 * Insurer formats through the real stack: an 837P sample (produce --file), a rejected 837I, a
 * FHIR Claim from the generator's writer and own JSON claims in one stream; every claim gets one
 * decision or one DLQ entry, and `claimtrail verify` passes for the X12 and the FHIR claim.
 */
describe('end to end: X12, FHIR and JSON claims in one stream', () => {
  let config: Readonly<Config>;
  let pipeline: RunningPipeline;
  let dropSchema: () => Promise<void>;
  let modelDir: string;
  let env: NodeJS.ProcessEnv;
  const { claims } = generateClaims({ count: 20, seed: 99 });
  const fhirClaim = claims[0]!;
  let messages: InsurerMessage[];

  beforeAll(async () => {
    modelDir = mkdtempSync(join(tmpdir(), 'claimtrail-model-'));
    const training = generateClaims({ count: 1500, seed: 11 });
    await trainModel({ claims: training.claims, labels: training.labels, outDir: modelDir, seed: 11, log: testLog });
    config = isolatedConfig({ MODEL_DIR: modelDir, BATCH_MAX_SIZE: '50', BATCH_MAX_AGE_MS: '1000' });
    env = { ...process.env, CLAIMS_TOPIC: config.kafka.topics.claims, DECISIONS_TOPIC: config.kafka.topics.decisions, DLQ_TOPIC: config.kafka.topics.dlq, ACKS_TOPIC: config.kafka.topics.acks, DATABASE_SCHEMA: config.database.schema, LOG_LEVEL: 'warn' };
    dropSchema = await migratedSchema(config);
    pipeline = await startPipeline(config, testLog, devKeySources(config));
    // The 837P sample goes through the CLI exactly as an operator would send it.
    await run(process.execPath, ['cli/main.ts', 'produce', '--file', HOME_INFUSION, '--no-progress'], { env });
    messages = [
      ...readInsurerFile(join(SAMPLES, '837-institutional-claim.edi')),
      { route: 'claims', key: fhirClaim.memberId, value: Buffer.from(JSON.stringify(claimToFhir(fhirClaim))), headers: { [CONTENT_TYPE_HEADER]: FHIR_CONTENT_TYPE } },
      ...claims.slice(1).map((c): InsurerMessage => ({ route: 'claims', key: c.memberId, value: Buffer.from(JSON.stringify(c)), headers: {} })),
    ];
    const producer = new ClaimsProducer(pipeline.kafka);
    await producer.connect();
    await producer.produce(messages, { topic: config.kafka.topics.claims, routes: { dlq: config.kafka.topics.dlq, acks: config.kafka.topics.acks } });
    await producer.disconnect();
    // 1 X12 + 1 FHIR + 19 JSON decisions; the 837I sample is dead-lettered (RD8 with one date).
    await waitUntilSettled(pipeline, 21, 240_000);
  }, 600_000);

  afterAll(async () => {
    await stopAndDeleteTopics(pipeline, config);
    await dropSchema?.();
    if (modelDir) rmSync(modelDir, { recursive: true, force: true });
  });

  it('decides the X12, FHIR and JSON claims once each and dead-letters the bad 837I claim with its reason and position', async () => {
    const { rows } = await pipeline.pool.query<{ claim_id: string }>('SELECT claim_id FROM decisions');
    const ids = rows.map((r) => r.claim_id).sort();
    expect(ids).toEqual(['CLMNO12345', ...claims.map((c) => c.claimId)].sort());
    const dlq = await readTopic(pipeline, config.kafka.topics.dlq, 1);
    expect(dlq).toHaveLength(1);
    expect(headerString(dlq[0]!.headers, DLQ_HEADERS.reason)).toBe('CLAIM_DATE_INVALID');
    expect(JSON.parse(headerString(dlq[0]!.headers, DLQ_HEADERS.errors)!)[0]).toMatchObject({ path: 'ST=987654/loop=2300/seg=21:DTP/DTP03' });
  });

  it('commits to the X12 claim slice: recomputed from the original file with the salt, it gives the commitment; the CLI verify passes', async () => {
    const decision = (await pipeline.index.getDecision((await pipeline.pool.query<{ decision_id: string }>(`SELECT decision_id FROM decisions WHERE claim_id = 'CLMNO12345'`)).rows[0]!.decision_id))!;
    const [slice] = recomputeSlices(readFileSync(HOME_INFUSION), 'CLMNO12345');
    const salt = await (await payloadRepository(pipeline.pool, config)).salt(decision.decisionId);
    expect(salt?.state).toBe('present');
    expect(claimCommitment(slice!, salt?.state === 'present' ? salt.value : '')).toBe(decision.claimCommitment);
    const x12 = await run(process.execPath, ['cli/main.ts', 'verify', 'CLMNO12345', '--json'], { env });
    expect(JSON.parse(x12.stdout)).toMatchObject({ result: 'PASS', claimId: 'CLMNO12345' });
    const fhir = await run(process.execPath, ['cli/main.ts', 'verify', fhirClaim.claimId, '--json'], { env });
    expect(JSON.parse(fhir.stdout)).toMatchObject({ result: 'PASS', claimId: fhirClaim.claimId });
  });

  it('sends a TA1, a 999 and a 277CA for each interchange', async () => {
    const acks = (await readTopic(pipeline, config.kafka.topics.acks, 2)).map((m) => m.value!.toString('latin1'));
    const home = acks.find((a) => a.includes('TRN*2*CLMNO12345'))!;
    expect(home).toMatch(/~TA1\*000010216\*061015\*1705\*A\*000~/);
    expect(home).toMatch(/~AK2\*837\*0711\*005010X222A1~IK5\*A~AK9\*A\*1\*1\*1~/);
    expect(home).toMatch(/~TRN\*2\*CLMNO12345~STC\*A2:20\*\d{8}\*WQ\*2232.93~/);
    const inst = acks.find((a) => a.includes('TRN*2*756048Q'))!;
    expect(inst).toMatch(/STC\*A3:21\*\d{8}\*U\*+CLAIM_DATE_INVALID~/);
  });
});
