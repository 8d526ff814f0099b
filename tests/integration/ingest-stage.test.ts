import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConfigResourceTypes, Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../core/config.ts';
import type { Claim } from '../../domain/claim.schema.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { claimToFhir } from '../../fixtures/fhir-writer.ts';
import { asDentalClaim, writeX12 } from '../../fixtures/x12-writer.ts';
import { CONTENT_TYPE_HEADER, DLQ_HEADERS, decodeClaim, headerString } from '../../ingest/claim-decoder.ts';
import { sendInterchangeFile } from '../../ingest/interchanges.producer.ts';
import { INTERCHANGES_TOPIC_MAX_MESSAGE_BYTES, createKafka, ensureTopics } from '../../infra/kafka/kafka.ts';
import { IngestStage } from '../../pipeline/ingest.stage.ts';
import { readTopic } from '../faults/invariants.ts';
import { isolatedConfig, testLog } from '../support/env.ts';

/**
 * The ingest role on the real broker: whole files on the interchanges topic (one up to ~12 MiB)
 * become claim slices / resources on `claims`, DLQ entries and acknowledgements, exactly once.
 */
describe('ingest stage: interchanges -> claims, DLQ, acks (real Kafka)', () => {
  let config: Readonly<Config>;
  let stage: IngestStage;
  let dir: string;
  const kafka = () => createKafka(config, testLog);
  const { claims } = generateClaims({ count: 400, seed: 21 });
  const professional = claims.filter((c) => c.claimType === 'professional');
  const institutional = claims.filter((c) => c.claimType === 'institutional');
  const dental = professional.slice(0, 40).map((c) => ({ ...asDentalClaim(c), claimId: `${c.claimId}-D` }));
  // ~12 MiB: the professional claims again and again under new claim ids.
  const big: Claim[] = [];
  for (let k = 0; big.length < 20_000; k++) big.push(...professional.map((c) => ({ ...c, claimId: `${c.claimId}-B${k}` })));
  const fhir = claims.slice(0, 5);
  const expectedIds = [...professional, ...institutional, ...dental, ...big, ...fhir].map((c) => c.claimId).sort();

  beforeAll(async () => {
    config = isolatedConfig();
    dir = mkdtempSync(join(tmpdir(), 'claimtrail-ingest-'));
    await ensureTopics(kafka(), config);
    stage = new IngestStage({ kafka: kafka(), config, log: testLog });
    await stage.start();
    const p837 = writeX12(professional, 'professional', { control: 1 });
    const files: Array<[string, Buffer]> = [
      ['prof.837', p837],
      ['inst.837', writeX12(institutional, 'institutional', { control: 2, lineBreaks: true })],
      ['dental.edi', writeX12(dental, 'dental', { control: 3, claimsPerSet: 7 })],
      ['big.x12', writeX12(big, 'professional', { control: 4, claimsPerSet: 5000 })],
      ['truncated.837', p837.subarray(0, Math.floor(p837.length / 2))],
      ['bundle.json', Buffer.from(JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: fhir.map((c) => ({ resource: claimToFhir(c) })) }))],
    ];
    for (const [name, bytes] of files) {
      writeFileSync(join(dir, name), bytes);
      await sendInterchangeFile(kafka(), config.kafka.topics.interchanges, join(dir, name));
    }
    // A content type the stage does not read: dead-lettered whole.
    const producer = kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic: config.kafka.topics.interchanges, messages: [{ key: 'x', value: 'PDF', headers: { [CONTENT_TYPE_HEADER]: 'application/pdf' } }] });
    await producer.disconnect();
  }, 300_000);

  afterAll(async () => {
    await stage?.stop();
    const admin = kafka().admin();
    await admin.connect();
    await admin.deleteTopics({ topics: Object.values(config.kafka.topics) }).catch(() => undefined);
    await admin.disconnect();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('creates the interchanges topic with max.message.bytes 64 MiB', async () => {
    const admin = kafka().admin();
    await admin.connect();
    const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2 as ConfigResourceTypes, name: config.kafka.topics.interchanges, configNames: ['max.message.bytes'] }] });
    await admin.disconnect();
    expect(Number(described.resources[0]!.configEntries[0]!.configValue)).toBe(INTERCHANGES_TOPIC_MAX_MESSAGE_BYTES);
  });

  it('writes every claim once (read_committed) with its content type, the rejections to the DLQ with reasons and input positions, and one acknowledgement per X12 interchange', async () => {
    const out = await readTopic(kafka(), config.kafka.topics.claims, expectedIds.length, 3000, 120_000);
    const ids = out.map((m) => {
      const decoded = decodeClaim(m.value, m.headers);
      expect(decoded.ok).toBe(true);
      return decoded.ok ? decoded.claim.claimId : '';
    });
    expect(ids.sort()).toEqual(expectedIds);
    expect(new Set(out.map((m) => headerString(m.headers, CONTENT_TYPE_HEADER)))).toEqual(new Set(['application/edi-x12', 'application/fhir+json']));
    const dlq = await readTopic(kafka(), config.kafka.topics.dlq, 2);
    expect(dlq.map((m) => headerString(m.headers, DLQ_HEADERS.reason)).sort()).toEqual(['CONTENT_TYPE_UNKNOWN', 'X12_TRUNCATED']);
    for (const m of dlq) {
      expect(headerString(m.headers, DLQ_HEADERS.sourceTopic)).toBe(config.kafka.topics.interchanges);
      expect(headerString(m.headers, DLQ_HEADERS.sourceOffset)).toMatch(/^\d+$/);
    }
    const acks = (await readTopic(kafka(), config.kafka.topics.acks, 5)).map((m) => m.value!.toString('latin1'));
    expect(acks).toHaveLength(5);
    expect(acks.filter((a) => /~TA1\*00000000\d\*\d{6}\*\d{4}\*A\*000~/.test(a))).toHaveLength(4);
    expect(acks.filter((a) => /~TA1\*000000001\*\d{6}\*\d{4}\*R\*/.test(a))).toHaveLength(1);
    expect(acks.find((a) => a.includes('TA1*000000004'))!.match(/STC\*A2:20/g)).toHaveLength(big.length);
    expect(stage.counters).toMatchObject({ interchanges: 7, claims: expectedIds.length, deadLettered: 2, acks: 5 });
  }, 300_000);
});
