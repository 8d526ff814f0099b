import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { keccak256, toUtf8Bytes } from 'ethers';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

// Deliberately imports no claimtrail code: the main job runs as a child process, and a third
// party checks the bundle `claimtrail proof` exports with OpenZeppelin's library alone, following
// the recipe in docs/proof-bundle.md.
const run = promisify(execFile);
const id = `oz_${randomBytes(5).toString('hex')}`;
const env = {
  ...process.env,
  LOG_LEVEL: 'warn',
  CLAIMS_TOPIC: `${id}.claims`,
  DLQ_TOPIC: `${id}.claims.dlq`,
  DECISIONS_TOPIC: `${id}.decisions`,
  SCORING_GROUP_ID: `${id}-scoring`,
  BATCHING_GROUP_ID: `${id}-batching`,
  SCORING_INSTANCE_ID: id,
  ANCHOR_QUEUE: `${id}-anchor`,
  DATABASE_SCHEMA: id,
  BATCH_MAX_AGE_MS: '500',
};

interface Bundle {
  proof: string[];
  batch: { batchId: string; root: string; topic: string; partition: number; firstOffset: string; lastOffset: string; leafCount: number };
  epoch: { root: string; proof: string[] };
  decision: {
    instanceId: string;
    decisionId: string;
    claimCommitment: string;
    score: number;
    outcome: 'approve' | 'review' | 'flag';
    modelHash: string;
    reasons: Array<{ code: string; contribution: number }>;
    decidedAt: string;
    log: { topic: string; partition: number; offset: string };
  };
}

const h = (s: string) => keccak256(toUtf8Bytes(s));
/** The claimtrail-leaf-v2 types (docs/proof-bundle.md, "Verifying v2 with @openzeppelin/merkle-tree alone"). */
const LEAF_TYPES = ['bytes32', 'bytes32', 'bytes32', 'bytes32', 'uint32', 'uint8', 'bytes32', 'bytes32', 'uint64', 'bytes32', 'uint32', 'uint64'];
const ENTRY_TYPES = ['bytes32', 'bytes32', 'bytes32', 'bytes32', 'uint32', 'bytes32', 'uint32', 'uint64', 'uint64'];

/** The v2 leaf tuple, rebuilt from the bundle's fields (never from its `leaf`). */
function values(b: Bundle): unknown[] {
  const d = b.decision;
  const reasonsHash = h(JSON.stringify(d.reasons.map(({ code, contribution }) => ({ code, contributionMicros: Math.round(contribution * 1e6) }))));
  return [h('claimtrail-leaf-v2'), d.instanceId, d.decisionId, d.claimCommitment, Math.round(d.score * 1e6), ['approve', 'review', 'flag'].indexOf(d.outcome), d.modelHash, reasonsHash, String(Date.parse(d.decidedAt)), h(d.log.topic), d.log.partition, d.log.offset];
}

/** The batch entry tuple of the epoch tree. */
function entry(b: Bundle): unknown[] {
  return [h('claimtrail-epoch-entry-v2'), b.decision.instanceId, b.batch.batchId, b.batch.root, b.batch.leafCount, h(b.batch.topic), b.batch.partition, b.batch.firstOffset, b.batch.lastOffset];
}

describe('the main job, then its proof bundle checked with @openzeppelin/merkle-tree alone', () => {
  afterAll(async () => {
    const kafka = new Kafka({ brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [env.CLAIMS_TOPIC, env.DLQ_TOPIC, env.DECISIONS_TOPIC] }).catch(() => undefined);
    await admin.disconnect();
    const client = new pg.Client({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/claimtrail' });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${id}" CASCADE`);
    await client.end();
  });

  it('`claimtrail start` prints a passing verify command; the exported bundle verifies with OpenZeppelin and a changed score does not', async () => {
    const { stdout: summary } = await run(process.execPath, ['cli/main.ts', 'start', '--no-stack', '--claims', '400', '--malformed', '4', '--seed', '5'], { env, timeout: 600_000 });
    expect(summary).toMatch(/claims scored\s+400\b/);
    expect(summary).toMatch(/dead-lettered \(DLQ\)\s+4\b/);
    expect(summary).toMatch(/verify: PASS/);
    const claimId = /npx claimtrail verify (\S+)/.exec(summary)?.[1];
    expect(claimId).toBeTruthy();

    const verified = await run(process.execPath, ['cli/main.ts', 'verify', claimId!], { env });
    expect(verified.stdout).toMatch(/^PASS/);

    const { stdout } = await run(process.execPath, ['cli/main.ts', 'proof', claimId!], { env });
    const bundle = JSON.parse(stdout) as Bundle;
    expect(StandardMerkleTree.verify(bundle.batch.root, LEAF_TYPES, values(bundle), bundle.proof)).toBe(true);
    expect(StandardMerkleTree.verify(bundle.epoch.root, ENTRY_TYPES, entry(bundle), bundle.epoch.proof)).toBe(true);
    const tampered: Bundle = { ...bundle, decision: { ...bundle.decision, score: bundle.decision.score === 0.5 ? 0.25 : 0.5 } };
    expect(StandardMerkleTree.verify(bundle.batch.root, LEAF_TYPES, values(tampered), bundle.proof)).toBe(false);
  });
});
