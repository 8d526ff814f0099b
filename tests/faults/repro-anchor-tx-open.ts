/**
 * Scenario (the fault suite's chain restarts): the chain node goes away while the anchor worker
 * waits for a transaction. The send fails, its nonce stays open in `anchor_transactions`, and
 * every later send throws TX_OPEN ("call resume() first") until `resume()` settles it; the anchor
 * processor (workers/anchor.processor.ts) does that on TX_OPEN and runs the job again. This script
 * shows the state and that `resume()` clears it. Exit code 1 when it does not.
 * Private chain (anvil with --state on its own port), own schema. Run:
 *   node tests/faults/repro-anchor-tx-open.ts
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { id, Interface } from 'ethers';
import { AnchorTxManager } from '../../anchoring/chain/anchor-tx.manager.ts';
import { deployDecisionAnchor } from '../../anchoring/chain/deployment.ts';
import { connectProvider } from '../../anchoring/chain/provider.ts';
import { loadDecisionAnchorArtifact } from '../../contracts/artifacts.ts';
import { AnchorTxRepository } from '../../anchoring/chain/anchor-tx.repository.ts';
import { createPool } from '../../infra/db/pool.ts';
import { DEV_SIGNER_KEY_FILE } from '../../stack/chain.ts';
import { rpcCall } from '../../stack/json-rpc.ts';
import { isolatedConfig, migratedSchema, testLog } from '../support/env.ts';
import { startPrivateService } from '../support/private-services.ts';
import { sleep } from './children.ts';

const root = mkdtempSync(join(tmpdir(), 'repro-tx-open-'));
const chain = await startPrivateService('chain', root, testLog);
const rpcUrl = chain.env.CHAIN_RPC_URL!;
const signerKey = readFileSync(join(chain.env.STATE_DIR!, DEV_SIGNER_KEY_FILE), 'utf8').trim();
const config = isolatedConfig();
const dropSchema = await migratedSchema(config);
const pool = createPool(config.database.url, config.database.schema, 2);
let exitCode = 0;
try {
  const provider = await connectProvider(rpcUrl, 100);
  const repo = new AnchorTxRepository(pool);
  const tx = new AnchorTxManager({ provider, signerKey, repo, log: testLog }, { maxFeeCapWei: 500_000_000_000n, pollMs: 100, confirmations: 1, bumpAfterMs: 2_000, timeoutMs: 60_000 });
  const contract = (await deployDecisionAnchor(tx, provider)).address;
  const abi = new Interface(loadDecisionAnchorArtifact().abi as never);
  const request = (n: number) => ({ to: contract, data: abi.encodeFunctionData('anchorBatch', [id(`repro batch ${n}`), id(`repro root ${n}`), 7]), method: 'anchorBatch', batchIds: [id(`repro batch ${n}`)] });
  // Hold the transaction in the pool: the chain goes away while the manager waits for it.
  await rpcCall(rpcUrl, 'evm_setAutomine', [false]);
  const first = tx.send(request(1)).then(() => 'confirmed', (error: unknown) => `failed: ${(error as Error).message.split('\n')[0]}`);
  while ((await pool.query(`SELECT 1 FROM anchor_transactions WHERE state = 'sent'`)).rowCount === 0) await sleep(50);
  await chain.stop('clean');
  console.log(`send 1 while the chain is down: ${await first}`);
  await chain.start();
  await rpcCall(rpcUrl, 'evm_setAutomine', [true]);
  const second = await tx.send(request(2)).then(() => 'confirmed', (error: unknown) => `failed: ${(error as { code?: string }).code}: ${(error as Error).message}`);
  console.log(`send 2 with the chain back, no resume(): ${second}`);
  if (!second.includes('TX_OPEN')) exitCode = 1;
  const resumed = await tx.resume();
  console.log(`resume(): ${resumed.length} open nonce(s) settled`);
  const third = await tx.send(request(2)).then(() => 'confirmed', (error: unknown) => `failed: ${(error as Error).message}`);
  console.log(`send 2 again after resume(): ${third}`);
  if (third !== 'confirmed') exitCode = 1;
  provider.destroy();
} finally {
  await pool.end();
  await dropSchema();
  await chain.dispose();
  rmSync(root, { recursive: true, force: true });
}
process.exit(exitCode);
