/**
 * Measures DecisionAnchor gas on a private anvil and prints docs/gas.md's table:
 *   node bench/gas-report.ts
 * (needs `hardhat build` first for the artifact, and PostgreSQL at DATABASE_URL: transactions go
 * through the anchor transaction manager, which stores its attempts in a throwaway schema).
 * Figures are gasUsed from receipts.
 */
import { Interface, id } from 'ethers';
import { AnchorTxManager } from '../anchoring/chain/anchor-tx.manager.ts';
import { AnchorTxRepository } from '../anchoring/chain/anchor-tx.repository.ts';
import { deployDecisionAnchor } from '../anchoring/chain/deployment.ts';
import { connectProvider } from '../anchoring/chain/provider.ts';
import { loadDecisionAnchorArtifact } from '../contracts/artifacts.ts';
import { createPool } from '../infra/db/pool.ts';
import { isolatedConfig, migratedSchema, testLog } from '../tests/support/env.ts';
import { startPrivateAnvil } from '../tests/support/private-anvil.ts';

const anvil = await startPrivateAnvil();
const provider = await connectProvider(anvil.rpcUrl, 100);
const config = isolatedConfig();
const dropSchema = await migratedSchema(config);
const pool = createPool(config.database.url, config.database.schema, 2);
try {
  const tx = new AnchorTxManager({ provider, signerKey: anvil.signerKey, repo: new AnchorTxRepository(pool), log: testLog }, { maxFeeCapWei: 500_000_000_000n, pollMs: 25 });
  const { address } = await deployDecisionAnchor(tx, provider);
  const abi = new Interface(loadDecisionAnchorArtifact().abi as never);
  let n = 0;
  const gas = async (method: string, args: unknown[]) => (await tx.send({ to: address, data: abi.encodeFunctionData(method, args), method, batchIds: [] })).gasUsed;
  const rows: Array<[string, bigint]> = [];
  const batch = async (leafCount: number) => gas('anchorBatch', [id(`gas batch ${n++}`), id(`gas root ${n}`), leafCount]);
  rows.push(['anchorBatch (1 batch root)', await batch(1000)]);
  const batchGas1k = await batch(1000);
  const batchGas10k = await batch(10_000);
  for (const k of [1, 10, 100]) {
    const ids = Array.from({ length: k }, () => id(`gas batch ${n++}`));
    rows.push([`anchorBatches, ${k} roots`, await gas('anchorBatches', [ids, ids.map((x) => id(`r${x}`)), ids.map(() => 1000)])]);
  }
  for (const k of [1, 10, 100]) {
    rows.push([`anchorFlagged, ${k} leaves`, await gas('anchorFlagged', [Array.from({ length: k }, () => id(`gas leaf ${n++}`))])]);
  }
  rows.push(['registerModel (short metadata URI)', await gas('registerModel', [id(`gas model ${n++}`), 'claimtrail-model:0x' + '00'.repeat(32)])]);
  for (const [what, g] of rows) process.stdout.write(`| ${what} | ${g} |\n`);
  process.stdout.write(`| gas per decision, 1,000 decisions per batch (anchorBatch) | ${(Number(batchGas1k) / 1000).toFixed(1)} |\n`);
  process.stdout.write(`| gas per decision, 10,000 decisions per batch (anchorBatch) | ${(Number(batchGas10k) / 10000).toFixed(2)} |\n`);
} finally {
  provider.destroy();
  await pool.end();
  await dropSchema();
  await anvil.stop();
}
