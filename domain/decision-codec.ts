import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ClaimtrailError } from '../core/errors.ts';
import { OUTCOMES, type Decision } from './decision.ts';

/**
 * The `decisions` topic's wire format, owned here: every writer encodes with
 * {@link encodeDecision} and every reader decodes with {@link decodeDecision}, so a record that
 * does not match the schema is refused at the edge instead of travelling on as a cast.
 */

/** Header carrying the correlation id from the claim message through decisions into anchor jobs. */
export const CORRELATION_HEADER = 'x-correlation-id';

const HEX32 = /^0x[0-9a-f]{64}$/;

export const DecisionSchema = z.object({
  decisionId: z.string().regex(HEX32),
  claimId: z.string().min(1),
  score: z.number().min(0).max(1),
  components: z.object({ rf: z.number(), nn: z.number() }),
  outcome: z.enum(OUTCOMES as [Decision['outcome'], ...Decision['outcome'][]]),
  reasons: z.array(z.object({ code: z.string().min(1), contribution: z.number(), text: z.string() })),
  modelHash: z.string().regex(HEX32),
  decidedAt: z.string().min(1),
  input: z.object({ topic: z.string().min(1), partition: z.number().int().nonnegative(), offset: z.string().regex(/^\d+$/) }),
  claimCommitment: z.string().regex(HEX32),
  salt: z.string().regex(HEX32),
  correlationId: z.string().optional(),
});

/** A `decisions` record that is not a decision (not UTF-8 JSON, or not of the schema). */
export class DecisionFormatError extends ClaimtrailError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('DECISION_FORMAT_INVALID', message, options);
  }
}

/** The record value of one decision: its JSON, fields in declaration order. */
export function encodeDecision(decision: Decision): Buffer {
  return Buffer.from(JSON.stringify(decision), 'utf8');
}

/**
 * Reads one `decisions` record value.
 * @throws DecisionFormatError when the bytes are not JSON or not a decision.
 */
export function decodeDecision(value: Buffer | string): Decision {
  let json: unknown;
  try {
    json = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch (error) {
    throw new DecisionFormatError('decision record is not JSON', { cause: error });
  }
  const parsed = DecisionSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new DecisionFormatError(`decision record does not match the schema: ${first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'invalid'}`);
  }
  return parsed.data as Decision;
}

/**
 * Deterministic decision id: sha256 over the claim's position in the claims topic. A claim
 * re-processed after a crash gets the same id, so PostgreSQL writes are idempotent.
 */
export function decisionIdFor(topic: string, partition: number, offset: string): string {
  return `0x${createHash('sha256').update(`claimtrail-decision-v1\0${topic}\0${partition}\0${offset}`).digest('hex')}`;
}
