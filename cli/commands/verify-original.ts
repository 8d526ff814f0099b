import { readFileSync } from 'node:fs';
import type { Pool } from 'pg';
import { claimCommitment } from '../../anchoring/core/commitment.ts';
import type { Config } from '../../core/config.ts';
import { InvalidArgumentError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { isX12FileName, recomputeClaimBytes } from '../../ingest/insurer-files.ts';
import { ClaimPayloadRepository } from '../../privacy/claim-payload.repository.ts';
import { openMemberKeys } from '../../privacy/master-key.ts';
import { DecisionIndexRepository } from '../../anchoring/decision-index.repository.ts';
import { createPool } from '../../infra/db/pool.ts';
import { commandContext } from '../context.ts';
import { devMasterKeySource } from '../dev-sources.ts';

/**
 * `claimtrail verify <claim-id> --original FILE`: is FILE the insurer file this decision was made
 * on? The claim's bytes are recomputed from the original (its X12 claim slice or FHIR resource
 * span, docs/formats.md) and committed to with the decision's sealed salt; the result must equal
 * the decision's `claimCommitment`. Checks the claim bytes only, not the chain (plain `verify`
 * does that). Exit codes of its own, beside `verify`'s table:
 */
export const ORIGINAL_EXIT_CODES = Object.freeze({
  /** The file holds the claim, but no recomputed bytes give the commitment (file or claim altered). */
  ORIGINAL_MISMATCH: 40,
  /** The file holds no claim with this id (X12 CLM01, FHIR identifier / id). */
  ORIGINAL_CLAIM_NOT_FOUND: 41,
  /** The salt is gone (member erased) or was never stored: the commitment cannot be recomputed. */
  ORIGINAL_SALT_UNAVAILABLE: 42,
});

export type OriginalCheckCode = keyof typeof ORIGINAL_EXIT_CODES;

export type OriginalCheck =
  | { ok: true; claimId: string; decisionId: string; commitment: string; format: 'x12' | 'fhir'; candidates: number; matched: number }
  | { ok: false; code: OriginalCheckCode; message: string; claimId: string; decisionId: string; format: 'x12' | 'fhir'; candidates: number };

/**
 * The check itself, on bytes already read. Pure apart from the salt lookup (`salt`).
 * `matched` is the index among the recomputed candidates (a file may hold the claim id twice).
 */
export async function checkOriginal(
  decision: { decisionId: string; claimId: string; claimCommitment: string },
  original: Buffer,
  fileName: string,
  salt: (decisionId: string) => Promise<string | null>,
): Promise<OriginalCheck> {
  const format = isX12FileName(fileName) ? 'x12' : 'fhir';
  const base = { claimId: decision.claimId, decisionId: decision.decisionId, format } as const;
  const candidates = recomputeClaimBytes(original, decision.claimId, format === 'x12');
  if (candidates.length === 0) return { ok: false, code: 'ORIGINAL_CLAIM_NOT_FOUND', message: `${fileName} holds no ${format === 'x12' ? 'CLM01' : 'Claim / ExplanationOfBenefit'} ${decision.claimId}`, ...base, candidates: 0 };
  const value = await salt(decision.decisionId);
  if (value === null) return { ok: false, code: 'ORIGINAL_SALT_UNAVAILABLE', message: `no salt for decision ${decision.decisionId} (member erased, or never stored): the commitment cannot be recomputed`, ...base, candidates: candidates.length };
  const matched = candidates.findIndex((bytes) => claimCommitment(bytes, value) === decision.claimCommitment);
  if (matched === -1) return { ok: false, code: 'ORIGINAL_MISMATCH', message: `the ${candidates.length} recomputed ${format === 'x12' ? 'claim slice(s)' : 'resource(s)'} of ${decision.claimId} in ${fileName} do not give the decision's commitment ${decision.claimCommitment}`, ...base, candidates: candidates.length };
  return { ok: true, ...base, commitment: decision.claimCommitment, candidates: candidates.length, matched };
}

/**
 * Runs {@link checkOriginal} for `verify --original`: reads the file, opens the sealed salt with
 * the configured (or, next to the stack, the dev) PHI master key, prints PASS / FAIL and sets the
 * exit code. @throws InvalidArgumentError when the file cannot be read (exit 2).
 */
export async function verifyOriginal(
  decision: { decisionId: string; claimId: string; claimCommitment: string },
  path: string,
  deps: { pool: Pool; config: Readonly<Config>; log: Logger; json: boolean },
): Promise<void> {
  let original: Buffer;
  try {
    original = readFileSync(path);
  } catch (error) {
    throw new InvalidArgumentError(`cannot read original ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const payloads = new ClaimPayloadRepository(deps.pool, await openMemberKeys(deps.pool, devMasterKeySource(deps.config), deps.log));
  const result = await checkOriginal(decision, original, path, async (id) => {
    const sealed = await payloads.salt(id);
    return sealed?.state === 'present' ? sealed.value : null;
  });
  if (deps.json) process.stdout.write(`${JSON.stringify({ result: result.ok ? 'PASS' : 'FAIL', ...result })}\n`);
  else if (result.ok) process.stdout.write(`PASS  ${path} holds claim ${result.claimId}: its ${result.format === 'x12' ? 'claim slice' : 'resource'} with the sealed salt gives the commitment ${result.commitment} of decision ${result.decisionId}\n`);
  else process.stdout.write(`FAIL  ${result.code}: ${result.message}\n`);
  if (!result.ok) process.exitCode = ORIGINAL_EXIT_CODES[result.code];
}

/**
 * `verify [claim-id] [--decision-id ID] --original FILE` from verify.command.ts: finds the decision
 * (the newest of the claim, or the one named) in the decision index and runs {@link verifyOriginal}.
 * @throws InvalidArgumentError for an unknown claim / decision id or an unreadable file (exit 2).
 */
export async function verifyOriginalCommand(claimId: string | undefined, decisionId: string | undefined, path: string, json: boolean): Promise<void> {
  const { config, log } = commandContext();
  const pool = createPool(config.database.url, config.database.schema, 2);
  try {
    const index = new DecisionIndexRepository(pool);
    const decision = decisionId ? await index.getDecision(decisionId) : (await index.findByClaimId(claimId ?? ''))[0];
    if (!decision) throw new InvalidArgumentError(`no decision ${decisionId ? decisionId : `for claim ${claimId}`} in the decision index`);
    await verifyOriginal(decision, path, { pool, config, log, json });
  } finally {
    await pool.end();
  }
}
