import { Interface, id, type JsonRpcProvider } from 'ethers';
import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnchorTxManager, TxRevertedError } from '../../anchoring/chain/anchor-tx.manager.ts';
import { DecisionAnchorClient } from '../../anchoring/chain/decision-anchor.client.ts';
import { deployDecisionAnchor } from '../../anchoring/chain/deployment.ts';
import { connectProvider } from '../../anchoring/chain/provider.ts';
import { loadDecisionAnchorArtifact } from '../../contracts/artifacts.ts';
import { AnchorTxRepository } from '../../anchoring/chain/anchor-tx.repository.ts';
import { createPool } from '../../infra/db/pool.ts';
import { startPrivateAnvil, type PrivateAnvil } from '../support/private-anvil.ts';
import { isolatedConfig, migratedSchema, testLog } from '../support/env.ts';

/**
 * The anchor transaction manager on a real (private) anvil and a real PostgreSQL schema: a stuck
 * transaction is replaced by a fee-bumped one, a reorg that drops the mined transaction makes it
 * go out again and confirm in another block, and a duplicate batch surfaces its revert data.
 */
const GWEI = 1_000_000_000n;
const abi = new Interface(loadDecisionAnchorArtifact().abi as never);

describe('AnchorTxManager on anvil', () => {
  const config = isolatedConfig();
  let anvil: PrivateAnvil;
  let provider: JsonRpcProvider;
  let pool: Pool;
  let repo: AnchorTxRepository;
  let dropSchema: () => Promise<void>;
  let contract: string;
  let client: DecisionAnchorClient;

  beforeAll(async () => {
    anvil = await startPrivateAnvil();
    provider = await connectProvider(anvil.rpcUrl, 100);
    dropSchema = await migratedSchema(config);
    pool = createPool(config.database.url, config.database.schema, 2);
    repo = new AnchorTxRepository(pool);
    const deployer = new AnchorTxManager({ provider, signerKey: anvil.signerKey, repo, log: testLog }, { maxFeeCapWei: 500n * GWEI, pollMs: 100 });
    contract = (await deployDecisionAnchor(deployer, provider)).address;
    client = new DecisionAnchorClient({ provider, address: contract });
  });

  afterAll(async () => {
    provider?.destroy();
    await pool?.end();
    await dropSchema?.();
    await anvil?.stop();
  });

  const anchorCall = (label: string) => {
    const batchId = id(`tx-manager test batch ${label}`);
    const root = id(`tx-manager test root ${label}`);
    return { batchId, root, request: { to: contract, data: abi.encodeFunctionData('anchorBatch', [batchId, root, 7]), method: 'anchorBatch', batchIds: [batchId] } };
  };

  async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('replaces a transaction that is not mined with a fee-bumped one (>= +12.5 %), persisted before broadcast', async () => {
    const manager = new AnchorTxManager({ provider, signerKey: anvil.signerKey, repo, log: testLog }, { maxFeeCapWei: 500n * GWEI, bumpAfterMs: 400, pollMs: 100, confirmations: 2 });
    const { batchId, root, request } = anchorCall('bump');
    await provider.send('evm_setAutomine', [false]);
    try {
      const nonce = BigInt(await provider.getTransactionCount(manager.address, 'pending'));
      const sending = manager.send(request);
      const attempts = await until('a replacement attempt', async () => {
        const a = await repo.attempts(manager.address, nonce);
        return a.length >= 2 && a;
      });
      // Nothing mined yet: the first attempt was stored and broadcast, then replaced in the pool.
      expect(await provider.getTransactionReceipt(attempts[0]!.txHash)).toBeNull();
      expect(attempts[1]!.maxFeePerGas * 1000n).toBeGreaterThanOrEqual(attempts[0]!.maxFeePerGas * 1125n);
      expect(attempts[1]!.maxPriorityFeePerGas * 1000n).toBeGreaterThanOrEqual(attempts[0]!.maxPriorityFeePerGas * 1125n);
      const mining = setInterval(() => void provider.send('evm_mine', []).catch(() => undefined), 300);
      const outcome = await sending.finally(() => clearInterval(mining));
      const stored = await repo.attempts(manager.address, nonce);
      const winner = stored.find((a) => a.txHash === outcome.txHash)!;
      expect(winner.attempt).toBeGreaterThanOrEqual(1);
      expect(winner.state).toBe('confirmed');
      expect(stored.filter((a) => a.txHash !== outcome.txHash).map((a) => a.state)).toEqual(expect.arrayContaining(['replaced']));
      expect(stored.filter((a) => a.txHash !== outcome.txHash).every((a) => a.state === 'replaced' || a.state === 'failed')).toBe(true);
      expect(await provider.getTransactionReceipt(attempts[0]!.txHash)).toBeNull();
      expect((await client.batchOf(batchId))?.root).toBe(root);
      expect(outcome.attempts).toBe(stored.length);
    } finally {
      await provider.send('evm_setAutomine', [true]);
    }
  });

  it('re-broadcasts a mined transaction that a reorg dropped, and confirms it in the new chain', async () => {
    const manager = new AnchorTxManager({ provider, signerKey: anvil.signerKey, repo, log: testLog }, { maxFeeCapWei: 500n * GWEI, bumpAfterMs: 60_000, pollMs: 100, confirmations: 3 });
    const { batchId, root, request } = anchorCall('reorg');
    const snapshot = (await provider.send('evm_snapshot', [])) as string;
    const nonce = BigInt(await provider.getTransactionCount(manager.address, 'pending'));
    const sending = manager.send(request);
    try {
      const mined = await until('the first mining', async () => (await repo.attempts(manager.address, nonce)).find((a) => a.state === 'mined'));
      await provider.send('evm_setAutomine', [false]);
      expect(await provider.send('evm_revert', [snapshot])).toBe(true);
      await provider.send('evm_mine', []); // an empty block where the anchor was
      expect((await provider.getBlock(Number(mined.blockNumber)))?.hash).not.toBe(mined.blockHash);
      await until('the manager to notice the reorg', async () => (await repo.attempts(manager.address, nonce))[0]!.state === 'sent');
      const mining = setInterval(() => void provider.send('evm_mine', []).catch(() => undefined), 200);
      const outcome = await sending.finally(() => clearInterval(mining));
      expect(outcome.txHash).toBe(mined.txHash); // the same signed bytes, re-broadcast
      expect(outcome.blockHash).not.toBe(mined.blockHash);
      expect(outcome.blockNumber).toBeGreaterThan(mined.blockNumber!);
      expect((await provider.getBlock(Number(outcome.blockNumber)))?.hash).toBe(outcome.blockHash);
      expect((await repo.attempts(manager.address, nonce))[0]).toMatchObject({ state: 'confirmed', blockHash: outcome.blockHash });
      expect((await client.batchOf(batchId))?.root).toBe(root);
    } finally {
      await provider.send('evm_setAutomine', [true]);
    }
  });

  it('a duplicate batch reverts at estimation with DecisionAnchorBatchExists(batchId, storedRoot), nothing sent', async () => {
    const manager = new AnchorTxManager({ provider, signerKey: anvil.signerKey, repo, log: testLog }, { maxFeeCapWei: 500n * GWEI, pollMs: 100 });
    const { batchId, root, request } = anchorCall('duplicate');
    await manager.send(request);
    const before = await repo.maxNonce(manager.address);
    const error = await manager.send(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TxRevertedError);
    expect((error as TxRevertedError).code).toBe('TX_REVERTED');
    const decoded = abi.parseError((error as TxRevertedError).data!);
    expect(decoded?.name).toBe('DecisionAnchorBatchExists');
    expect([decoded?.args[0], decoded?.args[1]]).toEqual([batchId, root]); // equal root: the caller counts it as done
    expect(await repo.maxNonce(manager.address)).toBe(before);
  });

  it('refuses a bump under 12.5 % and a missing fee cap', () => {
    const deps = { provider, signerKey: anvil.signerKey, repo, log: testLog };
    expect(() => new AnchorTxManager(deps, { maxFeeCapWei: GWEI, bumpPercent: 10 })).toThrow(/bumpPercent must be >= 12.5/);
    expect(() => new AnchorTxManager(deps, { maxFeeCapWei: 0n })).toThrow(/maxFeeCapWei/);
  });
});
