import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../core/config.ts';
import type { Claim } from '../../domain/claim.schema.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { claimToFhir } from '../../fixtures/fhir-writer.ts';
import { asDentalClaim, writeX12 } from '../../fixtures/x12-writer.ts';
import { DLQ_HEADERS, headerString } from '../../ingest/claim-decoder.ts';
import { ClaimsProducer } from '../../ingest/claims.producer.ts';
import { type InsurerMessage, readInsurerFile, x12Messages } from '../../ingest/insurer-files.ts';
import { startPipeline, type RunningPipeline } from '../../pipeline/runtime.ts';
import { devKeySources } from '../../cli/dev-sources.ts';
import { RULE_CODES } from '../../scoring/rules.ts';
import { trainModel } from '../../training/train.ts';
import { readTopic } from '../faults/invariants.ts';
import { stopAndDeleteTopics, waitUntilSettled } from '../support/pipeline.ts';
import { isolatedConfig, migratedSchema, testLog } from '../support/env.ts';

const run = promisify(execFile);

/**
 * One stream of every format through the real pipeline (all roles, the ingest role included):
 * own JSON, an 837P (`produce --file`), an 837I (`produce --file --via-interchange-topic`, split by
 * the ingest role), an 837D and a FHIR Bundle from the generator's writers, plus a truncated
 * interchange, bad JSON and a FHIR claim out of its value set. Every claim ends with exactly one
 * decision or one DLQ entry with a reason code; dental claims are never approved; `verify
 * --original` passes on the original 837I file and fails (exit 40) on an altered copy.
 */
