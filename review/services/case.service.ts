import type { Pool } from 'pg';
import { InvalidArgumentError } from '../../core/errors.ts';
import { parseClaim } from '../../domain/claim.schema.ts';
import type { RenderedReason } from '../../domain/decision.ts';
import { renderReasonTexts } from '../../scoring/reason-text.ts';
import type { DecisionIndexRepository, IndexedDecision, StoredBatch } from '../../anchoring/decision-index.repository.ts';
import type { Actor } from '../auth/roles.ts';
import { ConflictError, ForbiddenError, NotFoundError } from '../errors.ts';
import type { AttachmentFile, AttachmentRepository, AttachmentSummary } from '../repositories/attachment.repository.ts';
import { type Clock, systemClock } from '../clock.ts';
import type { AuditRepository } from '../repositories/audit.repository.ts';
import type { CaseClaimFields, CaseFilter, CaseNote, CaseRepository, CaseSummary, Disposition, DispositionRecord, QueueSummary, RelatedClaim } from '../repositories/case.repository.ts';
import { withTransaction } from '../repositories/db.ts';
import type { UserRepository } from '../repositories/user.repository.ts';
import { checkAttachment } from './attachment-policy.ts';
import type { CaseIdentifierIndex } from './case-identifier-index.ts';
import type { VerdictPublisher } from './verdict.publisher.ts';

/** Where the decision behind a case stands on chain. */
export interface ProofStatus {
  batchId: string;
  batchStatus: 'pending' | 'anchored';
  root: string;
  leafCount: number;
  txHash: string | null;
  blockNumber: string | null;
  /** Chain head - anchor block + 1; null when not anchored or the chain is unreachable. */
  confirmations: number | null;
  /** Transaction that anchored this flagged decision's leaf on its own, if any. */
  flaggedTxHash: string | null;
}

/** Everything an investigator needs on one screen. Contains PHI (`claim`). */
export interface CaseDetail {
  case: CaseSummary;
  /** `reasons` with their sentences, rendered here from the claim (empty texts once the member is erased). */
  decision: Pick<IndexedDecision, 'decisionId' | 'claimId' | 'score' | 'components' | 'outcome' | 'modelHash' | 'decidedAt'> & { reasons: RenderedReason[] };
  claim: Record<string, unknown> | null;
  ruleHits: RenderedReason[];
  related: RelatedClaim[];
  notes: CaseNote[];
  dispositions: DispositionRecord[];
  proof: ProofStatus;
}

export interface CaseServiceDeps {
  pool: Pool;
  cases: CaseRepository;
  users: UserRepository;
  audit: AuditRepository;
  index: DecisionIndexRepository;
  verdicts: VerdictPublisher;
  attachments: AttachmentRepository;
  /** Keyed-hash index the member / NPI filters go through. */
  identifiers: CaseIdentifierIndex;
  /** Chain head block number, for confirmations; may throw when the chain is down. */
  chainHead: () => Promise<bigint>;
  /** Time of takes, notes, dispositions, closings and snooze checks (review/clock.ts). Default the system clock. */
  clock?: Clock;
}

const WORKERS = new Set(['investigator', 'supervisor']);

/** The case filter as callers give it: clear member id / NPI, hashed here before any query. */
export type CaseQuery = Omit<CaseFilter, 'memberHmac' | 'providerHmac'> & { memberId?: string; providerNpi?: string };

/**
 * Queues and cases: listing, atomic take-next, the case view, notes, dispositions, snooze,
 * reassign. Investigators act on cases assigned to them; supervisors on any case. Every read of
 * claim data and every action is written to the audit log (actions in the same transaction).
 */
export class CaseService {
  readonly #d: CaseServiceDeps;
  readonly #clock: Clock;
  constructor(deps: CaseServiceDeps) {
    this.#d = deps;
    this.#clock = deps.clock ?? systemClock;
  }

  async queues(actor: Actor): Promise<QueueSummary[]> {
    const queues = await this.#d.cases.queues();
    await this.#d.audit.append(actor, 'queues.view', null);
    return queues;
  }

