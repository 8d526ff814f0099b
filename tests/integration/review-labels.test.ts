import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecisionIndexRepository, type IndexedDecision } from '../../anchoring/decision-index.repository.ts';
import { createPool, type Pool } from '../../infra/db/pool.ts';
import type { Claim } from '../../domain/claim.schema.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { createKafka } from '../../infra/kafka/kafka.ts';
import type { Actor } from '../../review/auth/roles.ts';
import { AttachmentRepository } from '../../review/repositories/attachment.repository.ts';
import { AuditRepository } from '../../review/repositories/audit.repository.ts';
import { CaseIndexRepository } from '../../review/repositories/case-index.repository.ts';
import { CaseRepository } from '../../review/repositories/case.repository.ts';
import { CaseIdentifierIndex } from '../../review/services/case-identifier-index.ts';
import { UserRepository } from '../../review/repositories/user.repository.ts';
import { AuthService } from '../../review/services/auth.service.ts';
import { CaseService } from '../../review/services/case.service.ts';
import { KafkaVerdictSink, toVerdict, VerdictPublisher } from '../../review/services/verdict.publisher.ts';
import { loadModelBundle } from '../../scoring/model-bundle.ts';
import { isolatedConfig, migratedSchema, testLog, uniqueName, payloadRepository } from '../support/env.ts';
import { CaseOpeningService } from '../../review/services/case-opening.service.ts';

const run = promisify(execFile);
const hex = (s: string) => `0x${createHash('sha256').update(s).digest('hex')}`;

/**
 * The feedback loop on the real Kafka and PostgreSQL: review decisions open cases, investigators
 * dispose them through the case service, the outbox produces verdicts, and the CLI turns the
 * verdicts topic (joined with claim_payloads) into labels and a trained model bundle.
 */
