import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { InvalidArgumentError } from '../../core/errors.ts';
import { migrate } from '../../infra/db/migrate.ts';
import { createPool } from '../../infra/db/pool.ts';
import { ErasureService } from '../../privacy/erasure.service.ts';
import { MemberKeyService } from '../../privacy/member-key.service.ts';
import { RedisClaimAggregates } from '../../scoring/aggregates.ts';
import { createRedis } from '../../infra/redis.ts';
import { commandContext } from '../context.ts';
import { devAggregateKeySource, devMasterKeySource } from '../dev-sources.ts';

/** Same rule as a claim's memberId (domain/claim.schema.ts). */
const MEMBER_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

interface EraseOptions {
  member?: string;
  json: boolean;
}

/** `claimtrail erase --member ID`: crypto-shreds one member (privacy/erasure.service.ts, docs/privacy.md). */
export function registerEraseCommand(program: Command): void {
  program
    .command('erase')
    .description(
      "Crypto-shred a member: delete the member's data key (its stored claim payloads can never be decrypted again), clear the member id from " +
        'claim payloads and cases, and record the erasure in the audit log under a keyed hash of the id. Decisions, batches and proofs are ' +
        'untouched and still verify. Idempotent.',
    )
    .option('--member <id>', 'the member id as it appears in claims (memberId)')
    .option('--json', 'print one JSON object', false)
    .addHelpText('after', '\nExamples:\n  claimtrail erase --member M000123\n  claimtrail erase --member M000123 --json')
    .action(async (opts: EraseOptions) => {
      const memberId = opts.member;
      if (memberId === undefined) throw new InvalidArgumentError('give --member <id>');
      if (!MEMBER_ID.test(memberId)) throw new InvalidArgumentError('--member: expected a member id of 1-64 letters, digits and . _ : - (starting with a letter or digit)');
      const { config, log } = commandContext();
      // Both keys first: a missing one is a configuration error before anything is touched.
      const wrapper = devMasterKeySource(config).keyWrapper(log);
      const fingerprintKey = devAggregateKeySource(config).aggregateKey(log);
      await migrate(config.database.url, config.database.schema, log);
      const pool = createPool(config.database.url, config.database.schema, 2);
      try {
        // Checks the master key against the database's keyring before anything is deleted.
        await MemberKeyService.open(pool, wrapper);
        const erased = await new ErasureService({ pool, wrapper }).erase(memberId, `cli:${userInfo().username}`);
        // Then the member's entity aggregate buckets (the only keys naming a member) and its
        // duplicate-claim keys (HMAC-named, found through the member's keyed index) in Redis.
        // PostgreSQL is done by now; if Redis is down the command fails and is simply run again.
        const redis = createRedis(config.redisUrl);
        const forgotten = await new RedisClaimAggregates(redis, { prefix: config.aggregates.keyPrefix, fingerprintKey }).forgetMember(memberId).finally(() => redis.disconnect());
        const result = { ...erased, aggregateKeys: forgotten.buckets, duplicateKeys: forgotten.duplicates };
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ memberId, ...result })}\n`);
          return;
        }
        const nothing = result.deletedKeys === 0 && result.payloads === 0 && result.cases === 0;
        process.stdout.write(
          nothing
            ? `member ${memberId}: nothing left to erase (never seen, or erased before); request recorded as audit entry ${result.auditId}\n`
            : `member ${memberId} erased: ${result.deletedKeys} data key deleted, ${result.payloads} claim payload(s) crypto-shredded, ${result.cases} case(s) cleared, ${result.aggregateKeys} aggregate bucket(s) and ${result.duplicateKeys} duplicate key(s) deleted; audit entry ${result.auditId}\n`,
        );
        process.stdout.write(`  audit reference ${result.reference}\n  decisions, batches and proofs are unchanged: \`claimtrail verify <claim-id>\` still passes\n`);
      } finally {
        await pool.end();
      }
    });
}
