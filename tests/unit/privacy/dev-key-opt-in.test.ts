import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { devIndexKeySource, devMasterKeySource } from '../../../cli/dev-sources.ts';
import { loadConfig } from '../../../core/config.ts';
import { ConfigError } from '../../../core/errors.ts';
import { createLogger } from '../../../core/logger.ts';
import { loadReviewConfig } from '../../../review/config.ts';

const log = createLogger('silent');

/**
 * A loopback DATABASE_URL alone is not dev mode (a cloud SQL proxy listens on 127.0.0.1 too):
 * the generated dev keys are used only with the explicit opt-in CLAIMTRAIL_DEV_KEYS=1, which
 * `claimtrail start` and the test projects set. Without it a missing key is the production
 * ConfigError, on one line.
 */
describe('dev key fallbacks need CLAIMTRAIL_DEV_KEYS=1 besides a loopback database', () => {
  const state = mkdtempSync(join(tmpdir(), 'claimtrail-devkeys-'));
  const base = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/claimtrail', STATE_DIR: state };
  afterAll(() => rmSync(state, { recursive: true, force: true }));

  it('refuses the dev PHI master key on a loopback database without the opt-in (ConfigError, one line)', () => {
    const config = loadConfig(base);
    let thrown: unknown;
    try {
      devMasterKeySource(config).keyWrapper(log);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).code).toBe('CONFIG_INVALID');
    expect((thrown as ConfigError).message).toMatch(/^invalid configuration: PHI_MASTER_KEY: /);
    expect((thrown as ConfigError).message).not.toContain('\n');
    expect((thrown as ConfigError).message).toContain('CLAIMTRAIL_DEV_KEYS');
  });

  it('refuses the dev review index key on a loopback database without the opt-in', () => {
    const config = loadConfig(base);
    expect(() => devIndexKeySource(config, loadReviewConfig({})).indexKey(log)).toThrow(ConfigError);
  });

  it('uses the dev keys with CLAIMTRAIL_DEV_KEYS=1 and a loopback database', () => {
    const config = loadConfig({ ...base, CLAIMTRAIL_DEV_KEYS: '1' });
    expect(devMasterKeySource(config).keyWrapper(log).masterKeyId).toMatch(/^[0-9a-f]{16}$/);
    expect(devIndexKeySource(config, loadReviewConfig({})).indexKey(log)).toHaveLength(32);
  });

  it('never uses the dev keys for a remote database, opt-in or not', () => {
    const config = loadConfig({ ...base, CLAIMTRAIL_DEV_KEYS: '1', DATABASE_URL: 'postgres://app@db.internal:5432/claimtrail' });
    expect(() => devMasterKeySource(config).keyWrapper(log)).toThrow(ConfigError);
    expect(() => devIndexKeySource(config, loadReviewConfig({})).indexKey(log)).toThrow(ConfigError);
  });

  it('rejects a CLAIMTRAIL_DEV_KEYS value other than 0 or 1', () => {
    expect(() => loadConfig({ ...base, CLAIMTRAIL_DEV_KEYS: 'yes' })).toThrow(ConfigError);
  });
});