  /**
   * Cases by priority, filtered. Member id and NPI are looked up through their keyed hashes (the
   * index is brought up to date first), and for an investigator only among the cases assigned to
   * them: otherwise the filter would answer "is member X under investigation?". Investigators
   * see identifiers only on their own cases (see {@link CaseSummary}'s `masked`). The audit entry
   * records the hashes searched for, never the identifiers.
   */
  async list(actor: Actor, query: CaseQuery, page: { limit: number; offset: number }): Promise<{ total: number; items: CaseSummary[] }> {
    const { memberId, providerNpi, ...rest } = query;
    if (rest.queue && !(await this.#d.cases.queueExists(rest.queue))) throw new NotFoundError(`no queue ${rest.queue}`);
    const filter: CaseFilter = { ...rest };
    if (memberId !== undefined || providerNpi !== undefined) {
      await this.#d.identifiers.fill();
      if (memberId !== undefined) filter.memberHmac = this.#d.identifiers.memberHash(memberId);
      if (providerNpi !== undefined) filter.providerHmac = this.#d.identifiers.providerHash(providerNpi);
      if (actor.role !== 'supervisor') filter.assigneeId = actor.userId;
    }
    const result = await this.#d.cases.list(filter, page);
    await this.#d.audit.append(actor, 'cases.list', null, { filter: { ...filter, from: filter.from?.toISOString(), to: filter.to?.toISOString() }, ...page, returned: result.items.map((c) => c.caseId) });
    return { total: result.total, items: await this.#presentAll(actor, result.items) };
  }

  /** Assigns the next case to the actor; null when the queue is empty. */
  async takeNext(actor: Actor, queue?: string): Promise<CaseSummary | null> {
    if (queue && !(await this.#d.cases.queueExists(queue))) throw new NotFoundError(`no queue ${queue}`);
    return withTransaction(this.#d.pool, async (db) => {
      const caseId = await this.#d.cases.takeNext(actor.userId, queue, this.#clock.now(), db);
      if (!caseId) return null;
      await this.#d.audit.append(actor, 'case.take', { type: 'case', id: caseId }, { queue: queue ?? null }, db);
      const taken = await this.#d.cases.get(caseId, db);
      return taken && this.#present(actor, taken, db);
    });
  }

  /**
   * The case with claim data, decision, related claims and proof status. Audited as a PHI view.
   * Member id, NPI and amount are read here from the decrypted claim (`memberId`,
   * `billingProviderNpi`, `totalCharged`); where the claim cannot be read (erased member, no
   * payload) from the payload row's lookup columns.
   */
  async view(actor: Actor, caseId: string): Promise<CaseDetail> {
    const stored = await this.#require(caseId);
    this.#mayRead(actor, stored);
    const decision = await this.#d.index.getDecision(stored.decisionId);
    if (!decision) throw new NotFoundError(`decision ${stored.decisionId} of case ${caseId} is missing from the index`);
    const [claim, lookup] = await Promise.all([this.#d.cases.claimPayload(stored.decisionId), this.#d.cases.claimFields([stored.decisionId])]);
    const c: CaseSummary = { ...stored, ...claimFieldsOf(claim, lookup.get(stored.decisionId)), masked: false };
    const [related, notes, dispositions, batch] = await Promise.all([
      this.#d.cases.related(c.decisionId, c.memberId, c.providerNpi),
      this.#d.cases.notes(caseId),
      this.#d.cases.dispositions(caseId),
      this.#d.index.getBatch(decision.batchId),
    ]);
    await this.#d.audit.append(actor, 'case.view', { type: 'case', id: caseId }, { claimId: c.claimId, decisionId: c.decisionId, phi: claim !== null });
    // Reason sentences exist only here, for this entitled, audited view: they are rendered from
    // the decrypted claim (scoring/reason-text.ts); the index stores codes and contributions.
    const parsed = claim && !claim.erased ? parseClaim(claim) : null;
    const reasons = renderReasonTexts(decision.reasons, parsed?.ok ? parsed.claim : null);
    return {
      case: c,
      decision: { decisionId: decision.decisionId, claimId: decision.claimId, score: decision.score, components: decision.components, outcome: decision.outcome, reasons, modelHash: decision.modelHash, decidedAt: decision.decidedAt },
      claim,
      ruleHits: reasons.filter((r) => r.code.startsWith('R_')),
      related,
      notes,
      dispositions,
      proof: await this.#proofStatus(decision, batch),
    };
  }

  async addNote(actor: Actor, caseId: string, body: string): Promise<CaseNote[]> {
    const text = body.trim();
    if (!text) throw new InvalidArgumentError('a note needs some text');
    await withTransaction(this.#d.pool, async (db) => {
      const c = await this.#lockForAction(actor, caseId, db, { allowClosed: true });
      const noteId = await this.#d.cases.addNote(c.caseId, actor.userId, text, this.#clock.now(), db);
      await this.#d.audit.append(actor, 'case.note', { type: 'case', id: caseId }, { noteId }, db);
    });
    return this.#d.cases.notes(caseId);
  }

  /**
   * Records a disposition with its mandatory note. `escalated` hands the case to the supervisors
   * (status escalated, unassigned); any other disposition closes it. The verdict goes to Kafka
   * through the outbox right after the commit.
   */
  async dispose(actor: Actor, caseId: string, disposition: Disposition, note: string): Promise<CaseSummary> {
    const text = note.trim();
    if (!text) throw new InvalidArgumentError('a disposition needs a note');
    const updated = await withTransaction(this.#d.pool, async (db) => {
      const c = await this.#lockForAction(actor, caseId, db);
      if (disposition === 'escalated' && c.status === 'escalated') throw new ConflictError(`case ${caseId} is already escalated`);
      const dispositionId = await this.#d.cases.addDisposition(c, actor.userId, disposition, text, this.#clock.now(), db);
      await this.#d.cases.setStatus(caseId, disposition === 'escalated' ? { status: 'escalated', assigneeId: null } : { status: 'closed', assigneeId: c.assigneeId ?? actor.userId }, this.#clock.now(), db);
      await this.#d.audit.append(actor, 'case.dispose', { type: 'case', id: caseId }, { dispositionId, disposition, claimId: c.claimId }, db);
      return this.#present(actor, (await this.#d.cases.get(caseId, db))!, db);
    });
    this.#d.verdicts.flushInBackground();
    return updated;
  }

  /** Puts the case back in its queue until `until` (then take-next may hand it out again). */
  async snooze(actor: Actor, caseId: string, until: Date): Promise<CaseSummary> {
    const now = this.#clock.now().getTime();
    if (!(until.getTime() > now)) throw new InvalidArgumentError('snooze until a time in the future');
    if (until.getTime() > now + 90 * 86_400_000) throw new InvalidArgumentError('snooze at most 90 days');
    return withTransaction(this.#d.pool, async (db) => {
      const c = await this.#lockForAction(actor, caseId, db);
      await this.#d.cases.setStatus(caseId, { status: 'snoozed', assigneeId: null, snoozedUntil: until }, this.#clock.now(), db);
      await this.#d.audit.append(actor, 'case.snooze', { type: 'case', id: caseId }, { until: until.toISOString(), previousAssignee: c.assigneeId }, db);
      return this.#present(actor, (await this.#d.cases.get(caseId, db))!, db);
    });
  }

  /**
   * Attaches a file to a case (allowed even once closed, like notes): type allowlist, size limit
   * and content check in attachment-policy.ts. The row and its audit entry commit together.
   */
  async addAttachment(actor: Actor, caseId: string, file: { fileName: string; contentType: string; content: Buffer }): Promise<AttachmentSummary> {
    const checked = checkAttachment(file);
    return withTransaction(this.#d.pool, async (db) => {
      const c = await this.#lockForAction(actor, caseId, db, { allowClosed: true });
      const attachmentId = await this.#d.attachments.insert({ caseId: c.caseId, userId: actor.userId, ...checked }, db);
      await this.#d.audit.append(actor, 'case.attachment.upload', { type: 'case', id: caseId }, { attachmentId, fileName: checked.fileName, contentType: checked.contentType, sizeBytes: checked.content.length, sha256: checked.sha256 }, db);
      return (await this.#d.attachments.list(caseId, db)).find((a) => a.attachmentId === attachmentId)!;
    });
  }

  /** The attachments of a case (names, types, sizes; no contents). */
  async attachments(actor: Actor, caseId: string): Promise<AttachmentSummary[]> {
    this.#mayRead(actor, await this.#require(caseId));
    const list = await this.#d.attachments.list(caseId);
    await this.#d.audit.append(actor, 'case.attachment.list', { type: 'case', id: caseId }, { count: list.length });
    return list;
  }

  /** One attachment with its contents (may be PHI): audited as a download. */
  async attachment(actor: Actor, caseId: string, attachmentId: string): Promise<AttachmentFile> {
    this.#mayRead(actor, await this.#require(caseId));
    const file = await this.#d.attachments.get(caseId, attachmentId);
    if (!file) throw new NotFoundError(`case ${caseId} has no attachment ${attachmentId}`);
    await this.#d.audit.append(actor, 'case.attachment.download', { type: 'case', id: caseId }, { attachmentId, sha256: file.sha256 });
    return file;
  }

  /** Supervisor: gives an open case to an investigator or supervisor. */
  async reassign(actor: Actor, caseId: string, assigneeId: string): Promise<CaseSummary> {
    const assignee = await this.#d.users.findById(assigneeId);
    if (!assignee || assignee.disabled) throw new InvalidArgumentError(`no active user ${assigneeId}`);
    if (!WORKERS.has(assignee.role)) throw new InvalidArgumentError(`${assignee.name} is ${assignee.role}: cases go to investigators or supervisors`);
    return withTransaction(this.#d.pool, async (db) => {
      const c = await this.#lockForAction(actor, caseId, db);
      await this.#d.cases.setStatus(caseId, { status: 'assigned', assigneeId }, this.#clock.now(), db);
      await this.#d.audit.append(actor, 'case.reassign', { type: 'case', id: caseId }, { from: c.assigneeId, to: assigneeId }, db);
      return this.#present(actor, (await this.#d.cases.get(caseId, db))!, db);
    });
  }

  /** {@link #presentAll} of one case. */
  async #present(actor: Actor, c: CaseSummary, db?: Parameters<CaseRepository['claimFields']>[1]): Promise<CaseSummary> {
    return (await this.#presentAll(actor, [c], db))[0]!;
  }

  /**
   * The cases as `actor` may see them: for a supervisor or the assignee, with member id, NPI and
   * amount read now from `claim_payloads` (`cases` holds none of them); for an investigator on a
   * case not assigned to them, those and the priority withheld. Identifiers are fetched only for
   * the cases the actor may see unmasked.
   */
  async #presentAll(actor: Actor, cases: readonly CaseSummary[], db?: Parameters<CaseRepository['claimFields']>[1]): Promise<CaseSummary[]> {
    const entitled = (c: CaseSummary) => actor.role === 'supervisor' || c.assigneeId === actor.userId;
    const fields = await this.#d.cases.claimFields(cases.filter(entitled).map((c) => c.decisionId), db);
    return cases.map((c) => {
      if (!entitled(c)) return { ...c, memberId: null, providerNpi: null, amount: null, priority: null, masked: true };
      const f = fields.get(c.decisionId);
      return { ...c, memberId: f?.memberId ?? null, providerNpi: f?.providerNpi ?? null, amount: f?.amount ?? null, masked: false };
    });
  }

  async #require(caseId: string, db?: Parameters<CaseRepository['get']>[1]): Promise<CaseSummary> {
    const c = await this.#d.cases.get(caseId, db);
    if (!c) throw new NotFoundError(`no case ${caseId}`);
    return c;
  }

