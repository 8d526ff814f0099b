import { Interface, id, type JsonRpcProvider } from 'ethers';
import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchId as computeBatchId } from '../../anchoring/core/batch.ts';
import { AnchorTxManager } from '../../anchoring/chain/anchor-tx.manager.ts';
import { DecisionAnchorClient } from '../../anchoring/chain/decision-anchor.client.ts';
import { deployDecisionAnchor } from '../../anchoring/chain/deployment.ts';
import { connectProvider } from '../../anchoring/chain/provider.ts';
import { loadDecisionAnchorArtifact } from '../../contracts/artifacts.ts';
import { AnchorTxRepository } from '../../anchoring/chain/anchor-tx.repository.ts';
import { AnchorRootRepository } from '../../anchoring/anchor-root.repository.ts';
import { DecisionIndexRepository } from '../../anchoring/decision-index.repository.ts';
import { createPool } from '../../infra/db/pool.ts';
import { BatchAnchorer } from '../../anchoring/chain/batch-anchorer.ts';
import { AuditSealRepository } from '../../review/repositories/audit-seal.repository.ts';
import { startPrivateAnvil, type PrivateAnvil } from '../support/private-anvil.ts';
import { isolatedConfig, migratedSchema, testLog } from '../support/env.ts';

/**
 * BatchAnchorer (the v1 path, kept for v1-leaf batches left from before proof format v2) on a
 * real (private) anvil and PostgreSQL: a backlog of pending batches goes out
 * in fewer transactions than batches, a batch already on chain with our root counts as done,
 * and a batch whose anchoring block a reorg removed goes back to pending and is anchored again.
 */
