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
import { CaseOpeningService } from '../../review/services/case-opening.service.ts';
import { connectProvider } from '../../anchoring/chain/provider.ts';
import { deployTestAnchorV2, type TestDeploymentV2 } from './decision-anchor-v2.ts';
import { isolatedConfig, payloadRepository } from './env.ts';

const hex = (s: string) => `0x${createHash('sha256').update(s).digest('hex')}`;

/** How a hand-made decision decides its claim (the rest of the decision follows from the claim). */
export interface DecisionChoice {
  decisionId: string;
  score: number;
  components: { rf: number; nn: number };
  outcome: 'flag' | 'review' | 'approve';
  reasons: Array<{ code: string; contribution: number; text: string }>;
  decidedAt: string;
}

/**
 * Stores the claims' encrypted payloads and records them as one consistent batch of decisions
 * (real commitments, leaves, batch id and root) at decisions offsets [first, first + n), each
 * decided by `decide`; the real CaseOpeningService opens the cases of flag and review decisions
 * inside that transaction, as the batching stage does. Returns the batch id and, in claim order,
 * each decision id with its case and queue (none for a decision that opens no case).
 */
export async function recordDecisionBatch(
  pool: Pool,
  config: Readonly<Config>,
  payloads: ClaimPayloadRepository,
  claims: readonly Claim[],
  firstOffset: number,
  decide: (claim: Claim, index: number) => DecisionChoice,
): Promise<{ batchId: string; decisions: Array<{ decisionId: string; caseId: string | undefined; queue: string | undefined }> }> {
  const range = { topic: config.kafka.topics.decisions, partition: 0, firstOffset: String(firstOffset), lastOffset: String(firstOffset + claims.length - 1) };
  const id = batchIdOf(range);
  const salts = claims.map((claim) => hex(`salt-${claim.claimId}`));
  const decisions: IndexedDecision[] = claims.map((claim, i) => {
    const salt = salts[i]!;
    const base = {
      ...decide(claim, i),
      claimId: claim.claimId,
      modelHash: hex('model'),
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
  await payloads.insertMany(
    decisions.map((d, i) => ({ decisionId: d.decisionId, claimId: d.claimId, memberId: claims[i]!.memberId, providerNpi: claims[i]!.billingProviderNpi, claimBytes: Buffer.from(JSON.stringify(claims[i])), claimType: claims[i]!.claimType, totalCharged: claims[i]!.totalCharged, salt: salts[i]! })),
  );
  await new DecisionIndexRepository(pool).recordBatch({ batchId: id, ...range, leafCount: tree.leafCount, root: tree.root }, decisions, { hook: new CaseOpeningService() });
  const { rows } = await pool.query<{ case_id: string; decision_id: string; queue: string }>('SELECT case_id::text, decision_id, queue FROM cases WHERE decision_id = ANY($1::text[])', [decisions.map((d) => d.decisionId)]);
  const byDecision = new Map(rows.map((r) => [r.decision_id, r]));
  return {
    batchId: id,
    decisions: decisions.map((d) => {
      const opened = byDecision.get(d.decisionId);
      return { decisionId: d.decisionId, caseId: opened?.case_id, queue: opened?.queue };
    }),
  };
}

/**
 * Records the claims as one batch of flag decisions (excluded provider, scores 0.90 down) with
 * their payloads, which opens their review cases. Returns the case ids in claim order.
 */
export async function recordFlaggedClaims(pool: Pool, config: Readonly<Config>, claims: readonly Claim[], firstOffset: number): Promise<string[]> {
  const { decisions } = await recordDecisionBatch(pool, config, await payloadRepository(pool, config), claims, firstOffset, (claim, i) => ({
    decisionId: hex(`decision-${config.database.schema}-${claim.claimId}`),
    score: 0.9 - (i % 50) * 0.01,
    components: { rf: 0.9, nn: 0.9 },
    outcome: 'flag',
    reasons: [{ code: 'R_EXCLUDED_PROVIDER', contribution: 1, text: 'excluded provider' }],
    decidedAt: '2026-11-24T00:00:00.000Z',
  }));
  return decisions.map((d) => d.caseId!);
}

/** A JSON call to the review API as the holder of `token`. */
export async function reviewCall(baseUrl: string, token: string, path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; json: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any -- answers are checked field by field
  const res = await fetch(`${baseUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

/**
 * An isolated config whose trust anchor the review server can resolve on any machine: a fresh
 * DecisionAnchorV2 on the shared anvil, pinned to its first anchorer (tests that need the stack's
 * recorded deployment would otherwise depend on another test having run first).
 */
export async function reviewTestConfig(overrides: Record<string, string> = {}): Promise<Readonly<Config> & { deployment: TestDeploymentV2; closeChain(): void }> {
  const base = isolatedConfig();
  const provider = await connectProvider(base.chain.rpcUrl);
  try {
    const deployment = await deployTestAnchorV2(provider);
    // The deployment's keys act through this provider (addAnchorer, anchorEpoch): closeChain() ends it.
    return Object.freeze({ ...isolatedConfig({ DECISION_ANCHOR_V2_ADDRESS: deployment.address, DECISION_ANCHOR_V2_ANCHORER: deployment.anchorer.address, ...overrides }), deployment, closeChain: () => provider.destroy() });
  } catch (error) {
    provider.destroy();
    throw error;
  }
}