  /** Investigators read only cases assigned to them (now, or when they closed them). */
  #mayRead(actor: Actor, c: CaseSummary): void {
    if (actor.role === 'supervisor') return;
    if (c.assigneeId !== actor.userId) throw new ForbiddenError(`case ${c.caseId} is not assigned to you`);
  }

  async #lockForAction(actor: Actor, caseId: string, db: Parameters<CaseRepository['lock']>[1], options: { allowClosed?: boolean } = {}): Promise<CaseSummary> {
    const c = await this.#d.cases.lock(caseId, db);
    if (!c) throw new NotFoundError(`no case ${caseId}`);
    this.#mayRead(actor, c);
    if (c.status === 'closed' && !options.allowClosed) throw new ConflictError(`case ${caseId} is closed`);
    return c;
  }

  async #proofStatus(decision: IndexedDecision, batch: StoredBatch | null): Promise<ProofStatus> {
    let confirmations: number | null = null;
    if (batch?.anchor) {
      try {
        const head = await this.#d.chainHead();
        confirmations = head >= batch.anchor.blockNumber ? Number(head - batch.anchor.blockNumber + 1n) : 0;
      } catch {
        // The chain being unreachable must not hide the case: confirmations show as unknown.
        confirmations = null;
      }
    }
    return {
      batchId: decision.batchId,
      batchStatus: batch?.status ?? 'pending',
      root: batch?.root ?? '',
      leafCount: batch?.leafCount ?? 0,
      txHash: batch?.anchor?.txHash ?? null,
      blockNumber: batch?.anchor?.blockNumber.toString() ?? null,
      confirmations,
      flaggedTxHash: decision.flaggedTxHash ?? null,
    };
  }
}

/**
 * Member id, billing NPI and total of a case's claim for the case view: from the decrypted claim
 * where it can be read, else from the payload row's lookup columns (`lookup`), else unknown.
 */
function claimFieldsOf(claim: Record<string, unknown> | null, lookup: CaseClaimFields | undefined): CaseClaimFields {
  const readable = claim !== null && !claim.erased;
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  const total = readable ? claim.totalCharged : undefined;
  const amount = typeof total === 'number' && Number.isFinite(total) ? total : typeof total === 'string' && total.trim() !== '' && Number.isFinite(Number(total)) ? Number(total) : null;
  return {
    memberId: (readable ? text(claim.memberId) : null) ?? lookup?.memberId ?? null,
    providerNpi: (readable ? text(claim.billingProviderNpi) : null) ?? lookup?.providerNpi ?? null,
    amount: amount ?? lookup?.amount ?? null,
  };
}