describe('BatchAnchorer on anvil', () => {
  const config = isolatedConfig();
  let anvil: PrivateAnvil;
  let provider: JsonRpcProvider;
  let pool: Pool;
  let index: DecisionIndexRepository;
  let roots: AnchorRootRepository;
  let tx: AnchorTxManager;
  let client: DecisionAnchorClient;
  let dropSchema: () => Promise<void>;
  let next = 0;

  beforeAll(async () => {
    anvil = await startPrivateAnvil();
    provider = await connectProvider(anvil.rpcUrl, 100);
    dropSchema = await migratedSchema(config);
    pool = createPool(config.database.url, config.database.schema, 2);
    index = new DecisionIndexRepository(pool);
    roots = new AnchorRootRepository(pool);
    tx = new AnchorTxManager({ provider, signerKey: anvil.signerKey, repo: new AnchorTxRepository(pool), log: testLog }, { maxFeeCapWei: 500_000_000_000n, pollMs: 100 });
    const { address } = await deployDecisionAnchor(tx, provider);
    client = new DecisionAnchorClient({ provider, address });
  });

  afterAll(async () => {
    provider?.destroy();
    await pool?.end();
    await dropSchema?.();
    await anvil?.stop();
  });

  /** Stores a pending batch (no decision rows: the anchorer reads only the batch). */
  async function pendingBatch(): Promise<{ batchId: string; root: string }> {
    const n = next++;
    const range = { topic: 'decisions', partition: 0, firstOffset: String(n * 10), lastOffset: String(n * 10 + 9) };
    const batch = { batchId: computeBatchId(range), ...range, leafCount: 5, root: id(`anchorer root ${n}`) };
    await index.recordBatch(batch, []);
    return batch;
  }

  it('anchors a backlog of 7 pending batches in 2 transactions (at most 4 roots each)', async () => {
    const anchorer = new BatchAnchorer({ roots, chain: client, tx, log: testLog }, { maxBatchesPerTx: 4 });
    const backlog = [];
    for (let i = 0; i < 7; i++) backlog.push(await pendingBatch());
    const first = await anchorer.anchor(backlog[0]!.batchId);
    expect(first).toMatchObject({ alreadyAnchored: false, batchesInTx: 4 });
    // The jobs of the batches that rode along find them done.
    expect(await anchorer.anchor(backlog[2]!.batchId)).toMatchObject({ alreadyAnchored: true, txHash: first.txHash });
    const second = await anchorer.anchor(backlog[6]!.batchId);
    expect(second).toMatchObject({ alreadyAnchored: false, batchesInTx: 3 });
    const stored = await Promise.all(backlog.map((b) => index.getBatch(b.batchId)));
    expect(new Set(stored.map((b) => b!.anchor!.txHash)).size).toBe(2);
    for (const b of backlog) expect((await client.batchOf(b.batchId))?.root).toBe(b.root);
    const receipt = await provider.getTransactionReceipt(first.txHash);
    expect(receipt?.logs).toHaveLength(4); // one BatchAnchored per root
  });

  it('leaves audit seals and v2 batches to epochs: the v1 path sends v1-leaf decision batches only', async () => {
    const anchorer = new BatchAnchorer({ roots, chain: client, tx, log: testLog });
    const n = next++;
    const range = { topic: 'claimtrail.audit-log.test', partition: 0, firstOffset: String(n * 10 + 1), lastOffset: String(n * 10 + 3) };
    const seal = { batchId: computeBatchId(range), first: range.firstOffset, last: range.lastOffset, leafCount: 3, root: id(`audit seal ${n}`) };
    await new AuditSealRepository(pool).insertSeal(seal, pool);
    const v2Range = { topic: 'decisions', partition: 7, firstOffset: '0', lastOffset: '4' };
    const v2 = { batchId: id(`v2 batch ${n}`), ...v2Range, leafCount: 5, root: id(`v2 root ${n}`), leafEncoding: 'claimtrail-leaf-v2' as const };
    await index.recordBatch(v2, []);
    const decisions = await pendingBatch();
    expect((await roots.pending()).map((r) => [r.batchId, r.source, r.leafEncoding])).toEqual([[decisions.batchId, 'decisions', 'claimtrail-leaf-v1']]);
    expect(await roots.get(seal.batchId)).toMatchObject({ source: 'audit', leafEncoding: null, inEpoch: false });
    const result = await anchorer.anchor(decisions.batchId);
    expect(result).toMatchObject({ alreadyAnchored: false, batchesInTx: 1 });
    expect((await provider.getTransaction(result.txHash))?.data.slice(0, 10)).toBe(id('anchorBatch(bytes32,bytes32,uint32)').slice(0, 10));
    expect(await client.batchOf(seal.batchId)).toBeNull();
    expect(await client.batchOf(v2.batchId)).toBeNull();
    expect((await roots.get(seal.batchId))?.status).toBe('pending');
  });

  it('records a batch that is already on chain with our root instead of sending it again', async () => {
    const anchorer = new BatchAnchorer({ roots, chain: client, tx, log: testLog });
    const b = await pendingBatch();
    // A crash after sending, before recording: the root is on chain, PostgreSQL says pending.
    const abi = new Interface(loadDecisionAnchorArtifact().abi as never);
    const sent = await tx.send({ to: client.address, data: abi.encodeFunctionData('anchorBatch', [b.batchId, b.root, 5]), method: 'anchorBatch', batchIds: [b.batchId] });
    const result = await anchorer.anchor(b.batchId);
    expect(result).toMatchObject({ alreadyAnchored: true, txHash: sent.txHash });
    expect((await index.getBatch(b.batchId))?.anchor?.txHash).toBe(sent.txHash);
  });

  it('puts a batch whose anchoring block was reorged away back to pending, then anchors it again', async () => {
    const anchorer = new BatchAnchorer({ roots, chain: client, tx, log: testLog });
    const b = await pendingBatch();
    const snapshot = (await provider.send('evm_snapshot', [])) as string;
    const first = await anchorer.anchor(b.batchId);
    const firstBlock = (await index.getBatch(b.batchId))!.anchor!;
    expect(await anchorer.reorged()).toEqual([]);
    expect(await provider.send('evm_revert', [snapshot])).toBe(true);
    await provider.send('evm_mine', []);
    await provider.send('evm_mine', []);
    expect(await client.batchOf(b.batchId)).toBeNull();
    expect(await anchorer.reorged()).toEqual([b.batchId]);
    expect((await index.getBatch(b.batchId))?.status).toBe('pending');
    const again = await anchorer.anchor(b.batchId);
    expect(again.alreadyAnchored).toBe(false);
    const anchored = (await index.getBatch(b.batchId))!.anchor!;
    expect(anchored.blockHash).not.toBe(firstBlock.blockHash);
    expect((await provider.getBlock(Number(anchored.blockNumber)))?.hash).toBe(anchored.blockHash);
    expect((await client.batchOf(b.batchId))?.root).toBe(b.root);
    expect(again.txHash).not.toBe(first.txHash);
  });
});
