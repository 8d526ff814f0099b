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
import { CaseOpeningService } from '../../review/services/case-opening.service.ts';
import { connectProvider } from '../../anchoring/chain/provider.ts';
import { deployTestAnchorV2, type TestDeploymentV2 } from './decision-anchor-v2.ts';
import { isolatedConfig, payloadRepository } from './env.ts';

const hex = (s: string) => `0x${createHash('sha256').update(s).digest('hex')}`;

/**
 * Stores the claims' encrypted payloads and records them as one batch of flag decisions at
 * decisions offsets [first, first + n), which opens their review cases through the real
 * CaseOpeningService (as the batching stage does). Returns the case ids in claim order.
 */
export async function recordFlaggedClaims(pool: Pool, config: Readonly<Config>, claims: readonly Claim[], firstOffset: number): Promise<string[]> {
  const range = { topic: config.kafka.topics.decisions, partition: 0, firstOffset: String(firstOffset), lastOffset: String(firstOffset + claims.length - 1) };
  const id = batchIdOf(range);
  const decisions: IndexedDecision[] = claims.map((claim, i) => {
    const salt = hex(`salt-${claim.claimId}`);
    const base = {
      decisionId: hex(`decision-${config.database.schema}-${claim.claimId}`),
      claimId: claim.claimId,
      score: 0.9 - (i % 50) * 0.01,
      components: { rf: 0.9, nn: 0.9 },
      outcome: 'flag' as const,
      reasons: [{ code: 'R_EXCLUDED_PROVIDER', contribution: 1, text: 'excluded provider' }],
      modelHash: hex('model'),
      decidedAt: '2026-11-24T00:00:00.000Z',
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
  await (await payloadRepository(pool, config)).insertMany(
    decisions.map((d, i) => ({ decisionId: d.decisionId, claimId: d.claimId, memberId: claims[i]!.memberId, providerNpi: claims[i]!.billingProviderNpi, claimBytes: Buffer.from(JSON.stringify(claims[i])), claimType: claims[i]!.claimType, totalCharged: claims[i]!.totalCharged, salt: hex(`salt-${d.claimId}`) })),
  );
  await new DecisionIndexRepository(pool).recordBatch({ batchId: id, ...range, leafCount: tree.leafCount, root: tree.root }, decisions, { hook: new CaseOpeningService() });
  const { rows } = await pool.query<{ case_id: string; decision_id: string }>('SELECT case_id::text, decision_id FROM cases WHERE decision_id = ANY($1::text[])', [decisions.map((d) => d.decisionId)]);
  const byDecision = new Map(rows.map((r) => [r.decision_id, r.case_id]));
  return decisions.map((d) => byDecision.get(d.decisionId)!);
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
