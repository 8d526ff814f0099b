import { mkdir, open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { userInfo } from 'node:os';
import { type Command, InvalidArgumentError as CommanderArgumentError } from 'commander';
import { InvalidArgumentError } from '../../core/errors.ts';
import { ClaimPayloadRepository } from '../../privacy/claim-payload.repository.ts';
import { migrate } from '../../infra/db/migrate.ts';
import { createPool } from '../../infra/db/pool.ts';
import { writeClaimsNdjson, writeLines } from '../../fixtures/io.ts';
import { createKafka } from '../../infra/kafka/kafka.ts';
import { openMemberKeys } from '../../privacy/master-key.ts';
import { createRedis } from '../../infra/redis.ts';
import { loadReviewConfig } from '../../review/config.ts';
import { ROLES, type Role } from '../../review/auth/roles.ts';
import { ConflictError } from '../../review/errors.ts';
import { AlertRepository } from '../../monitoring/alert.repository.ts';
import { AuditRepository, type AuditActor } from '../../review/repositories/audit.repository.ts';
import { UserRepository } from '../../review/repositories/user.repository.ts';
import { startReviewServer } from '../../review/server.ts';
import { AuthService } from '../../review/services/auth.service.ts';
import { describeLabels, joinClaimPayloads, readVerdictLabels } from '../../training/labels/verdict-labels.ts';
import { AnchorQueue } from '../../workers/anchor.queue.ts';
import { commandContext, nonNegativeInt, untilSignal } from '../context.ts';
import { devIndexKeySource, devMasterKeySource } from '../dev-sources.ts';

function role(value: string): Role {
  if (!ROLES.includes(value as Role)) throw new CommanderArgumentError(`expected one of ${ROLES.join(', ')}.`);
  return value as Role;
}

/** `claimtrail review serve | user create`: the investigator review app and its users. */
export function registerReviewCommand(program: Command): void {
  const review = program.command('review').description('The investigator review app: queues, cases, dispositions, audit, compliance proofs.');

  review
    .command('serve')
    .description('Serve the review API (/api, OpenAPI at /api/openapi.json) and web UI until SIGINT/SIGTERM.')
    .option('--port <n>', 'TCP port (default: REVIEW_PORT or 8080; 0 picks a free one)', nonNegativeInt)
    .addHelpText('after', '\nCreate users first: claimtrail review user create --role investigator --name alice')
    .action(async (opts: { port?: number }) => {
      const { config, log } = commandContext();
      const reviewConfig = loadReviewConfig();
      if (opts.port !== undefined && opts.port > 65535) throw new InvalidArgumentError('--port must be at most 65535');
      // Sealed audit batches go to the pipeline's anchor queue; its anchor worker sends them.
      const redis = createRedis(config.redisUrl);
      const anchoring = new AnchorQueue(config.anchor.queue, redis, { epochDelayMs: config.anchor.epochSeconds * 1000 });
      try {
        const server = await startReviewServer(config, reviewConfig, log, { masterKey: devMasterKeySource(config), anchoring, indexKey: devIndexKeySource(config, reviewConfig) }, opts.port ?? reviewConfig.port);
        process.stdout.write(`review app on ${server.url}\n`);
        const signal = await untilSignal();
        log.info({ signal }, 'stopping');
        await server.stop();
      } finally {
        await anchoring.close();
        redis.disconnect();
      }
    });

  review
    .command('user')
    .description('Manage review app users.')
    .command('create')
    .description('Create a user with a generated password and an API token (expiring after REVIEW_TOKEN_DEFAULT_DAYS), printed once (only their hashes are stored).')
    .requiredOption('--name <name>', 'user name: 2-64 characters, a-z 0-9 . _ -')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`, role)
    .option('--json', 'print one JSON object', false)
    .action(async (opts: { name: string; role: Role; json: boolean }) => {
      const { config } = commandContext();
      await migrate(config.database.url, config.database.schema);
      const pool = createPool(config.database.url, config.database.schema, 2);
      try {
        const reviewConfig = loadReviewConfig();
        const auth = new AuthService({ users: new UserRepository(pool), audit: new AuditRepository(pool), sessionHours: reviewConfig.sessionHours, tokenDefaultDays: reviewConfig.tokenDefaultDays, tokenMaxDays: reviewConfig.tokenMaxDays });
        const created = await auth.createUser(opts.name, opts.role, null).catch((error: unknown) => {
          throw error instanceof ConflictError ? new InvalidArgumentError(error.message) : error;
        });
        if (opts.json) process.stdout.write(`${JSON.stringify(created)}\n`);
        else process.stdout.write(`created ${created.user.role} ${created.user.name} (id ${created.user.userId})\n  password  ${created.password}\n  API token ${created.token}\nThey are shown only now; store them safely.\n`);
      } finally {
        await pool.end();
      }
    });

  registerAlertLabelsExport(review);

  review
    .command('export-labels')
    .description('Write the labels the investigators\' dispositions imply (from the verdicts topic) as NDJSON for claimtrail train --labels.')
    .requiredOption('--out <file>', 'labels NDJSON to write: {claimId, fraud, pattern: null} per line')
    .option('--claims <file>', 'also write the labelled claims (their payloads from PostgreSQL) as NDJSON, for train --data')
    .option('--topic <topic>', 'verdicts topic (default: VERDICTS_TOPIC, verdicts)')
    .addHelpText(
      'after',
      `
Verdicts are deduplicated on dispositionId and the latest disposition of a claim wins:
confirmed_fraud -> fraud true, false_positive -> fraud false; a claim whose latest disposition is
needs_information or escalated is left out, and so is a claim without a stored payload.

Example:
  claimtrail review export-labels --out labels.ndjson --claims claims.ndjson
  claimtrail train --data claims.ndjson --labels labels.ndjson --out models/retrained
`,
    )
    .action(async (opts: { out: string; claims?: string; topic?: string }) => {
      const { config, log } = commandContext();
      const topic = opts.topic ?? loadReviewConfig().verdictsTopic;
      const { labels, stats } = await readVerdictLabels(createKafka(config, log, '-export'), topic);
      await migrate(config.database.url, config.database.schema);
      const pool = createPool(config.database.url, config.database.schema, 2);
      try {
        const joined = await joinClaimPayloads(new ClaimPayloadRepository(pool, await openMemberKeys(pool, devMasterKeySource(config), log)), labels);
        // Decrypted claims (PHI) and labels: owner-only files, whatever the umask.
        await createPrivateFile(opts.out);
        await writeLines(opts.out, joined.labels.map((l) => JSON.stringify(l)));
        if (opts.claims) {
          await createPrivateFile(opts.claims);
          await writeClaimsNdjson(opts.claims, joined.claims);
        }
        // Who exported how much, never what: counts only, no claim ids or file names.
        await new AuditRepository(pool).append(cliOperator(), 'labels.export', null, { topic, labels: joined.labels.length, claims: opts.claims ? joined.claims.length : null });
        process.stdout.write(`${describeLabels(topic, stats, joined)}\nwrote ${joined.labels.length} labels to ${opts.out}${opts.claims ? ` and their claims to ${opts.claims}` : ''}\n`);
      } finally {
        await pool.end();
      }
    });
}

/**
 * `review export-alert-labels`: compliance's dispositions of access alerts as labels for the next
 * behaviour model (NDJSON: alert id, day, role, the user-day's features, label 1 / 0), owner-only
 * file; audited with the count only.
 */
function registerAlertLabelsExport(review: Command): void {
  review
    .command('export-alert-labels')
    .description('Write dispositioned access alerts (policy violation = 1, benign = 0) with their user-day features as NDJSON, for the next behaviour model')
    .requiredOption('--out <file>', 'NDJSON file to write (mode 0600)')
    .action(async (opts: { out: string }) => {
      const { config } = commandContext();
      await migrate(config.database.url, config.database.schema);
      const pool = createPool(config.database.url, config.database.schema, 2);
      try {
        const labels = await new AlertRepository(pool).labels();
        await createPrivateFile(opts.out);
        await writeLines(opts.out, labels.map((l) => JSON.stringify(l)));
        await new AuditRepository(pool).append(cliOperator(), 'alert-labels.export', null, { labels: labels.length });
        process.stdout.write(`wrote ${labels.length} alert labels (${labels.filter((l) => l.label === 1).length} policy violations) to ${opts.out}\n`);
      } finally {
        await pool.end();
      }
    });
}

/**
 * Creates (or truncates) `file` readable and writable by its owner only (0600) before anything is
 * written to it; the writer then reopens it with flag `w`, which keeps the mode.
 */
async function createPrivateFile(file: string): Promise<void> {
  await mkdir(dirname(resolve(file)), { recursive: true });
  const handle = await open(file, 'w', 0o600);
  try {
    // An existing file keeps its old mode on open: set it explicitly.
    await handle.chmod(0o600);
  } finally {
    await handle.close();
  }
}

/** The CLI operator as a system actor of the audit log: `cli:<OS user>`, no review user id. */
function cliOperator(): AuditActor {
  let name: string;
  try {
    name = userInfo().username;
  } catch {
    // No passwd entry for this uid (some containers): fall back to the environment.
    name = process.env.USER ?? `uid-${process.getuid?.() ?? 'unknown'}`;
  }
  return { userId: null, name: `cli:${name}`, role: 'admin', ip: null };
}
