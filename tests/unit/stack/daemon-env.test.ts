import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTool, spawnDaemon, stopPid } from '../../../stack/process.ts';

/** Secrets of the parent the stack daemons must not inherit (names and fresh values). */
const SECRETS: Record<string, string> = {
  PHI_MASTER_KEY: 'a1'.repeat(32),
  PHI_MASTER_KEY_FILE: '/run/secrets/phi-master-key-file-secret',
  SIGNER_PRIVATE_KEY: `0x${'b2'.repeat(32)}`,
  REVIEW_INDEX_KEY: 'c3'.repeat(32),
  AGGREGATE_KEY_SECRET: 'd4'.repeat(32),
  SOME_API_KEY: 'api-key-value-e5e5e5e5e5e5',
  PGPASSWORD: 'pg-password-value-f6f6f6',
  GITHUB_TOKEN: 'ghp_token_value_a7a7a7a7a7a7',
  DATABASE_URL: 'postgres://app:db-url-password-b8b8@127.0.0.1:5432/claimtrail',
  CHAIN_RPC_URL: 'https://rpc.example/v3/rpc-path-key-c9c9c9c9c9c9c9c9',
};

/**
 * Daemons of the local stack (Kafka, Redis, PostgreSQL, anvil) and the short tools it runs
 * (initdb, pg_ctl, java) start with an allow-listed environment: whatever keys the shell that ran
 * `stack up` holds stay out of /proc/<pid>/environ of processes that outlive it.
 */
describe('stack daemons start with a scrubbed environment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'claimtrail-daemon-env-'));
  const saved: Record<string, string | undefined> = {};
  beforeAll(() => {
    for (const [k, v] of Object.entries(SECRETS)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
  });
  afterAll(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('spawnDaemon: /proc/<pid>/environ holds no secret of the parent, and keeps PATH and the extra env', async () => {
    const daemon = spawnDaemon('test', { command: 'sleep', args: ['30'], cwd: dir, logFile: join(dir, 'sleep.log'), pidFile: join(dir, 'sleep.pid'), env: { KAFKA_HEAP_OPTS: '-Xmx64m' } });
    try {
      const environ = readFileSync(`/proc/${daemon.pid}/environ`, 'utf8');
      const names = environ.split('\0').filter(Boolean).map((kv) => kv.slice(0, kv.indexOf('=')));
      for (const [name, value] of Object.entries(SECRETS)) {
        expect(names, name).not.toContain(name);
        expect(environ.includes(value), `${name}'s value`).toBe(false);
      }
      expect(names).toContain('PATH');
      expect(environ).toContain('KAFKA_HEAP_OPTS=-Xmx64m');
    } finally {
      await stopPid('test', daemon.pid, 5_000);
    }
  });

  it('runTool: the tool sees no secret of the parent either', async () => {
    const out = await runTool('test', 'env', [], { timeoutMs: 10_000 });
    for (const [name, value] of Object.entries(SECRETS)) {
      expect(out.stdout.includes(value), name).toBe(false);
    }
    expect(out.stdout).toMatch(/^PATH=/m);
  });
});
