import { z } from 'zod';
import { ROLES } from '../auth/roles.ts';
import { CASE_STATUSES, DISPOSITIONS } from '../repositories/case.repository.ts';

/** Request and response schemas of the review API (the OpenAPI document is generated from them). */

export const ErrorBody = z.object({
  error: z.string().describe('stable error code, e.g. FORBIDDEN, INVALID_REQUEST'),
  message: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

/**
 * True when PostgreSQL can store the string as given: no NUL (text columns refuse U+0000) and no
 * lone UTF-16 surrogate (its `\uD800`-style escape is refused by jsonb, where audit details go).
 */
export function storableText(s: string): boolean {
  return !s.includes('\u0000') && s.isWellFormed();
}
const STORABLE = { message: 'must be Unicode text without NUL characters or unpaired surrogates' };

/** A free-text string between `min` and `max` characters that the database can store (see storableText). */
export function text(min: number, max: number) {
  return z.string().min(min).max(max).refine(storableText, STORABLE);
}

export const Page = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('page size, 1-200'),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

/** Database ids are bigint: digits only, so a bad id is a 400, never a SQL error. */
export const Id = z.string().regex(/^[1-9]\d{0,17}$/, 'expected a positive whole number');
export const CaseParams = z.object({ caseId: Id });
export const DecisionParams = z.object({ decisionId: z.string().regex(/^(0x)?[0-9a-f]{64}$/, 'expected a 32-byte hex decision id') });

export const Principal = z.object({ userId: z.string(), name: z.string(), role: z.enum(ROLES) });

export const LoginBody = z.object({ name: text(1, 64), password: text(1, 1024) });

export const CaseSummary = z.object({
  caseId: z.string(),
  decisionId: z.string(),
  claimId: z.string(),
  queue: z.string(),
  outcome: z.enum(['review', 'flag']),
  score: z.number(),
  amount: z.number().nullable().describe('totalCharged, USD; null when masked'),
  priority: z.number().nullable().describe('score x (amount band + 1): band 0 below $100 ... 5 from $1,000,000 up; null when masked'),
  lineOfBusiness: z.string().nullable(),
  memberId: z.string().nullable().describe('null when masked'),
  providerNpi: z.string().nullable().describe('billing NPI; null when masked'),
  ruleCodes: z.array(z.string()),
  status: z.enum(CASE_STATUSES),
  assigneeId: z.string().nullable(),
  assigneeName: z.string().nullable(),
  snoozedUntil: z.string().nullable(),
  createdAt: z.string(),
  dueAt: z.string().describe('SLA deadline'),
  closedAt: z.string().nullable(),
  breached: z.boolean().describe('past the SLA deadline'),
  masked: z.boolean().describe('member id, NPI, amount and priority withheld: the viewer is an investigator and the case is not assigned to them'),
});

const isoInstant = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

export const CaseQuery = Page.extend({
  queue: text(1, 64).optional(),
  status: z.enum(CASE_STATUSES).optional(),
  provider: z.string().regex(/^\d{10}$/, 'NPI is 10 digits').optional().describe('billing NPI, matched by keyed hash; for an investigator only among their own cases'),
  member: text(1, 64).optional().describe('member id, matched by keyed hash; for an investigator only among their own cases'),
  rule: z.string().regex(/^[A-Z][A-Z0-9_]{1,63}$/, 'reason code like R_EXCLUDED_PROVIDER').optional(),
  from: isoInstant.optional().describe('created at or after (ISO-8601)'),
  to: isoInstant.optional().describe('created before (ISO-8601)'),
  assignee: z.union([z.literal('me'), Id]).optional(),
  breached: z.enum(['true', 'false']).transform((s) => s === 'true').optional(),
});

export const CaseList = z.object({ total: z.number().int(), limit: z.number().int(), offset: z.number().int(), items: z.array(CaseSummary) });

export const QueueSummary = z.object({
  name: z.string(),
  title: z.string(),
  slaHours: z.number().int(),
  open: z.number().int(),
  assigned: z.number().int(),
  snoozed: z.number().int(),
  escalated: z.number().int(),
  closed: z.number().int(),
  breached: z.number().int(),
});

const Reason = z.object({ code: z.string(), contribution: z.number(), text: z.string() });
const Note = z.object({ noteId: z.string(), userName: z.string(), body: z.string(), createdAt: z.string() });
const DispositionRecord = z.object({ dispositionId: z.string(), caseId: z.string(), decisionId: z.string(), claimId: z.string(), userName: z.string(), disposition: z.enum(DISPOSITIONS), note: z.string(), createdAt: z.string() });

export const CaseDetail = z.object({
  case: CaseSummary,
  decision: z.object({
    decisionId: z.string(),
    claimId: z.string(),
    score: z.number(),
    components: z.object({ rf: z.number(), nn: z.number() }),
    outcome: z.string(),
    reasons: z.array(Reason),
    modelHash: z.string(),
    decidedAt: z.string(),
  }),
  claim: z.record(z.string(), z.unknown()).nullable().describe('the claim as received (PHI)'),
  ruleHits: z.array(Reason),
  related: z.array(
    z.object({
      claimId: z.string(),
      decisionId: z.string(),
      relation: z.enum(['member', 'provider', 'member+provider']),
      outcome: z.string(),
      score: z.number(),
      decidedAt: z.string(),
      caseId: z.string().nullable(),
      disposition: z.enum(DISPOSITIONS).nullable(),
    }),
  ),
  notes: z.array(Note),
  dispositions: z.array(DispositionRecord),
  proof: z.object({
    batchId: z.string(),
    batchStatus: z.enum(['pending', 'anchored']),
    root: z.string(),
    leafCount: z.number().int(),
    txHash: z.string().nullable(),
    blockNumber: z.string().nullable(),
    confirmations: z.number().int().nullable(),
    flaggedTxHash: z.string().nullable(),
  }),
});

export const TakeNextBody = z.object({ queue: text(1, 64).optional() });
export const TakeNextResult = z.object({ case: CaseSummary.nullable().describe('null when nothing is left to take') });
export const NoteBody = z.object({ body: z.string().trim().min(1, 'a note needs some text').max(10_000).refine(storableText, STORABLE) });
export const NoteList = z.object({ notes: z.array(Note) });
export const DispositionBody = z.object({ disposition: z.enum(DISPOSITIONS), note: z.string().trim().min(1, 'a disposition needs a note').max(10_000).refine(storableText, STORABLE) });
export const SnoozeBody = z.object({ until: isoInstant.describe('ISO-8601 instant in the future, at most 90 days ahead') });
export const ReassignBody = z.object({ assigneeId: Id });
export const Team = z.object({ users: z.array(Principal) });

export const AuditQuery = Page.extend({
  user: text(1, 64).optional(),
  action: text(1, 64).optional(),
  targetType: z.enum(['case', 'claim', 'decision', 'user', 'audit-batch']).optional(),
  targetId: text(1, 128).optional(),
});
export const AuditList = z.object({
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
  items: z.array(
    z.object({
      auditId: z.string(),
      at: z.string(),
      userId: z.string().nullable(),
      userName: z.string(),
      role: z.enum(ROLES),
      action: z.string(),
      targetType: z.string().nullable(),
      targetId: z.string().nullable(),
      ip: z.string().nullable(),
      details: z.record(z.string(), z.unknown()),
    }),
  ),
});

export const DecisionSearchQuery = z.object({ claimId: z.string().min(1).max(64).regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'a claim id: letters, digits and . _ : -') });
export const DecisionList = z.object({
  decisions: z.array(
    z.object({
      decisionId: z.string(),
      claimId: z.string(),
      outcome: z.string(),
      score: z.number(),
      modelHash: z.string(),
      decidedAt: z.string(),
      batchId: z.string(),
      batchStatus: z.enum(['pending', 'anchored']),
      txHash: z.string().nullable(),
      blockNumber: z.string().nullable(),
    }),
  ),
});
export const VerifyResult = z.object({
  ok: z.boolean(),
  claimId: z.string(),
  decisionId: z.string(),
  batchId: z.string(),
  txHash: z.string().nullable(),
  confirmations: z.string().optional(),
  chainId: z.string().optional().describe('on PASS: the chain id of the configured deployment asked'),
  contract: z.string().optional().describe('on PASS: the configured DecisionAnchor (v1) or DecisionAnchorV2 asked (never the one a stored row names)'),
  anchorer: z.string().optional().describe('on PASS of a v2 decision: the configured anchorer whose namespace held the epoch'),
  flaggedConfirmations: z.string().optional().describe('on PASS of a flagged v2 decision anchored early: confirmations of its flagged root'),
  code: z.string().optional().describe('why verification failed'),
  message: z.string().optional(),
  expected: z.string().optional(),
  computed: z.string().optional(),
});

export const UserInfo = Principal.extend({ disabled: z.boolean(), service: z.boolean().describe('token-only account for automation') });
export const CreateUserBody = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,63}$/, '2-64 characters: a-z 0-9 . _ -'),
  role: z.enum(ROLES),
  service: z.boolean().default(false).describe('a token-only service user (no password); admins may mint its tokens'),
});
export const CreatedUser = z.object({
  user: UserInfo,
  password: z.string().nullable().describe('shown once; null for a service user'),
  token: z.string().nullable().describe('API token, shown once: only for a service user (an admin never gets a token for a person)'),
});
export const UserParams = z.object({ userId: Id });
export const TokenParams = z.object({ tokenId: Id });
export const CreateTokenBody = z.object({
  label: z.string().trim().min(1).max(64).refine(storableText, STORABLE),
  expiresInDays: z.number().int().min(1).max(3650).optional().describe('lifetime in days: default 30 (REVIEW_TOKEN_DEFAULT_DAYS), at most REVIEW_TOKEN_MAX_DAYS (90)'),
});
export const CreatedToken = z.object({ token: z.string().describe('shown once'), tokenId: z.string(), expiresAt: z.string() });
export const TokenInfo = z.object({ tokenId: z.string(), userId: z.string(), label: z.string(), createdAt: z.string(), expiresAt: z.string(), lastUsedAt: z.string().nullable(), revokedAt: z.string().nullable() });
export const TokenList = z.object({ tokens: z.array(TokenInfo) });
export const UserList = z.object({ users: z.array(UserInfo) });

