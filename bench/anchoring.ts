import { randomBytes } from 'node:crypto';
import { Interface } from 'ethers';
import { loadDecisionAnchorArtifact } from '../contracts/artifacts.ts';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { connectAnchorClient } from '../pipeline/runtime.ts';

/** Gas of anchorBatch at one batch size. anchorBatch's gas does not depend on leafCount, so per decision = gas / leaves. */
export interface GasRow {
  leafCount: number;
  gasUsed: number;
  gasPerDecision: number;
  txMs: number;
}

/**
 * Sends anchorBatch directly (no queue) for each batch size with a real root of that size, and
 * `sequential` more at the first size to get the chain-side ceiling in batches/s (send + mined
 * receipt, anvil automine). Uses the stack's contract and dev signer like the anchor worker.
 */
/** Gas of ONE anchorBatches call carrying `batches` roots of `leafCount` leaves each (estimateGas, nothing sent). */
export interface AggregatedGasRow {
  batches: number;
  leafCount: number;
  gasEstimate: number;
  gasPerDecision: number;
}

const randomId = () => `0x${randomBytes(32).toString('hex')}`;

export async function anchorCeiling(
  config: Readonly<Config>,
  log: Logger,
  roots: ReadonlyArray<{ leafCount: number; root: string }>,
  sequential: number,
): Promise<{ gas: GasRow[]; aggregated: AggregatedGasRow[]; batchesPerSecond: number; chainId: string }> {
  const client = await connectAnchorClient(config, log);
  try {
    const chainId = (await client.chainId()).toString();
    const gas: GasRow[] = [];
    let from = '';
    for (const { leafCount, root } of roots) {
      const started = performance.now();
      const receipt = await client.anchorBatch(randomId(), root, leafCount);
      gas.push({ leafCount, gasUsed: Number(receipt.gasUsed), gasPerDecision: Number(receipt.gasUsed) / leafCount, txMs: performance.now() - started });
      from = (await client.provider.getTransaction(receipt.txHash))?.from ?? from;
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
    for (let i = 0; i < sequential; i++) await client.anchorBatch(randomId(), first.root, first.leafCount);
    return { gas, aggregated, batchesPerSecond: sequential / ((performance.now() - started) / 1000), chainId };
  } finally {
    client.provider.destroy();
  }
}
