/**
 * Scenario: the anchor worker killed after broadcasting an attempt but before recording it as
 * `sent`. The database then holds the attempt as `pending` while the chain already mined it;
 * `AnchorTxManager.resume()` on restart settles it as confirmed. Exit code 1 when it does not.
 * Run: node tests/faults/repro-anchor-pending.ts (private anvil, own schema).
 */
import { Interface, id } from 'ethers';
import { AnchorTxManager } from '../../anchoring/chain/anchor-tx.manager.ts';
import { deployDecisionAnchor } from '../../anchoring/chain/deployment.ts';
import { connectProvider } from '../../anchoring/chain/provider.ts';
import { loadDecisionAnchorArtifact } from '../../contracts/artifacts.ts';
import { AnchorTxRepository } from '../../anchoring/chain/anchor-tx.repository.ts';
import { createPool } from '../../infra/db/pool.ts';
import { startPrivateAnvil } from '../support/private-anvil.ts';
import { isolatedConfig, migratedSchema, testLog } from '../support/env.ts';

const config = isolatedConfig();
const anvil = await startPrivateAnvil();
const provider = await connectProvider(anvil.rpcUrl, 100);
const dropSchema = await migratedSchema(config);
const pool = createPool(config.database.url, config.database.schema, 2);
let exitCode = 0;
try {
  const repo = new AnchorTxRepository(pool);
  const options = { maxFeeCapWei: 500_000_000_000n, pollMs: 100, confirmations: 1 };
  const first = new AnchorTxManager({ provider, signerKey: anvil.signerKey, repo, log: testLog }, options);
  const contract = (await deployDecisionAnchor(first, provider)).address;
  const abi = new Interface(loadDecisionAnchorArtifact().abi as never);
  const batchId = id('repro batch');
  const request = { to: contract, data: abi.encodeFunctionData('anchorBatch', [batchId, id('repro root'), 7]), method: 'anchorBatch', batchIds: [batchId] };
  const outcome = await first.send(request);
  // What kill -9 between broadcastTransaction() and setState('sent') leaves behind:
  await pool.query(`UPDATE anchor_transactions SET state = 'pending', block_number = NULL, block_hash = NULL WHERE tx_hash = $1`, [outcome.txHash]);
  const restarted = new AnchorTxManager({ provider, signerKey: anvil.signerKey, repo, log: testLog }, options);
  try {
    const resumed = await restarted.resume();
    console.log('resume() ok:', JSON.stringify(resumed, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
  } catch (error) {
    exitCode = 1;
    console.log(`resume() threw ${(error as { code?: string }).code}: ${(error as Error).message}`);
  }
  const { rows } = await pool.query('SELECT tx_hash, nonce, attempt, state, error FROM anchor_transactions');
  console.log('anchor_transactions after resume:', JSON.stringify(rows));
} finally {
  provider.destroy();
  await pool.end();
  await dropSchema();
  await anvil.stop();
}
process.exit(exitCode);