describe('review feedback loop: dispositions -> verdicts -> labels -> model', () => {
  // The CLI children read the payloads this test stores: same schema, same PHI master key.
  const overrides = { DATABASE_SCHEMA: uniqueName('t'), VERDICTS_TOPIC: uniqueName('verdicts'), PHI_MASTER_KEY: randomBytes(32).toString('hex') };
  const config = isolatedConfig({ DATABASE_SCHEMA: overrides.DATABASE_SCHEMA, PHI_MASTER_KEY: overrides.PHI_MASTER_KEY });
  const env = { ...process.env, ...overrides, LOG_LEVEL: 'warn' };
  let drop: () => Promise<void>;
  let pool: Pool;
  let sink: KafkaVerdictSink;
  let dir: string;
  /** claim id -> expected label (fraud), for the claims whose latest disposition settles it. */
  const expected = new Map<string, boolean>();
  let unsettled = '';

  beforeAll(async () => {
    drop = await migratedSchema(config);
    pool = createPool(config.database.url, config.database.schema, 4);
    dir = mkdtempSync(join(tmpdir(), 'claimtrail-labels-'));

    // 24 fraudulent and 36 legitimate claims, every one decided "review" (so each opens a case).
    const generated = generateClaims({ count: 600, seed: 5 });
    const fraud = new Map(generated.labels.map((l) => [l.claimId, l.fraud]));
    const picked: Claim[] = [...generated.claims.filter((c) => fraud.get(c.claimId)).slice(0, 24), ...generated.claims.filter((c) => !fraud.get(c.claimId)).slice(0, 36)];
    expect(picked).toHaveLength(60);
    const decisionsTopic = config.kafka.topics.decisions;
    const decisions: IndexedDecision[] = picked.map((c, i) => ({
      decisionId: hex(`decision-${c.claimId}`),
      claimId: c.claimId,
      score: 0.5,
      components: { rf: 0.5, nn: 0.5 },
      outcome: 'review',
      reasons: [],
      modelHash: hex('model'),
      decidedAt: new Date(Date.UTC(2026, 10, 24, 0, 0, i)).toISOString(),
      input: { topic: config.kafka.topics.claims, partition: 0, offset: String(i) },
      claimCommitment: hex(`commit-${i}`),
      salt: hex(`salt-${i}`),
      log: { topic: decisionsTopic, partition: 0, offset: String(i) },
      leaf: hex(`leaf-${i}`),
      batchId: hex('batch'),
      leafIndex: i,
    }));
    await (await payloadRepository(pool, config)).insertMany(
      picked.map((c, i) => ({ decisionId: decisions[i]!.decisionId, claimId: c.claimId, memberId: c.memberId, providerNpi: c.billingProviderNpi, claimBytes: Buffer.from(JSON.stringify(c)), claimType: c.claimType, totalCharged: c.totalCharged, salt: `0x${'5a'.repeat(32)}` })),
    );
    await new DecisionIndexRepository(pool).recordBatch(
      { batchId: hex('batch'), topic: decisionsTopic, partition: 0, firstOffset: '0', lastOffset: String(picked.length - 1), leafCount: picked.length, root: hex('root') },
      decisions,
      { hook: new CaseOpeningService() },
    );

    const users = new UserRepository(pool);
    const audit = new AuditRepository(pool);
    const cases = new CaseRepository(pool, await payloadRepository(pool, config));
    const auth = new AuthService({ users, audit, sessionHours: 1 });
    const investigator: Actor = { ...(await auth.createUser('ivy', 'investigator', null)).user, ip: '127.0.0.1' };
    const supervisor: Actor = { ...(await auth.createUser('sam', 'supervisor', null)).user, ip: '127.0.0.1' };
    sink = new KafkaVerdictSink(createKafka(config, testLog, '-labels-test'), overrides.VERDICTS_TOPIC);
    await sink.connect();
    const publisher = new VerdictPublisher(cases, sink, testLog);
    const service = new CaseService({ pool, cases, users, audit, index: new DecisionIndexRepository(pool), verdicts: publisher, attachments: new AttachmentRepository(pool), identifiers: new CaseIdentifierIndex(randomBytes(32), new CaseIndexRepository(pool)), chainHead: async () => 0n });

    // Work the whole queue: confirmed fraud / false positive by ground truth, except one claim
    // escalated and then judged by the supervisor (latest wins) and one left needing information.
    let n = 0;
    for (let c = await service.takeNext(investigator); c; c = await service.takeNext(investigator), n++) {
      const isFraud = fraud.get(c.claimId) === true;
      if (n === 0) {
        await service.dispose(investigator, c.caseId, 'escalated', 'looks like a ring, needs a second look');
        await service.dispose(supervisor, c.caseId, isFraud ? 'confirmed_fraud' : 'false_positive', 'checked with the provider');
        expected.set(c.claimId, isFraud);
      } else if (n === 1) {
        await service.dispose(investigator, c.caseId, 'needs_information', 'asked the member for the referral');
        unsettled = c.claimId;
      } else {
        await service.dispose(investigator, c.caseId, isFraud ? 'confirmed_fraud' : 'false_positive', 'records checked');
        expected.set(c.claimId, isFraud);
      }
    }
    expect(n).toBe(60);
    await publisher.flush();
    // At-least-once delivery: a redelivered batch of verdicts must not change the labels.
    const { rows } = await pool.query<{ disposition_id: string }>('SELECT disposition_id FROM dispositions ORDER BY disposition_id LIMIT 5');
    expect(rows).toHaveLength(5);
    const again = await pool.query<{ published_at: Date | null }>('SELECT published_at FROM dispositions WHERE published_at IS NULL');
    expect(again.rows).toHaveLength(0);
    await pool.query('UPDATE dispositions SET published_at = NULL WHERE disposition_id = ANY($1::bigint[])', [rows.map((r) => r.disposition_id)]);
    const redelivered = await cases.unpublishedDispositions(10);
    expect(redelivered).toHaveLength(5);
    await sink.send(redelivered.map(toVerdict));
  }, 180_000);

  afterAll(async () => {
    await sink?.disconnect();
    const admin = createKafka(config, testLog, '-labels-test').admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [overrides.VERDICTS_TOPIC] }).catch(() => undefined);
    await admin.disconnect();
    await pool?.end();
    await drop?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('review export-labels writes one label per settled claim (deduplicated, latest disposition wins)', async () => {
    const labelsFile = join(dir, 'labels.ndjson');
    const claimsFile = join(dir, 'claims.ndjson');
    const { stdout } = await run(process.execPath, ['cli/main.ts', 'review', 'export-labels', '--out', labelsFile, '--claims', claimsFile], { env });
    expect(stdout).toContain('66 verdicts (5 duplicates, 0 invalid)');
    const lines = readFileSync(labelsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { claimId: string; fraud: boolean; pattern: null });
    expect(lines).toHaveLength(59);
    expect(new Map(lines.map((l) => [l.claimId, l.fraud]))).toEqual(expected);
    expect(lines.every((l) => l.pattern === null)).toBe(true);
    expect(lines.some((l) => l.claimId === unsettled)).toBe(false);
    const claims = readFileSync(claimsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Claim);
    expect(claims.map((c) => c.claimId).sort()).toEqual(lines.map((l) => l.claimId).sort());
  }, 120_000);

  it('review export-labels writes its files owner-only (0600) and audits the export as the CLI operator, with counts and no identifiers', async () => {
    const labelsFile = join(dir, 'labels-private.ndjson');
    const claimsFile = join(dir, 'claims-private.ndjson');
    await run(process.execPath, ['cli/main.ts', 'review', 'export-labels', '--out', labelsFile, '--claims', claimsFile], { env });
    expect(statSync(labelsFile).mode & 0o777).toBe(0o600);
    expect(statSync(claimsFile).mode & 0o777).toBe(0o600);
    const { rows } = await pool.query<{ user_id: string | null; user_name: string; action: string; details: Record<string, unknown> }>(
      `SELECT user_id::text, user_name, action, details FROM audit_log WHERE action = 'labels.export' ORDER BY audit_id DESC LIMIT 1`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.user_id).toBeNull();
    expect(rows[0]!.user_name).toMatch(/^cli:/);
    expect(rows[0]!.details).toMatchObject({ labels: 59, claims: 59 });
    const details = JSON.stringify(rows[0]!.details);
    for (const claimId of expected.keys()) expect(details).not.toContain(claimId);
  }, 120_000);

  it('train --labels-from-topic trains a model bundle on the labelled claims', async () => {
    const out = join(dir, 'model');
    const { stdout, stderr } = await run(process.execPath, ['cli/main.ts', 'train', '--labels-from-topic', overrides.VERDICTS_TOPIC, '--out', out, '--trees', '10', '--epochs', '3', '--seed', '3', '--no-progress'], { env });
    const frauds = [...expected.values()].filter(Boolean).length;
    expect(stderr).toContain(`59 with a claim payload (${frauds} fraud, ${59 - frauds} not), 0 without`);
    expect(stdout).toMatch(/trained on \d+ claims .* 59 claims in all/);
    const hash = /model hash:\s+(0x[0-9a-f]{64})/.exec(stdout)?.[1];
    expect(hash).toBeDefined();
    const bundle = await loadModelBundle(out);
    expect(bundle.modelHash).toBe(hash);
    expect(bundle.manifest.training).toEqual(expect.objectContaining({ seed: 3 }));
  }, 300_000);

  it('train --labels-from verdicts reads VERDICTS_TOPIC; an unknown source is refused with exit 2', async () => {
    const bad = await run(process.execPath, ['cli/main.ts', 'train', '--labels-from', 'tickets'], { env }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--labels-from knows only "verdicts"');
    const out = join(dir, 'model-default');
    const { stderr } = await run(process.execPath, ['cli/main.ts', 'train', '--labels-from', 'verdicts', '--out', out, '--trees', '5', '--epochs', '2', '--no-progress'], { env });
    expect(stderr).toContain(`${overrides.VERDICTS_TOPIC}: 66 verdicts`);
    expect((await loadModelBundle(out)).manifest.format).toBe('claimtrail-model-v1');
  }, 300_000);
});
