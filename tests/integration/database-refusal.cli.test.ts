import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isolatedEnv } from '../../core/config.ts';
import { isolatedConfig, uniqueName } from '../support/env.ts';

const run = promisify(execFile);

/**
 * A run whose DATABASE_URL cannot be used ends with one line naming the variable: exit 2 when
 * the real PostgreSQL refuses the login (configuration), exit 3 when nothing answers (the stack).
 */
describe('`claimtrail run` with an unusable DATABASE_URL', () => {
  const config = isolatedConfig();

  async function startBatching(databaseUrl: string): Promise<{ code: number; stderr: string }> {
    const env = {
      PATH: process.env.PATH ?? '',
      ...isolatedEnv(uniqueName('t')),
      DATABASE_URL: databaseUrl,
      KAFKA_BROKERS: config.kafka.brokers.join(','),
      REDIS_URL: config.redisUrl,
      LOG_LEVEL: 'silent',
    };
    return run(process.execPath, ['--disable-warning=TimeoutNegativeWarning', 'cli/main.ts', 'run', '--roles', 'batching'], { env, timeout: 60_000 }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );
  }

  it('exits 2 with one line when PostgreSQL refuses the login', async () => {
    const url = new URL(config.database.url);
    url.username = `no_such_role_${uniqueName('r')}`;
    url.password = '';
    const result = await startBatching(url.toString());
    expect(result).toMatchObject({ code: 2 });
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^claimtrail: invalid configuration: DATABASE_URL: PostgreSQL refused the connection: /);
    // The line names the variable, never the URL (it may carry a password).
    expect(result.stderr).not.toContain(url.toString());
  }, 90_000);

  it('exits 3 with one line when no PostgreSQL answers', async () => {
    const url = new URL(config.database.url);
    url.port = '1';
    const result = await startBatching(url.toString());
    expect(result).toMatchObject({ code: 3 });
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^claimtrail: postgres: no PostgreSQL answers at the DATABASE_URL host \(ECONNREFUSED/);
  }, 90_000);
});
