import type { Command } from 'commander';
import { LogIdentityRepository } from '../../anchoring/log-identity.repository.ts';
import { InvalidArgumentError } from '../../core/errors.ts';
import { migrate } from '../../infra/db/migrate.ts';
import { createPool } from '../../infra/db/pool.ts';
import { createKafka } from '../../infra/kafka/kafka.ts';
import { rebaselineLogIdentity } from '../../pipeline/log-identity.ts';
import { commandContext } from '../context.ts';

interface RebaselineOptions {
  confirm: boolean;
  json: boolean;
}

/** `claimtrail rebaseline --confirm`: accept the current Kafka cluster and decisions topic (pipeline/log-identity.ts, docs/runbooks.md). */
export function registerRebaselineCommand(program: Command): void {
  program
    .command('rebaseline')
    .description(
      "Record the current Kafka cluster id and the decisions topic's partition fingerprints as this schema's log identity, after the " +
        'batching stage refused to start because they changed (LOG_IDENTITY_CHANGED). Only with --confirm: batching then resumes after ' +
        "each partition's last stored batch on the current log. Refused when a partition ends before its last stored batch.",
    )
    .option('--confirm', 'the operator accepts the current cluster and topic as the log of record', false)
    .option('--json', 'print one JSON object', false)
    .addHelpText('after', '\nExample:\n  claimtrail rebaseline --confirm')
    .action(async (opts: RebaselineOptions) => {
      if (!opts.confirm) throw new InvalidArgumentError('rebaseline changes which Kafka log this schema trusts: read docs/runbooks.md#kafka-log-identity, then run it with --confirm');
      const { config, log } = commandContext();
      await migrate(config.database.url, config.database.schema, log);
      const pool = createPool(config.database.url, config.database.schema, 2);
      const kafka = createKafka(config, log, '-rebaseline');
      const admin = kafka.admin();
      try {
        await admin.connect();
        const result = await rebaselineLogIdentity({ kafka, admin, identity: new LogIdentityRepository(pool), topic: config.kafka.topics.decisions, log });
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(result)}\n`);
          return;
        }
        process.stdout.write(
          `log identity recorded: cluster ${result.clusterId}${result.previousClusterId && result.previousClusterId !== result.clusterId ? ` (was ${result.previousClusterId})` : ''}, ` +
            `${result.fingerprints.length} partition fingerprint(s) of ${config.kafka.topics.decisions}` +
            (result.problemsBefore.length > 0 ? `; accepted: ${result.problemsBefore.join('; ')}` : '; nothing had changed') + '\n',
        );
      } finally {
        await admin.disconnect();
        await pool.end();
      }
    });
}
