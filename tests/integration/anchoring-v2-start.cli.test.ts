import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Wallet, type JsonRpcProvider } from 'ethers';
import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnchorTxManager } from '../../anchoring/chain/anchor-tx.manager.ts';
import { AnchorTxRepository } from '../../anchoring/chain/anchor-tx.repository.ts';
import { deployDecisionAnchorV2 } from '../../anchoring/chain/deployment-v2.ts';
import { connectProvider } from '../../anchoring/chain/provider.ts';
import { isolatedEnv } from '../../core/config.ts';
import { createPool } from '../../infra/db/pool.ts';
import { startPrivateAnvil, type PrivateAnvil } from '../support/private-anvil.ts';
import { isolatedConfig, migratedSchema, testLog, uniqueName } from '../support/env.ts';

const run = promisify(execFile);

/**
 * `claimtrail run --roles anchoring` refuses to start, exit 2 with one line on stderr, when
 * DecisionAnchorV2 cannot be used safely: no DECISION_ANCHOR_V2_ADDRESS on a chain other than the
 * dev chain (claimtrail deploys only there), or an anchoring key holding the admin role.
 */
describe('anchoring start-up refusals (DecisionAnchorV2)', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'claimtrail-state-'));
  const config = isolatedConfig();
  let dropSchema: () => Promise<void>;

  beforeAll(async () => {
    dropSchema = await migratedSchema(config);
  });

  afterAll(async () => {
    await dropSchema?.();
    rmSync(stateDir, { recursive: true, force: true });
  });

  /** Runs the anchoring role with `env`; resolves with its exit code and stderr. */
  async function startAnchoring(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
    const full = {
      PATH: process.env.PATH ?? '',
      ...isolatedEnv(uniqueName('t')),
      DATABASE_URL: config.database.url,
      DATABASE_SCHEMA: config.database.schema,
      KAFKA_BROKERS: config.kafka.brokers.join(','),
      REDIS_URL: config.redisUrl,
      STATE_DIR: stateDir,
      LOG_LEVEL: 'silent',
      ...env,
    };
    return run(process.execPath, ['--disable-warning=TimeoutNegativeWarning', 'cli/main.ts', 'run', '--roles', 'anchoring'], { env: full, timeout: 120_000 }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );
  }

  it('exits 2 with one line on a non-dev chain without DECISION_ANCHOR_V2_ADDRESS', async () => {
    const anvil: PrivateAnvil = await startPrivateAnvil({ chainId: 1337 });
    try {
      const { code, stderr } = await startAnchoring({ CHAIN_RPC_URL: anvil.rpcUrl, SIGNER_PRIVATE_KEY: anvil.signerKey });
      // Code and stderr together: a failure shows what the process printed.
      expect({ code, stderr }).toMatchObject({ code: 2 });
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(/DECISION_ANCHOR_V2_ADDRESS is not set for chain 1337/);
    } finally {
      await anvil.stop();
    }
  }, 150_000);

  it('exits 2 with one line when the anchoring key holds the admin role on the configured contract', async () => {
    const anvil: PrivateAnvil = await startPrivateAnvil();
    let provider: JsonRpcProvider | undefined;
    let pool: Pool | undefined;
    try {
      provider = await connectProvider(anvil.rpcUrl, 100);
      pool = createPool(config.database.url, config.database.schema, 2);
      // The admin deploys (anvil's account 0); the operator then wrongly configures the admin key as the anchoring key.
      const admin = new AnchorTxManager({ provider, signerKey: anvil.signerKey, repo: new AnchorTxRepository(pool), log: testLog }, { maxFeeCapWei: 500_000_000_000n, pollMs: 100 });
      const { address } = await deployDecisionAnchorV2(admin, { anchorer: Wallet.createRandom().address, registrar: Wallet.createRandom().address });
      const { code, stderr } = await startAnchoring({ CHAIN_RPC_URL: anvil.rpcUrl, SIGNER_PRIVATE_KEY: anvil.signerKey, DECISION_ANCHOR_V2_ADDRESS: address });
      expect({ code, stderr }).toMatchObject({ code: 2 });
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(/holds DEFAULT_ADMIN_ROLE on DecisionAnchorV2/);
    } finally {
      provider?.destroy();
      await pool?.end();
      await anvil.stop();
    }
  }, 150_000);
});
