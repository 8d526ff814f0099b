import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ClaimtrailError } from '../core/errors.ts';
import { DECISION_FORMAT_V2, OUTCOMES, type Decision, type DecisionV1, type DecisionV2, type Outcome } from './decision.ts';

/**
 * The `decisions` topic's wire format, owned here: every writer encodes with
 * {@link encodeDecision} and every reader decodes with {@link decodeDecision}, so a record that
 * does not match a schema is refused at the edge instead of travelling on as a cast.
 *
 * Two versions: v1 records (no `format`; reasons with texts, salt in clear) were written before
 * decision record v2 and stay on the topic until its retention expires (docs/privacy.md), so they
 * are readable forever; v2 records (`format: 'claimtrail-decision-v2'`) are what is written now,
 * read with a strict schema: no salt, no reason text, no other claim field.
 */

/** Header carrying the correlation id from the claim message through decisions into anchor jobs. */
export const CORRELATION_HEADER = 'x-correlation-id';

const HEX32 = /^0x[0-9a-f]{64}$/;
/** Scoring run ids (SCORING_RUN_ID). */
export const RUN_ID = /^[a-z0-9._-]{1,64}$/;

const outcome = z.enum(OUTCOMES as [Outcome, ...Outcome[]]);
const input = z.object({ topic: z.string().min(1), partition: z.number().int().nonnegative(), offset: z.string().regex(/^\d+$/) });

/** v1 records, as release d11ac8c and earlier wrote them. */
export const DecisionV1Schema = z.object({
  decisionId: z.string().regex(HEX32),
  claimId: z.string().min(1),
  score: z.number().min(0).max(1),
  components: z.object({ rf: z.number(), nn: z.number() }),
  outcome,
  reasons: z.array(z.object({ code: z.string().min(1), contribution: z.number(), text: z.string() })),
  modelHash: z.string().regex(HEX32),
  decidedAt: z.string().min(1),
  input,
  claimCommitment: z.string().regex(HEX32),
  salt: z.string().regex(HEX32),
  correlationId: z.string().optional(),
});

/** v2 records: strict, so a salt, a reason text or any claim field is refused, not dropped. */
export const DecisionV2Schema = z.strictObject({
  format: z.literal(DECISION_FORMAT_V2),
  instanceId: z.string().regex(HEX32),
  runId: z.string().regex(RUN_ID),
  decisionId: z.string().regex(HEX32),
  claimId: z.string().min(1),
  score: z.number().min(0).max(1),
  components: z.strictObject({ rf: z.number(), nn: z.number() }),
  outcome,
  reasons: z.array(z.strictObject({ code: z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/), contribution: z.number().finite() })),
  modelHash: z.string().regex(HEX32),
  decidedAt: z.iso.datetime(),
  input: input.strict(),
  claimCommitment: z.string().regex(HEX32),
  correlationId: z.string().optional(),
});

/** A `decisions` record that is not a decision (not UTF-8 JSON, or not of either schema). */
export class DecisionFormatError extends ClaimtrailError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('DECISION_FORMAT_INVALID', message, options);
  }
}

/**
 * The record value of one decision: its JSON, fields in declaration order. The scoring stage
 * writes v2 only; v1 is accepted so tools and tests can write records the way older releases did.
 */
export function encodeDecision(decision: Decision): Buffer {
  return Buffer.from(JSON.stringify(decision), 'utf8');
}

/**
 * Reads one `decisions` record value: a record with a `format` is read as v2 (strictly), one
 * without as v1.
 * @throws DecisionFormatError when the bytes are not JSON or match neither version.
 */
export function decodeDecision(value: Buffer | string): Decision {
  let json: unknown;
  try {
    json = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch (error) {
    throw new DecisionFormatError('decision record is not JSON', { cause: error });
  }
  const v2 = typeof json === 'object' && json !== null && Object.hasOwn(json, 'format');
  const parsed = v2 ? DecisionV2Schema.safeParse(json) : DecisionV1Schema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new DecisionFormatError(`decision record (${v2 ? DECISION_FORMAT_V2 : 'v1'}) does not match the schema: ${first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'invalid'}`);
  }
  return parsed.data as DecisionV1 | DecisionV2;
}

/**
 * Decision id v1: sha256 over the claim's position in the claims topic. Kept to read and check
 * the ids of v1 records; the scoring stage also uses it as the claim's aggregate event id (one
 * observation per input position, whatever run or model scores it).
 */
export function decisionIdFor(topic: string, partition: number, offset: string): string {
  return `0x${createHash('sha256').update(`claimtrail-decision-v1\0${topic}\0${partition}\0${offset}`).digest('hex')}`;
}

/** What a decision id v2 derives from. */
export interface DecisionIdV2Input {
  /** `claimtrail_instance.instance_id`, 0x + 64 lowercase hex. */
  instanceId: string;
  /** Scoring run, `[a-z0-9._-]{1,64}`. */
  runId: string;
  /** Model hash, 0x + 64 lowercase hex. */
  modelHash: string;
  /** The claim's position in the claims topic. */
  topic: string;
  partition: number;
  /** Decimal offset. */
  offset: string;
}

/**
 * Decision id v2 (docs/proof-format-v2.md, "Identifiers"):
 * `sha256("claimtrail-decision-v2" 0x00 instanceId 0x00 runId 0x00 modelHash 0x00 topic 0x00 partition 0x00 offset)`,
 * UTF-8, hex fields as lowercase `0x` strings, numbers in decimal. A replay of the same input
 * with the same model and run gives the same id (PostgreSQL writes stay idempotent); another
 * run or model gives another.
 * @returns `0x` + 64 lowercase hex digits.
 * @throws DecisionFormatError when a field is out of its format (so two inputs never share a preimage).
 */
export function decisionIdV2(id: DecisionIdV2Input): string {
  const bad =
    !HEX32.test(id.instanceId) ? 'instanceId'
    : !RUN_ID.test(id.runId) ? 'runId'
    : !HEX32.test(id.modelHash) ? 'modelHash'
    : id.topic.length === 0 || id.topic.includes('\0') ? 'topic'
    : !Number.isSafeInteger(id.partition) || id.partition < 0 ? 'partition'
    : !/^(0|[1-9]\d*)$/.test(id.offset) ? 'offset'
    : null;
  if (bad) throw new DecisionFormatError(`decision id v2: ${bad} is out of its format`);
  const preimage = [DECISION_FORMAT_V2, id.instanceId, id.runId, id.modelHash, id.topic, String(id.partition), id.offset].join('\0');
  return `0x${createHash('sha256').update(preimage, 'utf8').digest('hex')}`;
}
