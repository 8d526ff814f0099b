import { reasonsHash } from '../anchoring/core/leaf.ts';
import type { DecisionIndexRepository } from '../anchoring/decision-index.repository.ts';
import type { Logger } from '../core/logger.ts';
import type { ClaimPayloadRepository } from '../privacy/claim-payload.repository.ts';

/** What one run of {@link sealLegacyDecisions} did, in decisions. */
export interface LegacyDecisionsResult {
  /** Salt and texts sealed under the member's key (or found sealed by an earlier run), row stripped. */
  sealed: number;
  /** Row stripped, salt and texts discarded: the member was erased (or no payload was stored). */
  dropped: number;
  /** Left as they are: their payload is still in clear (the next start encrypts it, then moves them). */
  deferred: number;
}

/**
 * Moves the secrets of v1 decision rows out of the decision index (docs/privacy.md, "Decision
 * record v2"): for each v1 row still holding its salt, the salt and the reasons with their texts
 * are sealed beside the claim payload under the member's data key, then the row is rewritten to
 * codes and contributions with a NULL salt, keeping the v1 reasons hash its leaf bound (so it
 * still recomputes to its leaf, anchoring/interim-leaf.ts). A row of an erased member is stripped
 * without sealing: its texts and salt follow the member's key.
 *
 * Batched (`batchSize` rows at a time, in decision id order) and idempotent: sealing keeps what an
 * earlier run sealed and stripping touches only rows that still hold a salt, so a run stopped
 * halfway, or two scoring processes starting together, finish the job without losing a salt.
 * Run by the scoring role at start, after the clear payloads are encrypted.
 */
export async function sealLegacyDecisions(deps: { index: DecisionIndexRepository; payloads: ClaimPayloadRepository; log?: Logger }, batchSize = 500): Promise<LegacyDecisionsResult> {
  const { index, payloads } = deps;
  const total: LegacyDecisionsResult = { sealed: 0, dropped: 0, deferred: 0 };
  let after = '';
  for (;;) {
    const rows = await index.legacyV1Rows(batchSize, after);
    if (rows.length === 0) break;
    after = rows.at(-1)!.decisionId;
    const result = await payloads.sealLegacy(rows);
    const strip = new Set([...result.sealed, ...result.dropped]);
    await index.stripLegacyV1(rows.filter((r) => strip.has(r.decisionId)).map((r) => ({ decisionId: r.decisionId, reasons: r.reasons, reasonsV1Hash: reasonsHash(r.reasons) })));
    total.sealed += result.sealed.length;
    total.dropped += result.dropped.length;
    total.deferred += result.deferred.length;
  }
  if (total.sealed + total.dropped + total.deferred > 0) deps.log?.info({ component: 'privacy', ...total }, 'moved v1 decisions\' salts and reason texts into the sealed store');
  return total;
}
