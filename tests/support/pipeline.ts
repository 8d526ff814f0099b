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
    if (counts.decisions >= decisions && counts.anchored === counts.batches && (await pipeline.index.pendingFlagged(1)).length === 0 && (await flaggedV2Settled(pipeline))) return;
    if (Date.now() > deadline) throw new Error(`pipeline did not finish: ${JSON.stringify(counts)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Every flagged v2-leaf decision is in a flagged tree, and every flagged tree is anchored. */
async function flaggedV2Settled(pipeline: RunningPipeline): Promise<boolean> {
  if ((await pipeline.index.pendingFlaggedV2(1)).length > 0) return false;
  const { rows } = await pipeline.pool.query<{ n: string }>(`SELECT count(*) AS n FROM flagged_roots WHERE status = 'pending'`);
  return rows[0]!.n === '0';
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
