import type { Pool } from 'pg';
import type { ClaimPayloadRepository } from '../../privacy/claim-payload.repository.ts';
import type { Queryable } from './db.ts';

export const CASE_STATUSES = ['open', 'assigned', 'snoozed', 'escalated', 'closed'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

export const DISPOSITIONS = ['confirmed_fraud', 'false_positive', 'needs_information', 'escalated'] as const;
export type Disposition = (typeof DISPOSITIONS)[number];

/**
 * One case as listed in a queue (no claim payload). Member id, NPI and amount are not stored in
 * `cases`: CaseService fills them in from `claim_payloads` for entitled viewers only (null as the
 * repository returns them). `masked`: member id, NPI, amount and priority (score x amount band)
 * are withheld (null) because the viewer is an investigator and the case is not assigned to them.
 */
export interface CaseSummary {
  caseId: string;
  decisionId: string;
  claimId: string;
  queue: string;
  outcome: 'review' | 'flag';
  score: number;
  amount: number | null;
  priority: number | null;
  lineOfBusiness: string | null;
  memberId: string | null;
  providerNpi: string | null;
  ruleCodes: string[];
  status: CaseStatus;
  assigneeId: string | null;
  assigneeName: string | null;
  snoozedUntil: string | null;
  createdAt: string;
  dueAt: string;
  closedAt: string | null;
  /** Past its SLA deadline and still not closed (or closed after it). */
  breached: boolean;
  masked: boolean;
}

export interface CaseFilter {
  queue?: string;
  status?: CaseStatus;
  /** Keyed hash of the billing NPI (CaseIdentifierIndex.providerHash), never the NPI itself. */
  providerHmac?: string;
  /** Keyed hash of the member id (CaseIdentifierIndex.memberHash), never the id itself. */
  memberHmac?: string;
  rule?: string;
  /** Cases created at or after / before these instants. */
  from?: Date;
  to?: Date;
  assigneeId?: string;
  breached?: boolean;
}

/** Member id, billing NPI and claim total of one case's claim, as `claim_payloads` holds them. */
export interface CaseClaimFields {
  memberId: string | null;
  providerNpi: string | null;
  /** USD; null when unknown. */
  amount: number | null;
}

export interface QueueSummary {
  name: string;
  title: string;
  slaHours: number;
  open: number;
  assigned: number;
  snoozed: number;
  escalated: number;
  closed: number;
  breached: number;
}

export interface CaseNote {
  noteId: string;
  userName: string;
  body: string;
  createdAt: string;
}

export interface DispositionRecord {
  dispositionId: string;
  caseId: string;
  decisionId: string;
  claimId: string;
  userName: string;
  disposition: Disposition;
  note: string;
  createdAt: string;
}

/** Another claim sharing the member or the provider, with what was decided and disposed. */
export interface RelatedClaim {
  claimId: string;
  decisionId: string;
  relation: 'member' | 'provider' | 'member+provider';
  outcome: string;
  score: number;
  decidedAt: string;
  caseId: string | null;
  disposition: Disposition | null;
}

interface CaseRow {
  case_id: string;
  decision_id: string;
  claim_id: string;
  queue: string;
  outcome: 'review' | 'flag';
  score: number;
  priority: number;
  line_of_business: string | null;
  rule_codes: string[];
  status: CaseStatus;
  assignee_id: string | null;
  assignee_name: string | null;
  snoozed_until: Date | null;
  created_at: Date;
  due_at: Date;
  closed_at: Date | null;
  breached: boolean;
}

// Never cases.member_id / provider_npi / amount (NULL since migration 1733800000000): entitled
// viewers get those from claim_payloads ({@link CaseRepository.claimFields}).
const CASE_COLUMNS = `c.case_id::text, c.decision_id, c.claim_id, c.queue, c.outcome, c.score, c.priority,
  c.line_of_business, c.rule_codes, c.status, c.assignee_id::text, u.name AS assignee_name,
  c.snoozed_until, c.created_at, c.due_at, c.closed_at, coalesce(c.closed_at, now()) > c.due_at AS breached`;
const FROM_CASES = 'cases c LEFT JOIN review_users u ON u.user_id = c.assignee_id';

function toCase(r: CaseRow): CaseSummary {
  return {
    caseId: r.case_id,
    decisionId: r.decision_id,
    claimId: r.claim_id,
    queue: r.queue,
    outcome: r.outcome,
    score: r.score,
    amount: null,
    priority: r.priority,
    lineOfBusiness: r.line_of_business,
    memberId: null,
    providerNpi: null,
    ruleCodes: r.rule_codes,
    status: r.status,
    assigneeId: r.assignee_id,
    assigneeName: r.assignee_name,
    snoozedUntil: r.snoozed_until?.toISOString() ?? null,
    createdAt: r.created_at.toISOString(),
    dueAt: r.due_at.toISOString(),
    closedAt: r.closed_at?.toISOString() ?? null,
    breached: r.breached,
    masked: false,
  };
}

/** Cases, their notes and dispositions. Status changes are single guarded UPDATEs. */
export class CaseRepository {
  readonly #pool: Pool;
  readonly #payloads: ClaimPayloadRepository;
  /** @param payloads decrypts claim payloads; used only by {@link claimPayload} (the role-checked, audited case view). */
  constructor(pool: Pool, payloads: ClaimPayloadRepository) {
    this.#pool = pool;
    this.#payloads = payloads;
  }

  /** Highest priority first, then oldest. */
  async list(filter: CaseFilter, page: { limit: number; offset: number }): Promise<{ total: number; items: CaseSummary[] }> {
    const where = `($1::text IS NULL OR c.queue = $1) AND ($2::text IS NULL OR c.status = $2)
      AND ($3::text IS NULL OR c.provider_hmac = $3) AND ($4::text IS NULL OR c.member_hmac = $4)
      AND ($5::text IS NULL OR $5 = ANY (c.rule_codes) OR EXISTS (SELECT 1 FROM decisions d, jsonb_array_elements(d.reasons) r WHERE d.decision_id = c.decision_id AND r ->> 'code' = $5))
      AND ($6::timestamptz IS NULL OR c.created_at >= $6) AND ($7::timestamptz IS NULL OR c.created_at < $7)
      AND ($8::bigint IS NULL OR c.assignee_id = $8)
      AND ($9::boolean IS NULL OR (coalesce(c.closed_at, now()) > c.due_at) = $9)`;
    const args = [filter.queue ?? null, filter.status ?? null, filter.providerHmac ?? null, filter.memberHmac ?? null, filter.rule ?? null, filter.from ?? null, filter.to ?? null, filter.assigneeId ?? null, filter.breached ?? null];
    const [count, rows] = await Promise.all([
      this.#pool.query<{ n: string }>(`SELECT count(*) AS n FROM cases c WHERE ${where}`, args),
      this.#pool.query<CaseRow>(`SELECT ${CASE_COLUMNS} FROM ${FROM_CASES} WHERE ${where} ORDER BY c.priority DESC, c.created_at, c.case_id LIMIT $10 OFFSET $11`, [...args, page.limit, page.offset]),
    ]);
    return { total: Number(count.rows[0]!.n), items: rows.rows.map(toCase) };
  }

  async get(caseId: string, db: Queryable = this.#pool): Promise<CaseSummary | null> {
    const { rows } = await db.query<CaseRow>(`SELECT ${CASE_COLUMNS} FROM ${FROM_CASES} WHERE c.case_id = $1`, [caseId]);
    return rows[0] ? toCase(rows[0]) : null;
  }

  /** Locks the case row for the rest of the transaction. */
  async lock(caseId: string, db: Queryable): Promise<CaseSummary | null> {
    await db.query('SELECT 1 FROM cases WHERE case_id = $1 FOR UPDATE', [caseId]);
    return this.get(caseId, db);
  }

  /**
   * Assigns the most urgent workable case (open, or snoozed past its date) of `queue` (any queue
   * when omitted) to `userId` and returns it; null when nothing is left. Atomic: the row is
   * picked with FOR UPDATE SKIP LOCKED and re-checked in the UPDATE, so two concurrent callers
   * never get the same case and neither waits for the other.
   */
  async takeNext(userId: string, queue: string | undefined, now: Date, db: Queryable = this.#pool): Promise<string | null> {
    const { rows } = await db.query<{ case_id: string }>(
      `WITH next AS (
         SELECT case_id FROM cases
         WHERE (status = 'open' OR (status = 'snoozed' AND snoozed_until <= $3)) AND ($2::text IS NULL OR queue = $2)
         ORDER BY priority DESC, created_at, case_id
         LIMIT 1 FOR UPDATE SKIP LOCKED)
       UPDATE cases c SET status = 'assigned', assignee_id = $1, assigned_at = $3, snoozed_until = NULL
       FROM next WHERE c.case_id = next.case_id AND (c.status = 'open' OR c.status = 'snoozed')
       RETURNING c.case_id::text`,
      [userId, queue ?? null, now],
    );
    return rows[0]?.case_id ?? null;
  }

  /** Changes status and assignee; `now` (the app's clock) stamps a new assignment and a closing. */
  async setStatus(caseId: string, change: { status: CaseStatus; assigneeId: string | null; snoozedUntil?: Date | null }, now: Date, db: Queryable): Promise<void> {
    await db.query(
      `UPDATE cases SET status = $2, assignee_id = $3, snoozed_until = $4,
         assigned_at = CASE WHEN $3::bigint IS NULL THEN NULL WHEN $3::bigint IS DISTINCT FROM assignee_id THEN $5 ELSE assigned_at END,
         closed_at = CASE WHEN $2 = 'closed' THEN $5 ELSE NULL END
       WHERE case_id = $1`,
      [caseId, change.status, change.assigneeId, change.snoozedUntil ?? null, now],
    );
  }

  async addNote(caseId: string, userId: string, body: string, now: Date, db: Queryable = this.#pool): Promise<string> {
    const { rows } = await db.query<{ note_id: string }>('INSERT INTO case_notes (case_id, user_id, body, created_at) VALUES ($1, $2, $3, $4) RETURNING note_id::text', [caseId, userId, body, now]);
    return rows[0]!.note_id;
  }

  async notes(caseId: string): Promise<CaseNote[]> {
    const { rows } = await this.#pool.query<{ note_id: string; name: string; body: string; created_at: Date }>(
      'SELECT n.note_id::text, u.name, n.body, n.created_at FROM case_notes n JOIN review_users u USING (user_id) WHERE n.case_id = $1 ORDER BY n.note_id',
      [caseId],
    );
    return rows.map((r) => ({ noteId: r.note_id, userName: r.name, body: r.body, createdAt: r.created_at.toISOString() }));
  }

  async addDisposition(c: CaseSummary, userId: string, disposition: Disposition, note: string, now: Date, db: Queryable): Promise<string> {
    const { rows } = await db.query<{ disposition_id: string }>(
      'INSERT INTO dispositions (case_id, decision_id, claim_id, user_id, disposition, note, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING disposition_id::text',
      [c.caseId, c.decisionId, c.claimId, userId, disposition, note, now],
    );
    return rows[0]!.disposition_id;
  }

  async dispositions(caseId: string): Promise<DispositionRecord[]> {
    return this.#dispositions('d.case_id = $1', [caseId]);
  }

  /** Dispositions not yet on the verdicts topic, oldest first. */
  async unpublishedDispositions(limit: number): Promise<DispositionRecord[]> {
    return this.#dispositions('d.published_at IS NULL', [], limit);
  }

  async markPublished(dispositionIds: readonly string[]): Promise<void> {
    await this.#pool.query('UPDATE dispositions SET published_at = now() WHERE disposition_id = ANY ($1::bigint[])', [dispositionIds]);
  }

  async #dispositions(where: string, args: unknown[], limit = 1000): Promise<DispositionRecord[]> {
    const { rows } = await this.#pool.query<{ disposition_id: string; case_id: string; decision_id: string; claim_id: string; name: string; disposition: Disposition; note: string; created_at: Date }>(
      `SELECT d.disposition_id::text, d.case_id::text, d.decision_id, d.claim_id, u.name, d.disposition, d.note, d.created_at
       FROM dispositions d JOIN review_users u USING (user_id) WHERE ${where} ORDER BY d.disposition_id LIMIT ${Number(limit)}`,
      args,
    );
    return rows.map((r) => ({ dispositionId: r.disposition_id, caseId: r.case_id, decisionId: r.decision_id, claimId: r.claim_id, userName: r.name, disposition: r.disposition, note: r.note, createdAt: r.created_at.toISOString() }));
  }

  /**
   * The claim payload (PHI) behind a case, decrypted and parsed; null when missing;
   * `{ erased: true, erasedAt }` when its member was erased (the data key is gone).
   * The only place the review app decrypts: callers must have checked the actor may read the case.
   * @throws PrivacyError PHI_DECRYPT_FAILED when the stored ciphertext does not authenticate.
   */
  async claimPayload(decisionId: string): Promise<Record<string, unknown> | null> {
    const stored = await this.#payloads.get(decisionId);
    if (!stored) return null;
    if (stored.state === 'erased') return { erased: true, erasedAt: stored.erasedAt };
    try {
      return JSON.parse(stored.claimBytes.toString('utf8')) as Record<string, unknown>;
    } catch {
      // Payloads are stored only after decoding succeeded, so this is unexpected; show none.
      return null;
    }
  }

  /**
   * Member id, NPI and total of the claims behind these decisions, from the lookup columns of
   * `claim_payloads` (`member_id`, `provider_npi`, `total_charged`; no decryption), keyed by
   * decision id. Callers pass only the decisions of cases the viewer may see unmasked.
   */
  async claimFields(decisionIds: readonly string[], db: Queryable = this.#pool): Promise<Map<string, CaseClaimFields>> {
    if (decisionIds.length === 0) return new Map();
    const { rows } = await db.query<{ decision_id: string; member_id: string | null; provider_npi: string | null; total_charged: string | null }>(
      'SELECT decision_id, member_id, provider_npi, total_charged::text FROM claim_payloads WHERE decision_id = ANY ($1::text[])',
      [decisionIds],
    );
    return new Map(rows.map((r) => [r.decision_id, { memberId: r.member_id, providerNpi: r.provider_npi, amount: r.total_charged === null ? null : Number(r.total_charged) }]));
  }

  /** Up to `limit` other claims of the same member or provider, newest first. */
  async related(decisionId: string, memberId: string | null, providerNpi: string | null, limit = 20): Promise<RelatedClaim[]> {
    const { rows } = await this.#pool.query<{ claim_id: string; decision_id: string; same_member: boolean; same_provider: boolean; outcome: string; score: number; decided_at: Date; case_id: string | null; disposition: Disposition | null }>(
      `SELECT d.claim_id, d.decision_id, p.member_id = $2 AS same_member, p.provider_npi = $3 AS same_provider, d.outcome, d.score, d.decided_at,
              c.case_id::text, (SELECT x.disposition FROM dispositions x WHERE x.case_id = c.case_id ORDER BY x.disposition_id DESC LIMIT 1) AS disposition
       FROM claim_payloads p JOIN decisions d USING (decision_id) LEFT JOIN cases c USING (decision_id)
       WHERE (p.member_id = $2 OR p.provider_npi = $3) AND p.decision_id <> $1
       ORDER BY d.decided_at DESC LIMIT $4`,
      [decisionId, memberId, providerNpi, limit],
    );
    return rows.map((r) => ({
      claimId: r.claim_id,
      decisionId: r.decision_id,
      relation: r.same_member && r.same_provider ? 'member+provider' : r.same_member ? 'member' : 'provider',
      outcome: r.outcome,
      score: r.score,
      decidedAt: r.decided_at.toISOString(),
      caseId: r.case_id,
      disposition: r.disposition,
    }));
  }

  async queues(): Promise<QueueSummary[]> {
    const { rows } = await this.#pool.query<{ name: string; title: string; sla_hours: number; open: string; assigned: string; snoozed: string; escalated: string; closed: string; breached: string }>(
      `SELECT q.name, q.title, q.sla_hours,
              count(*) FILTER (WHERE c.status = 'open') AS open, count(*) FILTER (WHERE c.status = 'assigned') AS assigned,
              count(*) FILTER (WHERE c.status = 'snoozed') AS snoozed, count(*) FILTER (WHERE c.status = 'escalated') AS escalated,
              count(*) FILTER (WHERE c.status = 'closed') AS closed,
              count(*) FILTER (WHERE c.status <> 'closed' AND c.due_at < now()) AS breached
       FROM review_queues q LEFT JOIN cases c ON c.queue = q.name GROUP BY q.name, q.title, q.sla_hours, q.rank ORDER BY q.rank`,
    );
    return rows.map((r) => ({ name: r.name, title: r.title, slaHours: r.sla_hours, open: Number(r.open), assigned: Number(r.assigned), snoozed: Number(r.snoozed), escalated: Number(r.escalated), closed: Number(r.closed), breached: Number(r.breached) }));
  }

  async queueExists(name: string): Promise<boolean> {
    const { rows } = await this.#pool.query('SELECT 1 FROM review_queues WHERE name = $1', [name]);
    return rows.length > 0;
  }
}
