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
    const config = loadConfig({ KAFKA_BROKERS: 'a:1, b:2', KAFKA_ALLOW_PLAINTEXT: '1', EXCLUSION_LISTS: 'x.csv,y.csv' });
    expect(config.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(config.exclusionLists).toEqual(['x.csv', 'y.csv']);
  });

  describe('Kafka TLS and SASL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-kafka-'));
    const pem = (name: string) => {
      const path = join(dir, name);
      writeFileSync(path, `-----BEGIN CERTIFICATE-----\n${name}\n-----END CERTIFICATE-----\n`);
      return path;
    };
    const issuesOf = (env: Record<string, string>): string => {
      try {
        loadConfig(env);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).issues.join('\n');
      }
      return '';
    };

    it('defaults to plaintext without SASL, allowed for brokers on this machine', () => {
      const config = loadConfig({ KAFKA_BROKERS: '127.0.0.1:9092,localhost:9093' });
      expect(config.kafka.ssl).toBeUndefined();
      expect(config.kafka.sasl).toBeUndefined();
    });

    it('refuses plaintext to a broker elsewhere unless KAFKA_ALLOW_PLAINTEXT=1', () => {
      expect(issuesOf({ KAFKA_BROKERS: '127.0.0.1:9092,kafka.example.com:9093' })).toMatch(/KAFKA_BROKERS: kafka\.example\.com:9093 is not on this machine and KAFKA_SSL is off/);
      expect(issuesOf({ KAFKA_BROKERS: 'b1:9092', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })).toMatch(/SASL password would cross the network in clear/);
      expect(loadConfig({ KAFKA_BROKERS: 'kafka:9092', KAFKA_ALLOW_PLAINTEXT: '1' }).kafka.brokers).toEqual(['kafka:9092']);
      expect(loadConfig({ KAFKA_BROKERS: 'kafka:9092', KAFKA_SSL: 'on' }).kafka.ssl).toEqual({ ca: undefined, cert: undefined, key: undefined });
    });

    it('reads the CA, the client certificate and the password file; SASL settings come through', () => {
      const password = join(dir, 'pw');
      writeFileSync(password, 's3cret-pw\n');
      const config = loadConfig({
        KAFKA_BROKERS: 'kafka.example.com:9093',
        KAFKA_SSL: 'true',
        KAFKA_SSL_CA_FILE: pem('ca.crt'),
        KAFKA_SSL_CERT_FILE: pem('client.crt'),
        KAFKA_SSL_KEY_FILE: pem('client.key'),
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'claimtrail',
        KAFKA_SASL_PASSWORD_FILE: password,
      });
      expect(config.kafka.ssl?.ca).toContain('ca.crt');
      expect(config.kafka.ssl?.cert).toContain('client.crt');
      expect(config.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'claimtrail', password: 's3cret-pw' });
      expect(Object.isFrozen(config.kafka.sasl)).toBe(true);
    });

    it('reports every bad Kafka security variable together, never a password', () => {
      const notPem = join(dir, 'not.pem');
      writeFileSync(notPem, 'hello');
      const issues = issuesOf({
        KAFKA_BROKERS: '127.0.0.1:9092',
        KAFKA_SSL: 'on',
        KAFKA_SSL_CA_FILE: join(dir, 'missing.crt'),
        KAFKA_SSL_CERT_FILE: notPem,
        KAFKA_SASL_MECHANISM: 'scram-sha-256',
        KAFKA_SASL_PASSWORD: 'pw-in-env',
        KAFKA_SASL_PASSWORD_FILE: join(dir, 'pw'),
      });
      expect(issues).toMatch(/KAFKA_SSL_CA_FILE: cannot read .*missing\.crt \(ENOENT\)/);
      expect(issues).toMatch(/KAFKA_SSL_CERT_FILE: .* is not a PEM file/);
      expect(issues).toMatch(/KAFKA_SSL_CERT_FILE \/ KAFKA_SSL_KEY_FILE: a client certificate needs both/);
      expect(issues).toMatch(/KAFKA_SASL_USERNAME: required/);
      expect(issues).toMatch(/KAFKA_SASL_PASSWORD_FILE: set KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, not both/);
      expect(issues).not.toContain('pw-in-env');
      expect(issuesOf({ KAFKA_SSL_CA_FILE: pem('x.crt'), KAFKA_SASL_USERNAME: 'u' })).toMatch(/KAFKA_SSL_CA_FILE: set, but KAFKA_SSL is off[\s\S]*KAFKA_SASL_USERNAME: set, but KAFKA_SASL_MECHANISM is not/);
      expect(issuesOf({ KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SSL: 'maybe' })).toMatch(/KAFKA_SSL[\s\S]*KAFKA_SASL_MECHANISM: expected one of scram-sha-256, scram-sha-512, plain/);
    });
  });
});
