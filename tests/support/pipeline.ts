import { pinnedTrust, type TrustAnchor } from '../../anchoring/core/trust.ts';
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

/** The trust anchor of a test's pipeline: the contract its anchor worker writes to. */
export function runtimeTrust(pipeline: RunningPipeline): TrustAnchor {
  return pinnedTrust({ contract: pipeline.anchor!.client!.address });
}
