import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.ts';
import { ConfigError } from '../../../core/errors.ts';

describe('loadConfig', () => {
  it('fills defaults for the local stack and freezes the result', () => {
    const config = loadConfig({});
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.kafka.topics).toEqual({ claims: 'claims', dlq: 'claims.dlq', decisions: 'decisions', shadow: 'decisions.shadow', acks: 'claims.acks', interchanges: 'claims.interchanges' });
    expect(config.kafka.ingestGroupId).toBe('claimtrail-ingest');
    expect(config.chain.signerKey).toBeUndefined();
    expect(config.challengerModelDir).toBeUndefined();
    expect(config.aggregates).toEqual({ keyPrefix: 'claimtrail:agg:claimtrail-scoring', ttlDays: 37 });
    expect(loadConfig({ SCORING_GROUP_ID: 'g1' }).aggregates.keyPrefix).toBe('claimtrail:agg:g1');
    expect(() => loadConfig({ AGGREGATE_TTL_DAYS: '1', AGGREGATE_KEY_PREFIX: 'bad prefix' })).toThrow(/AGGREGATE_KEY_PREFIX[\s\S]*AGGREGATE_TTL_DAYS/);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.kafka.topics)).toBe(true);
  });

  it('takes the scoring run id (default live), refusing anything outside [a-z0-9._-]{1,64}', () => {
    expect(loadConfig({}).scoringRunId).toBe('live');
    expect(loadConfig({ SCORING_RUN_ID: 'backfill-2024.05_v2' }).scoringRunId).toBe('backfill-2024.05_v2');
    for (const bad of ['', 'Live', 'run 1', 'a/b', 'x'.repeat(65)]) expect(() => loadConfig({ SCORING_RUN_ID: bad }), bad).toThrow(/SCORING_RUN_ID/);
    expect(loadConfig({ SCORING_RUN_ID: 'x'.repeat(64) }).scoringRunId).toHaveLength(64);
  });

  it('reports every bad variable together', () => {
    let error: unknown;
    try {
      loadConfig({ KAFKA_BROKERS: 'nohost', REDIS_URL: 'http://x', BATCH_MAX_SIZE: '-3', SIGNER_PRIVATE_KEY: '0x12', LOG_LEVEL: 'loud' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues.join('\n');
    for (const name of ['KAFKA_BROKERS', 'REDIS_URL', 'BATCH_MAX_SIZE', 'SIGNER_PRIVATE_KEY', 'LOG_LEVEL']) expect(issues).toContain(name);
    expect((error as ConfigError).code).toBe('CONFIG_INVALID');
  });

  it('reads the signer key from a file, and says which file is wrong without echoing it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const good = join(dir, 'key');
    const key = `0x${'ab'.repeat(32)}`;
    writeFileSync(good, `${key}\n`);
    expect(loadConfig({ SIGNER_KEY_FILE: good }).chain.signerKey).toBe(key);
    const bad = join(dir, 'bad');
    writeFileSync(bad, 'secret-but-malformed');
    expect(() => loadConfig({ SIGNER_KEY_FILE: bad })).toThrow(/SIGNER_KEY_FILE.*does not hold/);
    try {
      loadConfig({ SIGNER_KEY_FILE: bad });
    } catch (e) {
      expect((e as Error).message).not.toContain('secret-but-malformed');
    }
    expect(() => loadConfig({ SIGNER_KEY_FILE: join(dir, 'missing') })).toThrow(/ENOENT/);
  });

  it('splits comma-separated lists', () => {
    const config = loadConfig({ KAFKA_BROKERS: 'a:1, b:2', EXCLUSION_LISTS: 'x.csv,y.csv' });
    expect(config.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(config.exclusionLists).toEqual(['x.csv', 'y.csv']);
  });
});
