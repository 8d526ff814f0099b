import type { Command } from 'commander';
import { InvalidArgumentError } from '../../core/errors.ts';
import { migrate } from '../../infra/db/migrate.ts';
import { createPool } from '../../infra/db/pool.ts';
import { createKafka } from '../../infra/kafka/kafka.ts';
import { collectStatus, formatStatus } from '../../pipeline/status.ts';
import { commandContext } from '../context.ts';

interface StatusOptions {
  json: boolean;
  signer?: string;
}

/** `claimtrail status [--json]`: one screen of how the pipeline is doing (pipeline/status.ts, docs/runbooks.md). */
export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description(
      'One screen: decisions in the last minute, consumer lag per group, pending batches / epochs / flagged roots, anchor lag p50/p95/p99 ' +
        '(decided -> anchored, last day), last anchored block, signer balance and days of gas left at the last day\'s spend, DLQ counts, instance id. ' +
        'A section whose service does not answer says so; the others still show.',
    )
    .option('--json', 'print one JSON object', false)
    .option('--signer <address>', 'signer address for the balance (default: the signer of the latest anchor transaction)')
    .addHelpText('after', '\nExamples:\n  claimtrail status\n  claimtrail status --json | jq .consumerLag')
    .action(async (opts: StatusOptions) => {
      if (opts.signer !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(opts.signer)) throw new InvalidArgumentError('--signer: expected a 0x-prefixed 20-byte address');
      const { config, log } = commandContext();
      await migrate(config.database.url, config.database.schema, log);
      const pool = createPool(config.database.url, config.database.schema, 2);
      try {
        const status = await collectStatus({ pool, kafka: createKafka(config, log, '-status'), config, ...(opts.signer ? { signer: opts.signer } : {}) });
        process.stdout.write(opts.json ? `${JSON.stringify(status)}\n` : formatStatus(status));
      } finally {
        await pool.end();
      }
    });
}