describe('end to end: JSON + 837P + 837I + 837D + FHIR in one stream', () => {
  let config: Readonly<Config>;
  let pipeline: RunningPipeline;
  let dropSchema: () => Promise<void>;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const { claims } = generateClaims({ count: 120, seed: 123 });
  const professional = claims.filter((c) => c.claimType === 'professional');
  const institutional = claims.filter((c) => c.claimType === 'institutional').slice(0, 8);
  const json = professional.slice(0, 15);
  const p837 = professional.slice(15, 30);
  const d837 = professional.slice(30, 40).map(asDentalClaim);
  const fhir = professional.slice(40, 50);
  const valid: Claim[] = [...json, ...p837, ...institutional, ...d837, ...fhir];
  /** Rejected before or at scoring: truncated interchange (1 DLQ entry), bad JSON (1), FHIR status (1). */
  const rejected = 3;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'claimtrail-mixed-'));
    const training = generateClaims({ count: 1500, seed: 11 });
    await trainModel({ claims: training.claims, labels: training.labels, outDir: join(dir, 'model'), seed: 11, log: testLog });
    config = isolatedConfig({ MODEL_DIR: join(dir, 'model'), BATCH_MAX_SIZE: '50', BATCH_MAX_AGE_MS: '1000' });
    const t = config.kafka.topics;
    env = { ...process.env, CLAIMS_TOPIC: t.claims, DECISIONS_TOPIC: t.decisions, DLQ_TOPIC: t.dlq, ACKS_TOPIC: t.acks, INTERCHANGES_TOPIC: t.interchanges, SHADOW_TOPIC: t.shadow, DATABASE_SCHEMA: config.database.schema, PHI_MASTER_KEY: config.privacy.masterKeyHex, LOG_LEVEL: 'warn' };
    dropSchema = await migratedSchema(config);
    pipeline = await startPipeline(config, testLog, devKeySources(config));
    writeFileSync(join(dir, 'prof.837'), writeX12(p837, 'professional', { control: 11, lineBreaks: true }));
    writeFileSync(join(dir, 'inst.837'), writeX12(institutional, 'institutional', { control: 12, claimsPerSet: 3 }));
    writeFileSync(join(dir, 'bundle.json'), JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [...fhir.map((c) => ({ resource: claimToFhir(c) })), { resource: { ...claimToFhir(professional[50]!), status: 'pending' } }] }, null, 1));
    await run(process.execPath, ['cli/main.ts', 'produce', '--file', join(dir, 'prof.837'), '--no-progress'], { env });
    await run(process.execPath, ['cli/main.ts', 'produce', '--file', join(dir, 'inst.837'), '--via-interchange-topic'], { env });
    const whole = writeX12(professional.slice(51, 55), 'professional', { control: 13 });
    // Cut inside a segment (after a `*`), so the input ends mid-segment: X12_TRUNCATED.
    const truncated = whole.subarray(0, whole.lastIndexOf('*', whole.length - 300) + 1);
    const messages: InsurerMessage[] = [
      ...json.map((c): InsurerMessage => ({ route: 'claims', key: c.memberId, value: Buffer.from(JSON.stringify(c)), headers: {} })),
      { route: 'claims', key: 'M-bad', value: Buffer.from('{"claimId": "broken"'), headers: {} },
      ...x12Messages(writeX12(d837, 'dental', { control: 14 }), 'dental.edi'),
      ...x12Messages(truncated, 'truncated.edi'),
      ...readInsurerFile(join(dir, 'bundle.json')),
    ];
    const producer = new ClaimsProducer(pipeline.kafka);
    await producer.connect();
    await producer.produce(messages, { topic: t.claims, routes: { dlq: t.dlq, acks: t.acks } });
    await producer.disconnect();
    await waitUntilSettled(pipeline, valid.length, 300_000);
  }, 900_000);

  afterAll(async () => {
    await stopAndDeleteTopics(pipeline, config);
    await dropSchema?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives every valid claim exactly one decision and every rejected message one DLQ entry with a reason code', async () => {
    const { rows } = await pipeline.pool.query<{ claim_id: string; n: string }>('SELECT claim_id, count(*) AS n FROM decisions GROUP BY claim_id');
    expect(rows.map((r) => r.claim_id).sort()).toEqual(valid.map((c) => c.claimId).sort());
    expect(rows.every((r) => r.n === '1')).toBe(true);
    const dlq = await readTopic(pipeline.kafka, config.kafka.topics.dlq, rejected);
    expect(dlq.map((m) => headerString(m.headers, DLQ_HEADERS.reason)).sort()).toEqual(['FHIR_VALUE_INVALID', 'NOT_JSON', 'X12_TRUNCATED']);
    expect(dlq).toHaveLength(rejected);
  });

  it('never approves a dental claim: R_NOT_TRAINED_TYPE sends it to review', async () => {
    for (const c of d837) {
      const [decision] = await pipeline.index.findByClaimId(c.claimId);
      expect(decision?.outcome, c.claimId).not.toBe('approve');
      expect(decision?.reasons.map((r) => r.code)).toContain(RULE_CODES.notTrainedType);
    }
  });

  it('verify --original passes on the original 837I sent through the interchanges topic, and fails with exit 40 on an altered copy', async () => {
    const target = institutional[4]!;
    const ok = await run(process.execPath, ['cli/main.ts', 'verify', target.claimId, '--original', join(dir, 'inst.837'), '--json'], { env });
    expect(JSON.parse(ok.stdout)).toMatchObject({ result: 'PASS', claimId: target.claimId, format: 'x12' });
    const altered = readFileSync(join(dir, 'inst.837'), 'latin1').replace(`NM1*IL*1*MEMBER*A****MI*${target.memberId}`, 'NM1*IL*1*MEMBER*A****MI*SOMEONEELSE');
    writeFileSync(join(dir, 'altered.837'), altered, 'latin1');
    const failed = await run(process.execPath, ['cli/main.ts', 'verify', target.claimId, '--original', join(dir, 'altered.837'), '--json'], { env }).then(() => null, (error: { code: number; stdout: string }) => error);
    expect(failed?.code).toBe(40);
    expect(JSON.parse(failed!.stdout)).toMatchObject({ result: 'FAIL', code: 'ORIGINAL_MISMATCH' });
  });
});
