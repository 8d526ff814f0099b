import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSalt } from '../../anchoring/core/commitment.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { createPool } from '../../infra/db/pool.ts';
import type { ClaimPayloadRepository, ClaimPayloadRow } from '../../privacy/claim-payload.repository.ts';
import { isolatedConfig, migratedSchema, payloadRepository } from '../support/env.ts';

/**
 * The payload store's replay rule on real PostgreSQL: a decision written again (a batch re-run
 * after a crash, a fenced zombie) keeps the salt its stored row holds, whatever salt the replay
 * proposes, and a fresh row keeps the one proposed. The fresh path skips opening what it just sealed.
 */
describe('ClaimPayloadRepository.insertMany: salts on first write and on replay', () => {
  const config = isolatedConfig();
  let pool: Pool;
  let drop: () => Promise<void>;
  let payloads: ClaimPayloadRepository;
  const claims = generateClaims({ count: 40, seed: 77 }).claims;
  const rowsWith = (salts: string[], from = 0): ClaimPayloadRow[] =>
    claims.slice(from).map((c, i) => ({
      decisionId: `0x${(from + i + 1).toString(16).padStart(64, '0')}`,
      claimId: c.claimId,
      memberId: c.memberId,
      providerNpi: c.billingProviderNpi,
      claimBytes: Buffer.from(JSON.stringify(c)),
      claimType: c.claimType,
      totalCharged: c.totalCharged,
      salt: salts[i]!,
    }));

  beforeAll(async () => {
    drop = await migratedSchema(config);
    pool = createPool(config.database.url, config.database.schema, 2);
    payloads = await payloadRepository(pool, config);
  });

  afterAll(async () => {
    await pool?.end();
    await drop?.();
  });

  it('returns the proposed salts for new rows and the stored ones for a replay, mixed in one call', async () => {
    const first = claims.slice(0, 30).map(() => newSalt());
    const written = await payloads.insertMany(rowsWith(first).slice(0, 30));
    expect([...written.values()]).toEqual(first);

    // Replay rows 0..29 with new salts, plus 10 rows never seen.
    const replaySalts = claims.map(() => newSalt());
    const replay = await payloads.insertMany(rowsWith(replaySalts));
    const got = [...replay.values()];
    expect(got.slice(0, 30)).toEqual(first);
    expect(got.slice(30)).toEqual(replaySalts.slice(30));

    // And what the store opens for each is what was returned.
    for (const [decisionId, salt] of replay) {
      const stored = await payloads.salt(decisionId);
      expect(stored).toEqual({ state: 'present', value: salt });
    }
  });
});
