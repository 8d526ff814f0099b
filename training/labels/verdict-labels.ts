import type { Kafka } from 'kafkajs';
import { z } from 'zod';
import type { ClaimPayloadRepository } from '../../privacy/claim-payload.repository.ts';
import { parseClaim, type Claim } from '../../domain/claim.schema.ts';
import { KafkaDecisionLog } from '../../proofs/decision-log.reader.ts';
import { DISPOSITIONS } from '../../review/repositories/case.repository.ts';

/** A verdict as read back from the verdicts topic (extra fields are tolerated). */
const VerdictRecordSchema = z.looseObject({
  format: z.literal('claimtrail-verdict-v1'),
  dispositionId: z.string().min(1),
  decisionId: z.string().min(1),
  claimId: z.string().min(1),
  disposition: z.enum(DISPOSITIONS),
  label: z.union([z.literal(0), z.literal(1), z.null()]),
  decidedAt: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'a date'),
});

/** The label the latest disposition of one claim implies. */
export interface VerdictLabel {
  claimId: string;
  decisionId: string;
  dispositionId: string;
  label: 0 | 1;
  decidedAt: string;
}

export interface VerdictLabelStats {
  /** Records read from the topic. */
  records: number;
  /** Records that are not a claimtrail-verdict-v1 (skipped). */
  invalid: number;
  /** Records whose dispositionId was seen before (at-least-once delivery; skipped). */
  duplicates: number;
  /** Claims whose latest disposition settles nothing (needs_information, escalated). */
  unsettled: number;
}

/**
 * Turns verdict records (in log order) into one training label per claim: duplicates of a
 * dispositionId are dropped, and the latest disposition of a claim wins (by `decidedAt`, ties
 * by log order). A claim whose latest disposition has `label: null` gets no label, even when an
 * earlier disposition had one: the investigators reopened the question.
 */
export function labelsFromVerdicts(records: Iterable<{ value: Buffer | string | null }>): { labels: VerdictLabel[]; stats: VerdictLabelStats } {
  const stats: VerdictLabelStats = { records: 0, invalid: 0, duplicates: 0, unsettled: 0 };
  const seen = new Set<string>();
  const latest = new Map<string, { dispositionId: string; decisionId: string; label: 0 | 1 | null; decidedAt: string; time: number }>();
  for (const record of records) {
    stats.records++;
    let parsed;
    try {
      parsed = record.value === null ? null : VerdictRecordSchema.safeParse(JSON.parse(record.value.toString()));
    } catch {
      parsed = null;
    }
    if (!parsed?.success) {
      stats.invalid++;
      continue;
    }
    const v = parsed.data;
    if (seen.has(v.dispositionId)) {
      stats.duplicates++;
      continue;
    }
    seen.add(v.dispositionId);
    const time = Date.parse(v.decidedAt);
    const previous = latest.get(v.claimId);
    if (previous && previous.time > time) continue;
    latest.set(v.claimId, { dispositionId: v.dispositionId, decisionId: v.decisionId, label: v.label, decidedAt: v.decidedAt, time });
  }
  const labels: VerdictLabel[] = [];
  for (const [claimId, v] of latest) {
    if (v.label === null) stats.unsettled++;
    else labels.push({ claimId, decisionId: v.decisionId, dispositionId: v.dispositionId, label: v.label, decidedAt: v.decidedAt });
  }
  labels.sort((a, b) => a.claimId.localeCompare(b.claimId));
  return { labels, stats };
}

/** Reads the whole verdicts topic (read_committed, fresh consumer group, nothing committed). */
export async function readVerdictLabels(kafka: Kafka, topic: string, options: { idleMs?: number; timeoutMs?: number } = {}): Promise<{ labels: VerdictLabel[]; stats: VerdictLabelStats }> {
  const admin = kafka.admin();
  await admin.connect();
  let exists: boolean;
  try {
    exists = (await admin.listTopics()).includes(topic);
  } finally {
    await admin.disconnect();
  }
  if (!exists) return labelsFromVerdicts([]);
  const log = new KafkaDecisionLog(kafka, topic, options);
  const ranges = (await log.partitions()).filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => ({ partition: p.partition, from: p.low, to: (BigInt(p.high) - 1n).toString() }));
  return labelsFromVerdicts(await log.read(ranges));
}

/** A labelled claim ready for training, and the labels that found no usable claim payload. */
export interface LabelledClaims {
  claims: Claim[];
  labels: Array<{ claimId: string; fraud: boolean; pattern: null }>;
  /** Claim ids whose payload is missing from claim_payloads or no longer a valid claim. */
  missing: string[];
}

/**
 * Joins labels with the claim payloads in PostgreSQL: by decision id first (the exact claim the
 * investigators saw), by claim id otherwise (the most recently received payload). Payloads are
 * decrypted; claims of erased members count as missing.
 */
export async function joinClaimPayloads(payloads: ClaimPayloadRepository, labels: readonly VerdictLabel[]): Promise<LabelledClaims> {
  const byDecision = await payloads.getMany(labels.map((l) => l.decisionId));
  const unmatched = labels.filter((l) => !byDecision.has(l.decisionId)).map((l) => l.claimId);
  const byClaim = await payloads.latestByClaimIds(unmatched);
  const result: LabelledClaims = { claims: [], labels: [], missing: [] };
  for (const l of labels) {
    const stored = byDecision.get(l.decisionId) ?? byClaim.get(l.claimId);
    // An erased member's claims are gone for training too.
    const bytes = stored?.state === 'present' ? stored.claimBytes : undefined;
    let claim: Claim | null = null;
    if (bytes) {
      try {
        const parsed = parseClaim(JSON.parse(bytes.toString('utf8')));
        if (parsed.ok && parsed.claim.claimId === l.claimId) claim = parsed.claim;
      } catch {
        claim = null;
      }
    }
    if (!claim) {
      result.missing.push(l.claimId);
      continue;
    }
    result.claims.push(claim);
    result.labels.push({ claimId: l.claimId, fraud: l.label === 1, pattern: null });
  }
  return result;
}

/** One line of the formatted summary of where the labels came from. */
export function describeLabels(topic: string, stats: VerdictLabelStats, joined: LabelledClaims): string {
  const frauds = joined.labels.filter((l) => l.fraud).length;
  return `${topic}: ${stats.records} verdicts (${stats.duplicates} duplicates, ${stats.invalid} invalid), ${joined.labels.length + joined.missing.length} claims labelled (${stats.unsettled} more unsettled), ${joined.labels.length} with a claim payload (${frauds} fraud, ${joined.labels.length - frauds} not), ${joined.missing.length} without`;
}
