import { randomBytes } from 'node:crypto';
import { Interface } from 'ethers';
import { loadDecisionAnchorArtifact } from '../contracts/artifacts.ts';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { devRoleKeySource, devSignerSource } from '../cli/dev-sources.ts';
import { migrate } from '../infra/db/migrate.ts';
import { createPool } from '../infra/db/pool.ts';
import { connectAnchoring } from '../pipeline/runtime.ts';

/** Gas of anchorBatch at one batch size. anchorBatch's gas does not depend on leafCount, so per decision = gas / leaves. */
export interface GasRow {
  leafCount: number;
  gasUsed: number;
  gasPerDecision: number;
  txMs: number;
}

/** Gas of ONE anchorBatches call carrying `batches` roots of `leafCount` leaves each (estimateGas, nothing sent). */
export interface AggregatedGasRow {
  batches: number;
  leafCount: number;
  gasEstimate: number;
  gasPerDecision: number;
}

const randomId = () => `0x${randomBytes(32).toString('hex')}`;

/**
 * Sends anchorBatch directly (no queue) for each batch size with a real root of that size, and
 * `sequential` more at the first size to get the chain-side ceiling in batches/s (send + confirmed
 * receipt, anvil automine). Uses the stack's contract and dev signer like the anchor worker, and
 * sends through the signer's transaction manager (its only sender), polling every 25 ms so the
 * figure measures the chain rather than the poll interval.
 */
export async function anchorCeiling(
  config: Readonly<Config>,
  log: Logger,
  roots: ReadonlyArray<{ leafCount: number; root: string }>,
  sequential: number,
): Promise<{ gas: GasRow[]; aggregated: AggregatedGasRow[]; batchesPerSecond: number; chainId: string }> {
  await migrate(config.database.url, config.database.schema, log);
  const pool = createPool(config.database.url, config.database.schema, 2);
  const { client: v1, tx } = await connectAnchoring(config, { pool, signer: devSignerSource(config), roles: devRoleKeySource(config), log }, { pollMs: 25 }).catch(async (error: unknown) => {
    await pool.end();
    throw error;
  });
  // This benchmark measures the v1 contract's per-batch calls (the v2 epoch figures are in tests/integration/epoch-anchorer.test.ts).
  if (!v1) throw new Error('no v1 DecisionAnchor on this chain: the v1 anchoring ceiling needs the dev chain');
  const client = v1;
  const anchorBatch = async (leafCount: number, root: string) => {
    const batchId = randomId();
    return tx.send({ to: client.address, data: client.calldata('anchorBatch', [batchId, root, leafCount]), method: 'anchorBatch', batchIds: [batchId] });
  };
  try {
    const chainId = (await client.chainId()).toString();
    const gas: GasRow[] = [];
    const from = tx.address;
    for (const { leafCount, root } of roots) {
      const started = performance.now();
      const receipt = await anchorBatch(leafCount, root);
      gas.push({ leafCount, gasUsed: Number(receipt.gasUsed), gasPerDecision: Number(receipt.gasUsed) / leafCount, txMs: performance.now() - started });
    }
    // The contract's existing anchorBatches amortises the 21,000 base cost over several roots:
    // estimated from the anchorer's address (role checks pass), nothing is sent.
    const abi = new Interface(loadDecisionAnchorArtifact().abi);
    const aggregated: AggregatedGasRow[] = [];
    const largest = roots.reduce((a, b) => (b.leafCount > a.leafCount ? b : a));
    for (const batches of [1, 10, 50]) {
      const data = abi.encodeFunctionData('anchorBatches', [Array.from({ length: batches }, randomId), Array.from({ length: batches }, () => largest.root), Array.from({ length: batches }, () => largest.leafCount)]);
      const estimate = Number(await client.provider.estimateGas({ from, to: client.address, data }));
      aggregated.push({ batches, leafCount: largest.leafCount, gasEstimate: estimate, gasPerDecision: estimate / (batches * largest.leafCount) });
    }
    const first = roots[0]!;
    const started = performance.now();
    for (let i = 0; i < sequential; i++) await anchorBatch(first.leafCount, first.root);
    return { gas, aggregated, batchesPerSecond: sequential / ((performance.now() - started) / 1000), chainId };
  } finally {
    client.provider.destroy();
    await pool.end();
  }
}
