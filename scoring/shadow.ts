import { z } from 'zod';
import { OUTCOMES, type Outcome } from '../domain/decision.ts';

/**
 * Champion / challenger. The champion (MODEL_DIR) decides; the challenger (CHALLENGER_MODEL_DIR)
 * scores the same claims with the same features, aggregates and rules, and its result is written
 * to the shadow topic, one `claimtrail-shadow-v1` record per decision, in the scoring stage's
 * transaction (exactly once, like the decisions). Shadow records are never read by the pipeline:
 * nothing a challenger says changes a decision, a batch or a case. This file owns
 * the record format (the stage writes it); the comparison `claimtrail shadow report` prints
 * from a set of records is evaluation, in the training room (evaluation/shadow-report.ts).
 */

export const SHADOW_FORMAT = 'claimtrail-shadow-v1';

const hash = z.string().regex(/^0x[0-9a-f]{64}$/);
const probability = z.number().min(0).max(1);
const outcome = z.enum(OUTCOMES as [Outcome, ...Outcome[]]);

export const ShadowRecordSchema = z.strictObject({
  format: z.literal(SHADOW_FORMAT),
  /** The champion's decision this record shadows. */
  decisionId: hash,
  claimId: z.string().min(1),
  scoredAt: z.iso.datetime(),
  champion: z.strictObject({ modelHash: hash, score: probability, outcome }),
  challenger: z.strictObject({
    modelHash: hash,
    score: probability,
    components: z.strictObject({ rf: probability, nn: probability }),
    outcome,
    /** Reason codes the challenger gave, rules first. */
    reasonCodes: z.array(z.string().min(1)),
  }),
});

export type ShadowRecord = z.infer<typeof ShadowRecordSchema>;
