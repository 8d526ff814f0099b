import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import { batchId as batchIdOf } from '../../anchoring/core/batch.ts';
import { claimCommitment } from '../../anchoring/core/commitment.ts';
import { decisionLeaf } from '../../anchoring/core/leaf.ts';
import { buildBatchTree } from '../../anchoring/core/merkle.ts';
import { DecisionIndexRepository, type IndexedDecision } from '../../anchoring/decision-index.repository.ts';
import { interimLeafValues } from '../../anchoring/interim-leaf.ts';
import type { Config } from '../../core/config.ts';
import type { Claim } from '../../domain/claim.schema.ts';
import type { ClaimPayloadRepository } from '../../privacy/claim-payload.repository.ts';
import { AttachmentRepository } from '../../review/repositories/attachment.repository.ts';
import { checkAttachment } from '../../review/services/attachment-policy.ts';
import { CaseOpeningService } from '../../review/services/case-opening.service.ts';
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
  const range = { topic: config.kafka.topics.decisions, partition: 0, firstOffset: String(firstOffset), lastOffset: String(firstOffset + cases.length - 1) };
  const id = batchIdOf(range);
  const withClaims = cases.map((c, i) => ({ c, claim: { ...claims[i]!, claimId: `SIM-${config.database.schema}-${c.index}`, memberId: c.member, billingProviderNpi: c.provider } }));
  const decisions: IndexedDecision[] = withClaims.map(({ c, claim }, i) => {
    const salt = hex(`salt-${claim.claimId}`);
    const base = {
      decisionId: hex(`decision-${claim.claimId}`),
      claimId: claim.claimId,
      score: c.score,
      components: { rf: c.score, nn: c.score },
      ...routedAs(c.queue),
      modelHash: hex('model'),
      decidedAt: new Date().toISOString(),
      input: { topic: config.kafka.topics.claims, partition: 0, offset: String(firstOffset + i) },
      claimCommitment: claimCommitment(Buffer.from(JSON.stringify(claim)), salt),
      salt,
      log: { topic: config.kafka.topics.decisions, partition: 0, offset: String(firstOffset + i) },
      batchId: id,
      leafIndex: i,
    };
    return { ...base, leaf: decisionLeaf(base) };
  });
  const tree = buildBatchTree(decisions.map((d) => interimLeafValues(d, d.log)));
  await opener.payloads.insertMany(
    decisions.map((d, i) => {
      const claim = withClaims[i]!.claim;
      return { decisionId: d.decisionId, claimId: d.claimId, memberId: claim.memberId, providerNpi: claim.billingProviderNpi, claimBytes: Buffer.from(JSON.stringify(claim)), claimType: claim.claimType, totalCharged: claim.totalCharged, salt: hex(`salt-${d.claimId}`) };
    }),
  );
  await new DecisionIndexRepository(pool).recordBatch({ batchId: id, ...range, leafCount: tree.leafCount, root: tree.root }, decisions, { hook: new CaseOpeningService() });
  const { rows } = await pool.query<{ case_id: string; decision_id: string; queue: string }>('SELECT case_id::text, decision_id, queue FROM cases WHERE decision_id = ANY($1::text[])', [decisions.map((d) => d.decisionId)]);
  const byDecision = new Map(rows.map((r) => [r.decision_id, r]));
  const attachments = new AttachmentRepository(pool);
  const opened: DrivenCase[] = [];
  for (const [i, d] of decisions.entries()) {
    const row = byDecision.get(d.decisionId);
    const c = withClaims[i]!.c;
    if (!row) throw new Error(`case opening opened no case for simulated case ${c.index}`);
    if (row.queue !== c.queue) throw new Error(`simulated case ${c.index} was routed to ${row.queue}, not ${c.queue}: the routing rules are not the seeded ones`);
    const file = checkAttachment({ fileName: 'claim-documents.txt', contentType: 'text/plain', content: Buffer.from(`documents of claim ${d.claimId}\n`) });
    const attachmentId = await attachments.insert({ caseId: row.case_id, userId: opener.intakeUserId, ...file });
    opened.push({ caseId: row.case_id, sim: c, status: 'open', assigneeId: null, attachmentId: String(attachmentId) });
  }
  return opened;
}
