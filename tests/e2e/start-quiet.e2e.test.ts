import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { isolatedEnv } from '../../core/config.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { trainModel } from '../../training/train.ts';
import { testLog, uniqueName } from '../support/env.ts';

// `claimtrail start` as a child process on fresh topics, consumer groups and transactional id (so
// the broker's coordinators load for them during the run), its own schema and queue.
const run = promisify(execFile);
const id = uniqueName('t');
const dir = mkdtempSync(join(tmpdir(), 'claimtrail-start-quiet-'));
const logFile = join(dir, 'logs', 'claimtrail.log');

describe('`claimtrail start` on a fresh run: human lines on stdout, JSON logs in LOG_FILE, no ERROR line', () => {
  afterAll(async () => {
    const kafka = new Kafka({ brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const topics = Object.entries(isolatedEnv(id)).filter(([name]) => name.endsWith('_TOPIC')).map(([, topic]) => topic);
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
    const client = new pg.Client({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/claimtrail' });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${id}" CASCADE`);
    await client.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints progress and the summary, and logs nothing at error or above', async () => {
    const modelDir = join(dir, 'model');
    const training = generateClaims({ count: 2000, seed: 3 });
    await trainModel({ claims: training.claims, labels: training.labels, outDir: modelDir, seed: 3, log: testLog });
    const env = { ...process.env, ...isolatedEnv(id), MODEL_DIR: modelDir, LOG_LEVEL: 'info', LOG_FILE: logFile, BATCH_MAX_AGE_MS: '500' };
    const { stdout, stderr } = await run(process.execPath, ['--disable-warning=TimeoutNegativeWarning', 'cli/main.ts', 'start', '--no-stack', '--claims', '200', '--malformed', '2', '--seed', '9'], { env, timeout: 300_000 });
    expect(stdout).toMatch(/claims scored\s+200\b/);
    expect(stdout).toMatch(/verify: PASS/);
    expect(stdout).toContain(`logs (JSON): `);
    // Human lines only: no JSON log line on stdout or stderr.
    for (const text of [stdout, stderr]) expect(text.split('\n').filter((l) => l.startsWith('{'))).toEqual([]);
    expect(stderr).not.toMatch(/ERROR/);
    expect(existsSync(logFile)).toBe(true);
    const lines = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
  });
});
