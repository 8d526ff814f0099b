import type { TrustAnchor } from '../../anchoring/core/trust.ts';
import { EpochRepository } from '../../anchoring/epoch.repository.ts';
import { FlaggedRootRepository } from '../../anchoring/flagged-root.repository.ts';
import { ProofService } from '../../proofs/proof.service.ts';
import type { Config } from '../../core/config.ts';
import type { RunningPipeline } from '../../pipeline/runtime.ts';

/**
 * Waits until the pipeline has indexed `decisions` decisions and anchored every batch (v2: every
 * epoch holding them), every flagged v1 leaf and every flagged v2 tree. Throws with the counts reached when `timeoutMs` passes.
 */
export async function waitUntilSettled(pipeline: RunningPipeline, decisions: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await pipeline.index.counts();
    const flaggedWaiting = (await pipeline.index.pendingFlagged(1)).length + (await pipeline.index.pendingFlaggedV2(1)).length;
    const flaggedRootsPending = (await pipeline.pool.query(`SELECT 1 FROM flagged_roots WHERE status = 'pending' LIMIT 1`)).rowCount ?? 0;
    if (counts.decisions >= decisions && counts.anchored === counts.batches && flaggedWaiting === 0 && flaggedRootsPending === 0) return;
    if (Date.now() > deadline) throw new Error(`pipeline did not finish: ${JSON.stringify(counts)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Stops a test's pipeline and deletes its topics (its schema is dropped by migratedSchema's cleanup). */
export async function stopAndDeleteTopics(pipeline: RunningPipeline | undefined, config: Readonly<Config>): Promise<void> {
  if (!pipeline) return;
  const admin = pipeline.kafka.admin();
  await pipeline.stop();
  await admin.connect();
  await admin.deleteTopics({ topics: Object.values(config.kafka.topics) }).catch(() => undefined);
  await admin.disconnect();
}

/**
 * The trust anchor of a test's pipeline: the DecisionAnchorV2 its anchor worker writes to, in its
 * anchoring key's namespace, and the v1 contract (for v1-leaf batches) when it has one.
 */
export function runtimeTrust(pipeline: RunningPipeline): TrustAnchor {
  const { v2, client, tx } = pipeline.anchor!;
  return { deployments: [{ contract: v2.address, version: 'v2', anchorers: [tx.address] }, ...(client ? [{ contract: client.address, version: 'v1' as const }] : [])] };
}

/** A ProofService over a test pipeline's index, chain and v2 repositories (epochs, flagged roots). */
export function runtimeProofs(pipeline: RunningPipeline): ProofService {
  return new ProofService({ index: pipeline.index, provider: pipeline.anchor!.v2.provider, v2: { epochs: new EpochRepository(pipeline.pool), flaggedRoots: new FlaggedRootRepository(pipeline.pool) } });
}