export const AuditBatchParams = z.object({ batchId: z.string().regex(/^0x[0-9a-f]{64}$/, 'expected a 0x-prefixed 32-byte batch id') });
export const AuditBatchList = z.object({
  batches: z.array(
    z.object({ batchId: z.string(), first: z.string().describe('first audit id'), last: z.string().describe('last audit id'), leafCount: z.number().int(), root: z.string(), status: z.string(), txHash: z.string().nullable(), blockNumber: z.string().nullable(), createdAt: z.string() }),
  ),
});
export const AuditBatchCheck = z.object({
  ok: z.boolean(),
  batchId: z.string(),
  leafCount: z.number().int().optional(),
  root: z.string().optional(),
  anchored: z.boolean().optional(),
  code: z.enum(['ROOT_MISMATCH', 'CHAIN_ROOT_MISMATCH', 'CHAIN_STATUS_MISMATCH']).optional(),
  message: z.string().optional(),
  expected: z.string().optional(),
  computed: z.string().optional(),
});

export const AttachmentSummary = z.object({
  attachmentId: z.string(),
  caseId: z.string(),
  fileName: z.string(),
  contentType: z.string(),
  sizeBytes: z.number().int(),
  sha256: z.string().describe('hex sha256 of the contents'),
  uploadedBy: z.string(),
  createdAt: z.string(),
});
export const AttachmentList = z.object({ attachments: z.array(AttachmentSummary) });
export const AttachmentParams = z.object({ caseId: Id, attachmentId: Id });
export const AttachmentUploadQuery = z.object({ name: text(1, 255).describe('file name as the user chose it (reduced to a safe base name)') });
