import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import type { Config } from '../../core/config.ts';
import type { Claim } from '../../domain/claim.schema.ts';
import type { ClaimPayloadRepository } from '../../privacy/claim-payload.repository.ts';
import { AttachmentRepository } from '../../review/repositories/attachment.repository.ts';
import { checkAttachment } from '../../review/services/attachment-policy.ts';
import { recordDecisionBatch } from '../../tests/support/review-cases.ts';
import type { DrivenCase } from './driver.ts';
import type { SimCase } from './simulator.ts';

const hex = (s: string) => `0x${createHash('sha256').update(s).digest('hex')}`;

/**
 * The decision that routes a claim to the simulator's queue under the seeded routing rules
 * (review/services/queue-routing.ts): a rule hit goes to `rule-hits`, a flag without one to
 * `flagged`, a review-band decision to `review`.
 */
function routedAs(queue: SimCase['queue']): { outcome: 'flag' | 'review'; reasons: Array<{ code: string; contribution: number; text: string }> } {
  if (queue === 'rule-hits') return { outcome: 'flag', reasons: [{ code: 'R_EXCLUDED_PROVIDER', contribution: 1, text: '' }] };
  if (queue === 'flagged') return { outcome: 'flag', reasons: [{ code: 'F_CHARGE_VS_REFERENCE', contribution: 0.8, text: '' }] };
  return { outcome: 'review', reasons: [{ code: 'F_CHARGE_VS_REFERENCE', contribution: 0.5, text: '' }] };
}

export interface CaseOpener {
  /** The encrypted claim store of the run's schema. */
  payloads: ClaimPayloadRepository;
  /** Review user the claims' documents are filed under (a service user: the intake). */
  intakeUserId: string;
}

/**
 * Opens the simulated cases the way production does: each claim's encrypted payload is stored,
 * its decision recorded in a batch of the decision index, and the case opened by the real
 * CaseOpeningService inside that transaction (as the batching stage does). Each case gets the
 * claim's documents as one attachment, filed through the attachment repository under the intake
 * user: the app has no intake route, and uploading through the API would audit a person's access
 * no scenario asks for. Not audited, like case opening in production.
 * @param claims generated claims, one per case (member and billing NPI are replaced by the case's).
 * @param firstOffset the batch's first decisions-log offset; batches of one run must not overlap.
 */
export async function openSimCases(pool: Pool, config: Readonly<Config>, opener: CaseOpener, cases: readonly SimCase[], claims: readonly Claim[], firstOffset: number): Promise<DrivenCase[]> {
  if (cases.length === 0) return [];
  const withClaims = cases.map((c, i) => ({ c, claim: { ...claims[i]!, claimId: `SIM-${config.database.schema}-${c.index}`, memberId: c.member, billingProviderNpi: c.provider } }));
  const { decisions } = await recordDecisionBatch(pool, config, opener.payloads, withClaims.map((w) => w.claim), firstOffset, (claim, i) => {
    const c = withClaims[i]!.c;
    return { decisionId: hex(`decision-${claim.claimId}`), score: c.score, components: { rf: c.score, nn: c.score }, ...routedAs(c.queue), decidedAt: new Date().toISOString() };
  });
  const attachments = new AttachmentRepository(pool);
  const opened: DrivenCase[] = [];
  for (const [i, d] of decisions.entries()) {
    const { c, claim } = withClaims[i]!;
    if (d.caseId === undefined) throw new Error(`case opening opened no case for simulated case ${c.index}`);
    if (d.queue !== c.queue) throw new Error(`simulated case ${c.index} was routed to ${d.queue}, not ${c.queue}: the routing rules are not the seeded ones`);
    const file = checkAttachment({ fileName: 'claim-documents.txt', contentType: 'text/plain', content: Buffer.from(`documents of claim ${claim.claimId}\n`) });
    const attachmentId = await attachments.insert({ caseId: d.caseId, userId: opener.intakeUserId, ...file });
    opened.push({ caseId: d.caseId, sim: c, status: 'open', assigneeId: null, attachmentId: String(attachmentId) });
  }
  return opened;
}
