import { Contract, Wallet, id, parseEther, toQuantity, type JsonRpcProvider } from 'ethers';
import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnchorTxManager } from '../../anchoring/chain/anchor-tx.manager.ts';
import { AnchorTxRepository } from '../../anchoring/chain/anchor-tx.repository.ts';
import { DecisionAnchorV2Client } from '../../anchoring/chain/decision-anchor-v2.client.ts';
import { AnchorerHoldsAdminError, checkAnchorerRoles, deployDecisionAnchorV2 } from '../../anchoring/chain/deployment-v2.ts';
import { EpochAnchorer, EpochRootConflictError } from '../../anchoring/chain/epoch-anchorer.ts';
import { FlaggedRootAnchorer } from '../../anchoring/chain/flagged-root-anchorer.ts';
import { connectProvider } from '../../anchoring/chain/provider.ts';
import { buildEpochTree, entryHash } from '../../anchoring/core/epoch.ts';
import { buildFlaggedTree } from '../../anchoring/core/flagged-tree.ts';
import { batchIdV2, epochId as computeEpochId } from '../../anchoring/core/ids-v2.ts';
import { leafHashV2 } from '../../anchoring/core/leaf-v2.ts';
import { processProof } from '../../anchoring/core/merkle-core.ts';
import { decisionLeafValuesV2 } from '../../anchoring/decision-leaf.ts';
import { DecisionIndexRepository, LEAF_V2, type IndexedDecision } from '../../anchoring/decision-index.repository.ts';
import { EpochRepository } from '../../anchoring/epoch.repository.ts';
import { FlaggedRootRepository } from '../../anchoring/flagged-root.repository.ts';
import { InstanceRepository } from '../../anchoring/instance.repository.ts';
import { loadDecisionAnchorV2Artifact } from '../../contracts/artifacts.ts';
import { DECISION_FORMAT_V2, type DecisionV2, type Outcome } from '../../domain/decision.ts';
import { createPool } from '../../infra/db/pool.ts';
import { AuditSealRepository } from '../../review/repositories/audit-seal.repository.ts';
import { startPrivateAnvil, type PrivateAnvil } from '../support/private-anvil.ts';
import { isolatedConfig, migratedSchema, testLog } from '../support/env.ts';

/**
 * Proof format v2 anchoring on a real (private) anvil and PostgreSQL: epochs (many v2 batch roots
 * and audit seals in one anchorEpoch transaction), per-block flagged trees (one
 * anchorFlaggedRoot for N decisions), idempotency after a crash, reorgs, conflicts, role checks.
 */
