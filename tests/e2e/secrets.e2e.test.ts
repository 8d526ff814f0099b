import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonRpcProvider, Wallet } from 'ethers';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../core/config.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { ClaimsProducer } from '../../ingest/claims.producer.ts';
import { createKafka } from '../../infra/kafka/kafka.ts';
import { generatedMessages } from '../../cli/commands/produce.command.ts';
import { LocalKeyWrapper } from '../../privacy/key-wrapper.ts';
import { trainModel } from '../../training/train.ts';
import { PipelineChild, sleep } from '../faults/children.ts';
import { testLog } from '../support/env.ts';

const CLAIMS = 300;
const MALFORMED = 10;

/**
 * Secrets never reach the logs: the whole pipeline runs as `claimtrail run` children at
 * LOG_LEVEL=debug with the anchoring signer given as SIGNER_PRIVATE_KEY (a fresh, funded key) and
 * a fresh PHI master key as PHI_MASTER_KEY (base64), claims go all the way to anchored batches
 * (payloads encrypted under data keys wrapped by that master key), and every byte the children
 * wrote to stdout/stderr is searched for both keys: the signer with and without 0x, the master key
 * as hex, base64 and base64url, any case. Any other *MASTER_KEY* variable in the environment is
 * searched for too.
 */
describe('secrets in logs (end to end, LOG_LEVEL=debug)', () => {
  const root = mkdtempSync(join(tmpdir(), 'claimtrail-secrets-'));
  const signer = Wallet.createRandom();
  const masterKey = randomBytes(32);
  const id = `sec_${randomBytes(4).toString('hex')}`;
  let config: Readonly<Config>;
  let env: NodeJS.ProcessEnv;
  let children: PipelineChild[] = [];
  let keyring: { masterKeyId: string; sealed: number } | undefined;

  beforeAll(async () => {
    mkdirSync(join(root, 'state'));
    const training = generateClaims({ count: 2000, seed: 11 });
    await trainModel({ claims: training.claims, labels: training.labels, outDir: join(root, 'model'), seed: 11, log: testLog });
    env = {
      ...process.env,
      CLAIMS_TOPIC: `${id}.claims`, DLQ_TOPIC: `${id}.claims.dlq`, DECISIONS_TOPIC: `${id}.decisions`,
      SCORING_GROUP_ID: `${id}-scoring`, BATCHING_GROUP_ID: `${id}-batching`, SCORING_INSTANCE_ID: id, ANCHOR_QUEUE: `${id}-anchor`,
      DATABASE_SCHEMA: id, MODEL_DIR: join(root, 'model'), STATE_DIR: join(root, 'state'),
      BATCH_MAX_SIZE: '100', BATCH_MAX_AGE_MS: '1000', LOG_LEVEL: 'debug',
      SIGNER_PRIVATE_KEY: signer.privateKey,
      PHI_MASTER_KEY: masterKey.toString('base64'),
    };
    delete env.PHI_MASTER_KEY_FILE;
    config = loadConfig(env);
    // Fund the fresh signer on the local dev chain (the stack's own dev key is not used).
    const provider = new JsonRpcProvider(config.chain.rpcUrl);
    await provider.send('anvil_setBalance', [signer.address, '0x56BC75E2D63100000']);
    provider.destroy();
    children = (['scoring', 'batching', 'anchoring'] as const).map((role) => new PipelineChild(role, env, join(root, `${role}.log`)));
    for (const c of children) await c.start();
    const kafka = createKafka(config, testLog);
    const producer = new ClaimsProducer(kafka);
    await producer.connect();
    await producer.produce(generatedMessages(CLAIMS, 5, MALFORMED), { topic: config.kafka.topics.claims });
    await producer.disconnect();
    const db = new pg.Client({ connectionString: config.database.url });
    await db.connect();
    try {
      const deadline = Date.now() + 180_000;
      for (;;) {
        const { rows } = await db.query<{ decisions: string; pending: string }>(
          `SELECT (SELECT count(*) FROM "${id}".decisions) AS decisions, (SELECT count(*) FROM "${id}".batches WHERE status <> 'anchored') AS pending`,
        );
        if (Number(rows[0]!.decisions) >= CLAIMS && Number(rows[0]!.pending) === 0) break;
        if (Date.now() > deadline) throw new Error(`pipeline did not finish: ${JSON.stringify(rows[0])}`);
        await sleep(500);
      }
      const { rows } = await db.query<{ master_key_id: string; sealed: string }>(
        `SELECT (SELECT master_key_id FROM "${id}".phi_keyring) AS master_key_id, (SELECT count(*) FROM "${id}".claim_payloads WHERE ciphertext IS NOT NULL) AS sealed`,
      );
      keyring = { masterKeyId: rows[0]!.master_key_id, sealed: Number(rows[0]!.sealed) };
    } finally {
      await db.end();
    }
    for (const c of children) await c.stop();
  }, 420_000);

  afterAll(async () => {
    for (const c of children) await c.stop();
    const kafka = createKafka(config, testLog);
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: Object.values(config.kafka.topics) }).catch(() => undefined);
    await admin.disconnect();
    const db = new pg.Client({ connectionString: config.database.url });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS "${id}" CASCADE`);
    await db.end();
    rmSync(root, { recursive: true, force: true });
  });

  it('writes debug logs for the whole run, and neither the signer key nor any master key appears in them', () => {
    const logs = children.map((c) => readFileSync(c.logFile, 'utf8')).join('\n');
    const lines = logs.split('\n').filter((l) => l.startsWith('{'));
    // The search is only meaningful if the run really logged at debug, through anchoring.
    expect(lines.some((l) => l.includes('"level":20'))).toBe(true);
    expect(logs).toContain('"msg":"epoch anchored"');
    // The run did encrypt every payload under data keys wrapped by this master key (not a dev key).
    expect(keyring).toEqual({ masterKeyId: new LocalKeyWrapper(masterKey).masterKeyId, sealed: CLAIMS });
    const secrets = [signer.privateKey, masterKey.toString('hex'), masterKey.toString('base64'), masterKey.toString('base64url'), ...Object.entries(process.env).filter(([k, v]) => /MASTER_KEY/i.test(k) && v).map(([, v]) => v!)];
    const haystack = logs.toLowerCase();
    for (const secret of secrets) {
      const bare = secret.toLowerCase().replace(/^0x/, '');
      expect(bare.length).toBeGreaterThanOrEqual(32);
      expect(haystack.includes(bare), 'a secret appears in the logs').toBe(false);
    }
  });
});
