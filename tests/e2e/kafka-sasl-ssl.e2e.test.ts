import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../core/config.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { ClaimsProducer } from '../../ingest/claims.producer.ts';
import { startPipeline, type RunningPipeline } from '../../pipeline/runtime.ts';
import { devKeySources } from '../../cli/dev-sources.ts';
import { trainModel } from '../../training/train.ts';
import { generatedMessages } from '../../cli/commands/produce.command.ts';
import { secureKafkaPassword } from '../../stack/kafka-secure.ts';
import { runtimeProofs, runtimeTrust, stopAndDeleteTopics, waitUntilSettled } from '../support/pipeline.ts';
import { isolatedConfig, migratedSchema, testLog } from '../support/env.ts';
import { startSecureKafka, type SecureKafka } from '../support/secure-kafka.ts';

const run = promisify(execFile);
const CLAIMS = 300;
const MALFORMED = 5;
const SEED = 1717;

/** Runs `claimtrail produce` against the secure broker with `env` changes; exit code, stderr and wall time. */
async function produce(env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const result = await run(process.execPath, ['--disable-warning=TimeoutNegativeWarning', 'cli/main.ts', 'produce', '--generate', '5', '--no-progress'], { env, timeout: 120_000 }).then(
    (r) => ({ code: 0, ...r }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
  return { ...result, ms: Date.now() - started };
}

describe('the pipeline over SASL_SSL (SCRAM-SHA-512, TLS with a private CA and a client certificate) on a private Kafka 4.x', () => {
  let kafka: SecureKafka;
  let config: Readonly<Config>;
  let pipeline: RunningPipeline;
  let dropSchema: () => Promise<void>;
  let dir: string;
  let cliEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'claimtrail-sasl-ssl-'));
    kafka = await startSecureKafka(dir, testLog);
    const modelDir = join(dir, 'model');
    const training = generateClaims({ count: 2000, seed: 17 });
    await trainModel({ claims: training.claims, labels: training.labels, outDir: modelDir, seed: 17, log: testLog });
    config = isolatedConfig({ ...kafka.env, MODEL_DIR: modelDir, BATCH_MAX_AGE_MS: '500' });
    cliEnv = { ...process.env, ...kafka.env, CLAIMS_TOPIC: config.kafka.topics.claims, DLQ_TOPIC: config.kafka.topics.dlq, ACKS_TOPIC: config.kafka.topics.acks, LOG_LEVEL: 'warn' };
    dropSchema = await migratedSchema(config);
    pipeline = await startPipeline(config, testLog, devKeySources(config));
    const producer = new ClaimsProducer(pipeline.kafka);
    await producer.connect();
    await producer.produce(generatedMessages(CLAIMS, SEED, MALFORMED), { topic: config.kafka.topics.claims });
    await producer.disconnect();
    await waitUntilSettled(pipeline, CLAIMS, 180_000);
  }, 400_000);

  afterAll(async () => {
    await stopAndDeleteTopics(pipeline, config);
    await dropSchema?.();
    await kafka?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('decides, dead-letters, batches and anchors every claim; a decision verifies PASS', async () => {
    expect(config.kafka.ssl?.ca).toContain('BEGIN CERTIFICATE');
    expect(config.kafka.sasl?.mechanism).toBe('scram-sha-512');
    const counts = await pipeline.index.counts();
    expect(counts.decisions).toBe(CLAIMS);
    expect(counts.anchored).toBe(counts.batches);
    expect(pipeline.scoring?.counters.deadLettered).toBe(MALFORMED);
    const { rows } = await pipeline.pool.query<{ decision_id: string }>('SELECT decision_id FROM decisions ORDER BY random() LIMIT 3');
    const proofs = runtimeProofs(pipeline);
    for (const { decision_id } of rows) {
      expect(await proofs.verify((await pipeline.index.getDecision(decision_id))!, { minConfirmations: 1, trust: runtimeTrust(pipeline) })).toMatchObject({ ok: true });
    }
  });

  it('`claimtrail produce` works with SCRAM-SHA-256 and PLAIN too, and without a client certificate', async () => {
    for (const mechanism of ['scram-sha-256', 'plain']) {
      const ok = await produce({ ...cliEnv, KAFKA_SASL_MECHANISM: mechanism });
      expect(ok, mechanism).toMatchObject({ code: 0 });
      expect(ok.stdout).toMatch(/produced 5 claims/);
    }
    const { KAFKA_SSL_CERT_FILE: _c, KAFKA_SSL_KEY_FILE: _k, ...noClientCert } = cliEnv;
    expect(await produce(noClientCert)).toMatchObject({ code: 0 });
  });

  it('a wrong password fails within seconds with one line and exit 3, naming the user, never a password', async () => {
    const wrong = join(dir, 'wrong.password');
    writeFileSync(wrong, 'not-the-password\n', { mode: 0o600 });
    const result = await produce({ ...cliEnv, KAFKA_SASL_PASSWORD_FILE: wrong });
    expect(result.code).toBe(3);
    expect(result.ms).toBeLessThan(20_000);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^claimtrail: Kafka 127\.0\.0\.1:\d+ refused SASL authentication \(scram-sha-512, user claimtrail\)/);
    for (const secret of ['not-the-password', secureKafkaPassword(kafka.files)]) expect(`${result.stdout}${result.stderr}`).not.toContain(secret);
  });

  it('an untrusted broker certificate fails within seconds with one line and exit 3', async () => {
    const { KAFKA_SSL_CA_FILE: _ca, ...systemCas } = cliEnv;
    const result = await produce(systemCas);
    expect(result.code).toBe(3);
    expect(result.ms).toBeLessThan(20_000);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^claimtrail: TLS to Kafka 127\.0\.0\.1:\d+ failed \(SELF_SIGNED_CERT_IN_CHAIN\)/);
  });
});
