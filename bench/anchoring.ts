import { randomBytes } from 'node:crypto';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { devRoleKeySource, devSignerSource } from '../cli/dev-sources.ts';
import { migrate } from '../infra/db/migrate.ts';
import { createPool } from '../infra/db/pool.ts';
import { connectAnchoring } from '../pipeline/runtime.ts';

/** Gas of one DecisionAnchorV2 write, from its receipt. */
export interface GasRow {
  /** `anchorEpoch` (batchCount, leafCount as given) or `anchorFlaggedRoot` (count = leafCount). */
  method: 'anchorEpoch' | 'anchorFlaggedRoot';
  /** Decisions the transaction commits to (the epoch's leaf count, the flagged root's count). */
  leafCount: number;
  gasUsed: number;
  txMs: number;
}

/** The chain-side figures of the v2 anchoring (proof format v2: epochs and per-block flagged roots). */
export interface AnchorCeiling {
  gas: GasRow[];
  /** Sequential anchorEpoch transactions per second (send + confirmed receipt). */
  epochsPerSecond: number;
  chainId: string;
}

const randomId = () => `0x${randomBytes(32).toString('hex')}`;

/** Leaf counts the epoch and flagged-root gas is measured at: it must not depend on them. */
const EPOCH_LEAVES = [1_000, 600_000];
const FLAGGED_COUNTS = [40, 1_400, 8_400];

/**
 * Sends `anchorEpoch` and `anchorFlaggedRoot` directly (no queue) on the stack's DecisionAnchorV2
 * with the dev signer, through the signer's transaction manager (its only sender, polling every
 * 25 ms so the figure measures the chain), at several leaf counts: the contract stores one root
 * and counts, so the gas must not depend on them. Then `sequential` more epochs for the chain-side
 * ceiling in epochs/s (anvil automine).
 */
export async function anchorCeiling(config: Readonly<Config>, log: Logger, sequential: number): Promise<AnchorCeiling> {
  await migrate(config.database.url, config.database.schema, log);
  const pool = createPool(config.database.url, config.database.schema, 2);
  const { client: v1, v2, tx } = await connectAnchoring(config, { pool, signer: devSignerSource(config), roles: devRoleKeySource(config), log }, { pollMs: 25 }).catch(async (error: unknown) => {
    await pool.end();
    throw error;
  });
  try {
    const chainId = (await v2.chainId()).toString();
    const send = async (method: GasRow['method'], leafCount: number): Promise<GasRow> => {
      const started = performance.now();
      const data = method === 'anchorEpoch' ? v2.calldata('anchorEpoch', [randomId(), randomId(), Math.max(1, Math.ceil(leafCount / 1_000)), leafCount]) : v2.calldata('anchorFlaggedRoot', [randomId(), leafCount]);
      const receipt = await tx.send({ to: v2.address, data, method, batchIds: [] });
      return { method, leafCount, gasUsed: Number(receipt.gasUsed), txMs: performance.now() - started };
    };
    const gas: GasRow[] = [];
    for (const leaves of EPOCH_LEAVES) gas.push(await send('anchorEpoch', leaves));
    for (const count of FLAGGED_COUNTS) gas.push(await send('anchorFlaggedRoot', count));
    const started = performance.now();
    for (let i = 0; i < sequential; i++) await send('anchorEpoch', 1_000);
    return { gas, epochsPerSecond: sequential / ((performance.now() - started) / 1000), chainId };
  } finally {
    v2.provider.destroy();
    v1?.provider.destroy();
    await pool.end();
  }
}

/** The operating point: 10,000 claims/s, 60 s epochs, 7 % flagged, L2-like (2 s) and mainnet-like (12 s) blocks. */
export const OPERATING_POINT = { claimsPerSecond: 10_000, epochSeconds: 60, flagRate: 0.07, blockSeconds: [2, 12] } as const;

/** What the measured gas means at the operating point: per decision, per flagged decision, per day. */
export interface GasAtRate {
  epochGas: number;
  flaggedRootGas: number;
  /** epochGas / decisions per epoch. */
  gasPerDecision: number;
  /** Per block time: flaggedRootGas / flagged decisions per block. */
  gasPerFlagged: Array<{ blockSeconds: number; flaggedPerRoot: number; gasPerFlagged: number; gasPerDay: number }>;
}

export function gasAtRate(ceiling: AnchorCeiling, point: typeof OPERATING_POINT = OPERATING_POINT): GasAtRate {
  const max = (method: GasRow['method']) => Math.max(0, ...ceiling.gas.filter((g) => g.method === method).map((g) => g.gasUsed));
  const epochGas = max('anchorEpoch');
  const flaggedRootGas = max('anchorFlaggedRoot');
  const epochsPerDay = 86_400 / point.epochSeconds;
  return {
    epochGas,
    flaggedRootGas,
    gasPerDecision: epochGas / (point.claimsPerSecond * point.epochSeconds),
    gasPerFlagged: point.blockSeconds.map((blockSeconds) => {
      const flaggedPerRoot = point.claimsPerSecond * point.flagRate * blockSeconds;
      return { blockSeconds, flaggedPerRoot, gasPerFlagged: flaggedRootGas / flaggedPerRoot, gasPerDay: epochsPerDay * epochGas + (86_400 / blockSeconds) * flaggedRootGas };
    }),
  };
}
