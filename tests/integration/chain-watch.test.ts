import { randomBytes } from 'node:crypto';
import { Contract, ContractFactory, hexlify, id, toBeHex, Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnchorTxManager } from '../../anchoring/chain/anchor-tx.manager.ts';
import { AnchorTxRepository } from '../../anchoring/chain/anchor-tx.repository.ts';
import { DecisionAnchorV2Client } from '../../anchoring/chain/decision-anchor-v2.client.ts';
import { connectProvider } from '../../anchoring/chain/provider.ts';
import { loadDecisionAnchorV2Artifact } from '../../contracts/artifacts.ts';
import { createPool, type Pool } from '../../infra/db/pool.ts';
import { AlertRepository } from '../../monitoring/alert.repository.ts';
import { ChainWatch } from '../../monitoring/chain-watch.ts';
import { isolatedConfig, migratedSchema, testLog } from '../support/env.ts';

const bytes32 = () => hexlify(randomBytes(32));

/**
 * The chain watch on anvil: our anchorer's epoch sent through its transaction manager raises
 * nothing; a role grant, a foreign anchorer's epoch, an epoch id we never produced sent with our
 * key outside its manager, a pause and a model registered behind our back each raise one
 * high-severity alert, written to the audit log with it; a rescan raises nothing twice.
 */
describe('chain watch (anvil, PostgreSQL)', () => {
  const config = isolatedConfig();
  let drop: () => Promise<void>;
  let pool: Pool;
  let provider: Awaited<ReturnType<typeof connectProvider>>;
  let watch: ChainWatch;
  let address: string;
  const keys = { admin: Wallet.createRandom(), anchorer: Wallet.createRandom(), registrar: Wallet.createRandom(), rogue: Wallet.createRandom() };

  beforeAll(async () => {
    drop = await migratedSchema(config);
    pool = createPool(config.database.url, config.database.schema, 3);
    provider = await connectProvider(config.chain.rpcUrl);
    for (const w of Object.values(keys)) await provider.send('anvil_setBalance', [w.address, toBeHex(10n ** 20n)]);
    const { abi, bytecode } = loadDecisionAnchorV2Artifact();
    const deployed = await new ContractFactory(abi, bytecode, keys.admin.connect(provider)).deploy(keys.admin.address, keys.anchorer.address, keys.registrar.address);
    await deployed.waitForDeployment();
    address = (await deployed.getAddress()).toLowerCase();
    watch = new ChainWatch({ provider, pool, alerts: new AlertRepository(pool), contract: address, anchorers: [keys.anchorer.address], log: testLog });
    // The first scan starts at the head: the constructor's role grants are history, not findings.
    expect(await watch.scan()).toEqual([]);
  }, 60_000);

  afterAll(async () => {
    await watch?.stop();
    provider?.destroy();
    await pool?.end();
    await drop?.();
  });

  it('raises nothing for our own epoch sent through our transaction manager', async () => {
    const epochId = bytes32();
    const root = bytes32();
    await pool.query(`INSERT INTO epochs (epoch_id, instance_id, sequence, root, batch_count, leaf_count) VALUES ($1, $2, 0, $3, 1, 3)`, [epochId, bytes32(), root]);
    const v2 = new DecisionAnchorV2Client({ provider, address });
    const tx = new AnchorTxManager({ provider, signerKey: keys.anchorer.privateKey, repo: new AnchorTxRepository(pool), log: testLog }, { maxFeeCapWei: 200_000_000_000n, pollMs: 100 });
    await tx.send({ to: address, data: v2.calldata('anchorEpoch', [epochId, root, 1, 3]), method: 'anchorEpoch', batchIds: [] });
    expect(await watch.scan()).toEqual([]);
    expect((await pool.query('SELECT 1 FROM monitor_alerts')).rows).toHaveLength(0);
  });

  it('raises a high-severity alert for each thing that should never happen, sealed into the audit log, once', async () => {
    const { abi } = loadDecisionAnchorV2Artifact();
    const as = (w: Wallet | ReturnType<typeof Wallet.createRandom>) => new Contract(address, abi, w.connect(provider));
    const wait = async (p: Promise<{ wait(): Promise<unknown> }>) => (await p).wait();
    const before = await provider.getBlockNumber();
    // A role grant, then the rogue anchors in its own namespace.
    await wait(as(keys.admin).getFunction('grantRole')(id('ANCHORER_ROLE'), keys.rogue.address));
    await wait(as(keys.rogue).getFunction('anchorEpoch')(bytes32(), bytes32(), 1, 1));
    // Our key, used outside its transaction manager, anchors an epoch id we never produced.
    await wait(as(keys.anchorer).getFunction('anchorEpoch')(bytes32(), bytes32(), 2, 9));
    // A model registered behind our back; a pause and an unpause.
    await wait(as(keys.registrar).getFunction('registerModel')(bytes32(), 'claimtrail-model:forged'));
    await wait(as(keys.admin).getFunction('pause')());
    await wait(as(keys.admin).getFunction('unpause')());

    const findings = await watch.scan();
    expect(findings.map((f) => f.code).sort()).toEqual(['C_PAUSED', 'C_PAUSED', 'C_ROLE_CHANGE', 'C_SIGNER_TX_UNKNOWN', 'C_UNKNOWN_ANCHORER', 'C_UNKNOWN_EPOCH', 'C_UNKNOWN_MODEL'].sort());
    const rogue = findings.find((f) => f.code === 'C_UNKNOWN_ANCHORER')!;
    expect(rogue.evidence.anchorer).toBe(keys.rogue.address.toLowerCase());

    const { rows: alerts } = await pool.query<{ alert_id: string; kind: string; severity: string; reasons: Array<{ code: string; note: string }>; evidence: { txHash: string } }>(
      'SELECT alert_id::text, kind, severity, reasons, evidence FROM monitor_alerts ORDER BY alert_id',
    );
    expect(alerts).toHaveLength(7);
    expect(alerts.every((a) => a.kind === 'chain' && a.severity === 'high')).toBe(true);
    expect(alerts.find((a) => a.reasons[0]!.code === 'C_UNKNOWN_ANCHORER')!.reasons[0]!.note).toContain(keys.rogue.address.toLowerCase());
    // Each alert has its audit entry (sealed with the audit log into the anchored audit batches).
    const { rows: audit } = await pool.query<{ target_id: string; user_name: string; details: { reasons: Array<{ code: string }> } }>(
      `SELECT target_id, user_name, details FROM audit_log WHERE action = 'monitor.alert' ORDER BY audit_id`,
    );
    expect(audit.map((a) => a.target_id)).toEqual(alerts.map((a) => a.alert_id));
    expect(audit.map((a) => a.details.reasons[0]!.code)).toEqual(alerts.map((a) => a.reasons[0]!.code));
    expect(new Set(audit.map((a) => a.user_name))).toEqual(new Set(['monitor:claimtrail']));

    // A rescan of the same blocks raises nothing twice.
    await pool.query('UPDATE chain_watch_cursor SET last_block = $1', [before]);
    await watch.scan();
    expect((await pool.query('SELECT 1 FROM monitor_alerts')).rows).toHaveLength(7);
  });
});