describe('EpochAnchorer and FlaggedRootAnchorer on anvil', () => {
  const config = isolatedConfig();
  let anvil: PrivateAnvil;
  let provider: JsonRpcProvider;
  let pool: Pool;
  let index: DecisionIndexRepository;
  let epochs: EpochRepository;
  let flaggedRoots: FlaggedRootRepository;
  let attempts: AnchorTxRepository;
  let tx: AnchorTxManager;
  let admin: AnchorTxManager;
  let registrar: string;
  let chain: DecisionAnchorV2Client;
  let instanceId: string;
  let dropSchema: () => Promise<void>;
  let nextOffset = 0;
  let nextAudit = 1;
  const gasRows: string[] = [];

  const managerFor = (signerKey: string) => new AnchorTxManager({ provider, signerKey, repo: attempts, log: testLog }, { maxFeeCapWei: 500_000_000_000n, pollMs: 100 });
  const epochAnchorer = () => new EpochAnchorer({ epochs, attempts, chain, tx, instanceId, log: testLog });
  const flaggedAnchorer = () => new FlaggedRootAnchorer({ index, roots: flaggedRoots, attempts, chain, tx, log: testLog });

  beforeAll(async () => {
    anvil = await startPrivateAnvil();
    provider = await connectProvider(anvil.rpcUrl, 100);
    dropSchema = await migratedSchema(config);
    pool = createPool(config.database.url, config.database.schema, 3);
    index = new DecisionIndexRepository(pool);
    epochs = new EpochRepository(pool);
    flaggedRoots = new FlaggedRootRepository(pool);
    attempts = new AnchorTxRepository(pool);
    instanceId = await new InstanceRepository(pool).instanceId();
    tx = managerFor(anvil.signerKey);
    // Three distinct keys, as the contract demands: admin (deployer), anchorer (tx), registrar.
    const adminKey = Wallet.createRandom().privateKey;
    registrar = Wallet.createRandom().address;
    await provider.send('anvil_setBalance', [new Wallet(adminKey).address, toQuantity(parseEther('100'))]);
    admin = managerFor(adminKey);
    const { address } = await deployDecisionAnchorV2(admin, { anchorer: tx.address, registrar });
    chain = new DecisionAnchorV2Client({ provider, address });
  });

  afterAll(async () => {
    if (gasRows.length > 0) console.log(['gas (DecisionAnchorV2 on anvil):', ...gasRows].join('\n  '));
    provider?.destroy();
    await pool?.end();
    await dropSchema?.();
    await anvil?.stop();
  });

  /** Stores a pending v2 batch of `leafCount` decisions (no decision rows: epochs read only the batch). */
  async function pendingV2Batch(partition: number, leafCount: number): Promise<{ batchId: string; root: string }> {
    const firstOffset = String(nextOffset);
    const lastOffset = String(nextOffset + leafCount - 1);
    nextOffset += leafCount;
    const range = { topic: 'decisions', partition, firstOffset, lastOffset };
    const batch = { batchId: batchIdV2(instanceId, 'decisions', partition, firstOffset, lastOffset), ...range, leafCount, root: id(`v2 root ${firstOffset}`), leafEncoding: LEAF_V2 };
    await index.recordBatch(batch, []);
    return batch;
  }

  /** Stores a pending audit seal over `leafCount` audit ids. */
  async function pendingSeal(leafCount: number): Promise<{ batchId: string; root: string }> {
    const first = String(nextAudit);
    const last = String(nextAudit + leafCount - 1);
    nextAudit += leafCount;
    const seal = { batchId: id(`seal ${first}`), first, last, leafCount, root: id(`seal root ${first}`) };
    await new AuditSealRepository(pool).insertSeal(seal, pool);
    return seal;
  }

  /** Stores a v2 batch with real v2 decisions (`flagged` of them flagged) and returns them. */
  async function v2BatchWithDecisions(count: number, flagged: number): Promise<IndexedDecision[]> {
    const partition = 3;
    const first = nextOffset;
    nextOffset += count;
    const decisions = Array.from({ length: count }, (_, i): DecisionV2 => ({
      format: DECISION_FORMAT_V2,
      instanceId,
      runId: 'live',
      decisionId: id(`decision ${first + i}`),
      claimId: `CLM-${first + i}`,
      score: 0.9,
      components: { rf: 0.9, nn: 0.9 },
      outcome: (i < flagged ? 'flag' : 'approve') as Outcome,
      reasons: [{ code: 'F_CHARGE_PER_UNIT', contribution: 0.21 }],
      modelHash: id('model'),
      decidedAt: '2024-05-29T16:35:22.000Z',
      input: { topic: 'claims', partition, offset: String(first + i) },
      claimCommitment: id(`commitment ${first + i}`),
    }));
    const log = (i: number) => ({ topic: 'decisions', partition, offset: String(first + i) });
    const leaves = decisions.map((d, i) => leafHashV2(decisionLeafValuesV2(d, log(i))));
    const batchId = batchIdV2(instanceId, 'decisions', partition, String(first), String(first + count - 1));
    const indexed: IndexedDecision[] = decisions.map((d, i) => ({ ...d, log: log(i), leaf: leaves[i]!, batchId, leafIndex: i, leafEncoding: LEAF_V2 }));
    await index.recordBatch({ batchId, topic: 'decisions', partition, firstOffset: String(first), lastOffset: String(first + count - 1), leafCount: count, root: id(`batch ${first}`), leafEncoding: LEAF_V2 }, indexed);
    return indexed;
  }

  it('commits 6 v2 batches over 2 partitions and an audit seal in ONE anchorEpoch transaction', async () => {
    const batches = [await pendingV2Batch(0, 100), await pendingV2Batch(0, 100), await pendingV2Batch(0, 100), await pendingV2Batch(1, 100), await pendingV2Batch(1, 100), await pendingV2Batch(1, 100)];
    const seal = await pendingSeal(20);
    const [epoch, ...more] = await epochAnchorer().anchorPending();
    expect(more).toEqual([]);
    expect(epoch).toMatchObject({ sequence: '0', batchCount: 7, leafCount: '620', alreadyAnchored: false, epochId: computeEpochId(instanceId, 0n) });
    const sent = await provider.getTransaction(epoch!.txHash);
    expect(sent?.data.slice(0, 10)).toBe(id('anchorEpoch(bytes32,bytes32,uint32,uint64)').slice(0, 10));
    expect((await provider.getTransactionReceipt(epoch!.txHash))?.logs).toHaveLength(1);
    const stored = (await epochs.get(epoch!.epochId))!;
    expect(stored).toMatchObject({ status: 'anchored', batchCount: 7, anchor: { txHash: epoch!.txHash, anchorer: tx.address, contract: chain.address } });
    expect((await chain.epochOf(tx.address, epoch!.epochId))?.root).toBe(stored.root);
    // Every batch and the seal are anchored by that transaction; the exporter's view rebuilds the root.
    for (const b of batches) expect((await index.getBatch(b.batchId))?.anchor?.txHash).toBe(epoch!.txHash);
    expect((await new AuditSealRepository(pool).get(seal.batchId))?.anchor?.txHash).toBe(epoch!.txHash);
    const placed = (await epochs.placementOfSeal(seal.batchId))!;
    expect(placed.position).toBe(6);
    expect(placed.entries.map((e) => e.kind)).toEqual(['decisions', 'decisions', 'decisions', 'decisions', 'decisions', 'decisions', 'audit']);
    const tree = buildEpochTree(instanceId, placed.entries);
    expect(tree.root).toBe(stored.root);
    const atBatch = (await epochs.placementOfBatch(batches[4]!.batchId))!;
    expect(processProof(entryHash(tree.entries[atBatch.position]!), tree.proofFor(atBatch.position))).toBe(stored.root);
    gasRows.push(`epoch of 7 entries (620 leaves): ${epoch!.gasUsed} gas, ${(Number(epoch!.gasUsed) / 620).toFixed(1)} gas/decision`);
  });

  it('costs the same gas for 1 batch or 60 batches (gas per decision falls with the epoch size)', async () => {
    await pendingV2Batch(2, 1000);
    const [one] = await epochAnchorer().anchorPending();
    for (let i = 0; i < 60; i++) await pendingV2Batch(2, 1000);
    const [sixty] = await epochAnchorer().anchorPending();
    expect(sixty).toMatchObject({ batchCount: 60, leafCount: '60000' });
    // Only calldata-free storage differs: the tree stays off chain.
    expect(Number(sixty!.gasUsed)).toBeLessThan(Number(one!.gasUsed) + 5_000);
    gasRows.push(`epoch of 1 batch (1000 leaves): ${one!.gasUsed} gas, ${(Number(one!.gasUsed) / 1000).toFixed(2)} gas/decision`);
    gasRows.push(`epoch of 60 batches (60000 leaves): ${sixty!.gasUsed} gas, ${(Number(sixty!.gasUsed) / 60000).toFixed(3)} gas/decision`);
  });

  it('sends nothing when nothing is pending', async () => {
    const nonce = await provider.getTransactionCount(tx.address);
    expect(await epochAnchorer().anchorPending()).toEqual([]);
    expect(await flaggedAnchorer().anchorPending()).toEqual([]);
    expect(await provider.getTransactionCount(tx.address)).toBe(nonce);
  });

  it('records an epoch already on chain with our root (crash after sending) without sending again', async () => {
    await pendingV2Batch(0, 10);
    // The worker stored the epoch, sent it, and died before recording: PostgreSQL says pending.
    const created = (await epochs.createNext(instanceId, 1000, (sequence, candidates) => {
      const t = buildEpochTree(instanceId, candidates);
      return { epochId: computeEpochId(instanceId, sequence), root: t.root, leafCount: t.leafCount, entries: candidates };
    }))!;
    const e = created.epoch;
    const sent = await tx.send({ to: chain.address, data: chain.calldata('anchorEpoch', [e.epochId, e.root, e.batchCount, e.leafCount]), method: 'anchorEpoch', batchIds: [e.epochId] });
    const nonce = await provider.getTransactionCount(tx.address);
    const [found] = await epochAnchorer().anchorPending();
    expect(found).toMatchObject({ epochId: e.epochId, alreadyAnchored: true, txHash: sent.txHash });
    expect(await provider.getTransactionCount(tx.address)).toBe(nonce);
    expect((await epochs.get(e.epochId))?.status).toBe('anchored');
  });

  it('rebuilds an epoch that was never signed with everything pending, under the same sequence (one epoch after an outage)', async () => {
    const a = await pendingV2Batch(0, 10);
    // The epoch was stored, then the send failed at estimation (chain away): nothing signed.
    const stale = (await epochs.createNext(instanceId, 1000, (sequence, candidates) => {
      const t = buildEpochTree(instanceId, candidates);
      return { epochId: computeEpochId(instanceId, sequence), root: t.root, leafCount: t.leafCount, entries: candidates };
    }))!;
    const b = await pendingV2Batch(1, 10);
    const seal = await pendingSeal(3);
    const done = await epochAnchorer().anchorPending();
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ epochId: stale.epoch.epochId, batchCount: 3, alreadyAnchored: false });
    expect((await epochs.placementOfBatch(a.batchId))?.epoch.epochId).toBe(stale.epoch.epochId);
    expect((await epochs.placementOfBatch(b.batchId))?.epoch.epochId).toBe(stale.epoch.epochId);
    expect((await epochs.placementOfSeal(seal.batchId))?.epoch.status).toBe('anchored');
  });

  it('puts an epoch whose block a reorg removed back to pending, then sends the same epoch id and root again', async () => {
    const b = await pendingV2Batch(0, 10);
    const snapshot = (await provider.send('evm_snapshot', [])) as string;
    const [first] = await epochAnchorer().anchorPending();
    const firstAnchor = (await epochs.get(first!.epochId))!;
    expect(await epochAnchorer().reorged()).toEqual([]);
    expect(await provider.send('evm_revert', [snapshot])).toBe(true);
    await provider.send('evm_mine', []);
    await provider.send('evm_mine', []);
    expect(await chain.epochOf(tx.address, first!.epochId)).toBeNull();
    expect(await epochAnchorer().reorged()).toEqual([first!.epochId]);
    expect((await index.getBatch(b.batchId))?.status).toBe('pending');
    const [again] = await epochAnchorer().anchorPending();
    expect(again).toMatchObject({ epochId: first!.epochId, alreadyAnchored: false });
    const stored = (await epochs.get(first!.epochId))!;
    expect(stored.root).toBe(firstAnchor.root);
    expect(stored.anchor!.blockHash).not.toBe(firstAnchor.anchor!.blockHash);
    expect((await provider.getBlock(Number(stored.anchor!.blockNumber)))?.hash).toBe(stored.anchor!.blockHash);
    expect((await chain.epochOf(tx.address, first!.epochId))?.root).toBe(firstAnchor.root);
    expect((await index.getBatch(b.batchId))?.anchor?.txHash).toBe(again!.txHash);
  });

  it('anchors 40 flagged decisions of 2 batches as one flagged root in one transaction; the contract verifies every member', async () => {
    const decisions = [...(await v2BatchWithDecisions(50, 25)), ...(await v2BatchWithDecisions(30, 15))];
    const [root, ...more] = await flaggedAnchorer().anchorPending();
    expect(more).toEqual([]);
    expect(root).toMatchObject({ count: 40, alreadyAnchored: false });
    expect((await provider.getTransaction(root!.txHash))?.data.slice(0, 10)).toBe(id('anchorFlaggedRoot(bytes32,uint32)').slice(0, 10));
    expect(await chain.flaggedRootOf(tx.address, root!.root)).toMatchObject({ count: 40 });
    gasRows.push(`flagged root of 40 decisions: ${root!.gasUsed} gas, ${(Number(root!.gasUsed) / 40).toFixed(1)} gas/flagged decision`);
    // The exporter's path: membership -> members -> rebuilt tree -> proof; checked by the contract's view.
    const members = await flaggedRoots.members(root!.root);
    expect(members).toEqual([...members].sort());
    const byId = new Map(decisions.map((d) => [d.decisionId, d]));
    const values = members.map((m) => decisionLeafValuesV2(byId.get(m)! as DecisionV2, byId.get(m)!.log));
    const tree = buildFlaggedTree(values);
    expect(tree.root).toBe(root!.root);
    const view = new Contract(chain.address, loadDecisionAnchorV2Artifact().abi, provider);
    for (const d of decisions.filter((x) => x.outcome === 'flag').slice(0, 5)) {
      const membership = (await flaggedRoots.membershipOf(d.decisionId))!;
      expect(membership).toMatchObject({ root: root!.root, count: 40, status: 'anchored', anchor: { txHash: root!.txHash } });
      const v = decisionLeafValuesV2(d as DecisionV2, d.log);
      expect(await view.getFunction('verifyFlaggedValues').staticCall(tx.address, root!.root, v.slice(1), tree.proofFor(d.decisionId))).toBe(true);
    }
    expect(await flaggedRoots.membershipOf(decisions.find((x) => x.outcome === 'approve')!.decisionId)).toBeNull();
    // A second job finds nothing waiting and sends nothing.
    expect(await flaggedAnchorer().anchorPending()).toEqual([]);
  });

  it('records a flagged root already on chain (crash after sending) without sending again', async () => {
    const decisions = await v2BatchWithDecisions(6, 3);
    const flagged = decisions.filter((d) => d.outcome === 'flag');
    const tree = buildFlaggedTree(flagged.map((d) => decisionLeafValuesV2(d as DecisionV2, d.log)));
    await flaggedRoots.create(tree.root, tree.decisionIds);
    const sent = await tx.send({ to: chain.address, data: chain.calldata('anchorFlaggedRoot', [tree.root, 3]), method: 'anchorFlaggedRoot', batchIds: [tree.root] });
    const [found] = await flaggedAnchorer().anchorPending();
    expect(found).toMatchObject({ root: tree.root, alreadyAnchored: true, txHash: sent.txHash });
  });

  it('refuses an anchoring key that holds the admin role, or no anchorer role', async () => {
    await expect(checkAnchorerRoles(chain, admin.address)).rejects.toBeInstanceOf(AnchorerHoldsAdminError);
    await expect(checkAnchorerRoles(chain, registrar)).rejects.toMatchObject({ code: 'ANCHORER_ROLE_MISSING' });
    await expect(checkAnchorerRoles(chain, tx.address)).resolves.toBeUndefined();
  });

  // Last: it leaves a conflicting epoch behind on purpose.
  it('fails non-retriably when the chain holds another root under the epoch id', async () => {
    await pendingV2Batch(0, 10);
    const created = (await epochs.createNext(instanceId, 1000, (sequence, candidates) => {
      const t = buildEpochTree(instanceId, candidates);
      return { epochId: computeEpochId(instanceId, sequence), root: t.root, leafCount: t.leafCount, entries: candidates };
    }))!;
    const e = created.epoch;
    await tx.send({ to: chain.address, data: chain.calldata('anchorEpoch', [e.epochId, id('another root'), 1, 1]), method: 'anchorEpoch', batchIds: [e.epochId] });
    const error = await epochAnchorer().anchorPending().catch((x: unknown) => x);
    expect(error).toBeInstanceOf(EpochRootConflictError);
    expect(error).toMatchObject({ code: 'EPOCH_ROOT_CONFLICT', retriable: false });
  });
});
