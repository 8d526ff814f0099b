import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeMasterKey, loadConfig } from '../../../core/config.ts';
import { ConfigError } from '../../../core/errors.ts';
import { LruCache } from '../../../privacy/lru-cache.ts';

const dir = mkdtempSync(join(tmpdir(), 'claimtrail-phi-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('PHI master key configuration', () => {
  const key = randomBytes(32);

  it('accepts 64 hex digits, base64 and base64url of 32 bytes', () => {
    for (const text of [key.toString('hex'), key.toString('hex').toUpperCase(), key.toString('base64'), key.toString('base64url'), ` ${key.toString('base64')}\n`]) {
      expect(decodeMasterKey(text)?.equals(key)).toBe(true);
    }
    for (const bad of ['', 'abc', key.toString('hex').slice(2), randomBytes(16).toString('base64'), randomBytes(33).toString('base64')]) expect(decodeMasterKey(bad)).toBeNull();
  });

  it('reads PHI_MASTER_KEY and PHI_MASTER_KEY_FILE into the same hex form', () => {
    const file = join(dir, 'master.key');
    writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600 });
    expect(loadConfig({ PHI_MASTER_KEY: key.toString('base64') }).privacy.masterKeyHex).toBe(key.toString('hex'));
    expect(loadConfig({ PHI_MASTER_KEY_FILE: file }).privacy).toEqual({ kms: 'local', masterKeyHex: key.toString('hex') });
    expect(loadConfig({}).privacy.masterKeyHex).toBeUndefined();
  });

  it('reports a bad key together with other bad variables, without echoing the value', () => {
    const secretish = 'not-a-key-but-still-secret-0123456789';
    const error = configError({ PHI_MASTER_KEY: secretish, CONFIRMATIONS: 'zero', PHI_KMS: 'aws' });
    expect(error.issues.some((i) => i.startsWith('PHI_MASTER_KEY:'))).toBe(true);
    expect(error.issues.some((i) => i.startsWith('CONFIRMATIONS:'))).toBe(true);
    expect(error.issues.some((i) => i.startsWith('PHI_KMS:'))).toBe(true);
    expect(error.message).not.toContain(secretish);
  });

  it('refuses both variables at once, an unreadable file and a file without a key', () => {
    const file = join(dir, 'junk.key');
    writeFileSync(file, 'junk\n');
    expect(configError({ PHI_MASTER_KEY: key.toString('hex'), PHI_MASTER_KEY_FILE: file }).issues).toEqual(['PHI_MASTER_KEY_FILE: set PHI_MASTER_KEY or PHI_MASTER_KEY_FILE, not both']);
    expect(configError({ PHI_MASTER_KEY_FILE: join(dir, 'missing.key') }).issues[0]).toMatch(/cannot read .*ENOENT/);
    expect(configError({ PHI_MASTER_KEY_FILE: file }).issues[0]).toMatch(/does not hold a key/);
  });
});

describe('LruCache', () => {
  it('keeps at most capacity entries and evicts the least recently used', () => {
    const lru = new LruCache<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.get('a')).toBe(1);
    lru.set('c', 3);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe(1);
    expect(lru.get('c')).toBe(3);
    expect(lru.size).toBe(2);
    expect(() => new LruCache(0)).toThrow(RangeError);
  });
});
