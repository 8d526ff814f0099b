import { Argument, type Command } from 'commander';
import { loadConfig, loadDotEnv } from '../../core/config.ts';
import { InvalidArgumentError } from '../../core/errors.ts';
import { redactUrl } from '../../core/redact.ts';
import { createLogger } from '../../core/logger.ts';
import { resolveStateDir } from '../../stack/paths.ts';
import { configuredData, refuseNonLocalServices, stackReset } from '../stack-reset.ts';
import { SERVICE_NAMES, loadStackConfig, stackDown, stackStatus, stackUp, type DownReport, type ServiceName, type ServiceReport, type StackOptions } from '../../stack/stack.ts';

/**
 * `claimtrail stack up|down|reset|status`: the local Kafka, Redis, PostgreSQL and EVM chain.
 * Thin: reads the environment, calls stack/stack.ts, prints human lines (or JSON for status).
 */

const SERVICES_HELP = 'services to act on (default: all, in start order)';

const ENV_HELP = `
Environment (also read from ./.env):
  KAFKA_BROKERS   first broker is checked/started   (default 127.0.0.1:9092; controller on port + 1)
  REDIS_URL       reused when it answers PING        (default redis://127.0.0.1:6379)
  DATABASE_URL    reused when reachable; its database is created when missing
                                                     (default postgres://postgres@127.0.0.1:5432/claimtrail)
  CHAIN_RPC_URL   reused when it answers eth_chainId (default http://127.0.0.1:8545)
  STATE_DIR       pidfiles, logs and data            (default <repo>/.state)
  LOG_LEVEL       pino level of the structured logs  (default warn here)`;

export function registerStackCommand(program: Command): void {
  const stack = program
    .command('stack')
    .description('Start, stop and inspect the local services: Kafka, Redis, PostgreSQL and an EVM chain (anvil)');

  stack
    .command('up')
    .description('Start what is not running yet and wait until every service answers; reuses services that already answer (docker compose, system services)')
    .addArgument(new Argument('[services...]', SERVICES_HELP).choices(SERVICE_NAMES))
    .addHelpText(
      'after',
      `
Kafka 3.9 (KRaft, single node) runs from Maven Central jars fetched once into the state folder
(needs Java 17+ and Maven); Redis from redis-server with AOF; PostgreSQL from a local cluster
only when nothing answers DATABASE_URL; the chain is anvil with persistent state and a funded
dev signer key in <state>/chain/dev-signer.key. Running it twice is harmless.
Exit codes: 0 all up, 3 a service could not start (the message says what to do).
${ENV_HELP}`,
    )
    .action(async (services: ServiceName[]) => {
      const result = await stackUp(options(services, false));
      for (const report of result.services) process.stdout.write(`${upLine(report)}\n`);
      const reused = result.services.length - result.started.length;
      process.stdout.write(`stack up: ${result.started.length} started, ${reused} already running, in ${seconds(result.elapsedMs)}\n`);
      // Commands other than `start` use the stack's dev data keys only when asked to (cli/dev-sources.ts).
      if (process.env.CLAIMTRAIL_DEV_KEYS !== '1') process.stdout.write('dev keys: run claimtrail commands against this stack with CLAIMTRAIL_DEV_KEYS=1 (or set PHI_MASTER_KEY_FILE, REVIEW_INDEX_KEY_FILE, AGGREGATE_KEY_SECRET_FILE)\n');
    });

  stack
    .command('down')
    .description('Stop the services `stack up` started (by pidfile) and verify they are gone; external services are left alone')
    .addArgument(new Argument('[services...]', SERVICES_HELP).choices(SERVICE_NAMES))
    .addHelpText('after', `\nData stays in the state folder: the next \`stack up\` resumes with the same topics, keys and chain.\n${ENV_HELP}`)
    .action(async (services: ServiceName[]) => {
      const result = await stackDown(options(services, false));
      for (const report of result.services) process.stdout.write(`${downLine(report)}\n`);
    });

  stack
    .command('reset')
    .description("Delete claimtrail's local data and start over: topics, consumer groups, database schema, anchor queue and aggregate keys on this machine's services, then stop what the stack started and remove the state folder and models/")
    .option('--yes', 'really delete (without it, nothing is touched: the command says what it would delete and exits 2)')
    .addHelpText(
      'after',
      `
Needed where PostgreSQL, Redis or Kafka were running before \`stack up\` (reused, not started by
it): their data outlives the state folder, and the next start refuses a database whose data keys
the removed dev master key wrapped. Refuses any service address that is not this machine.
Exit codes: 0 reset, 2 without --yes or a service elsewhere, 3 a service's data could not be deleted
(then nothing else is removed: the state folder's dev keys still wrap that data).
${ENV_HELP}`,
    )
    .action(async (flags: { yes?: boolean }) => {
      loadDotEnv();
      // As loadStackConfig: the signer key file may not exist (the stack writes it).
      const { SIGNER_KEY_FILE: _file, SIGNER_PRIVATE_KEY: _key, ...env } = process.env;
      const config = loadConfig(env);
      const log = createLogger(process.env.LOG_LEVEL ?? 'warn');
      refuseNonLocalServices(config);
      if (flags.yes !== true) {
        const owned = configuredData(config);
        process.stdout.write(
          [
            'stack reset would delete:',
            `  kafka     topics ${owned.topics.join(', ')}; consumer groups ${owned.groups.join(', ')}`,
            `  postgres  schema ${owned.schema} of ${redactUrl(config.database.url)}, with everything in it`,
            `  redis     anchor queue ${owned.queue}; keys ${owned.redisPrefix}:*`,
            `  state     ${resolveStateDir(config.stateDir)}${process.env.MODEL_DIR === undefined ? ' and models/' : ''}`,
            '',
          ].join('\n'),
        );
        throw new InvalidArgumentError('stack reset: nothing deleted; run it again with --yes to delete the above');
      }
      const result = await stackReset(config, process.env, log);
      for (const line of result.lines) process.stdout.write(`${line}\n`);
      if (!result.ok) {
        process.stderr.write("stack reset: a service's data could not be deleted (see FAILED above) and nothing else was removed; fix it and run the reset again\n");
        process.exitCode = 3;
      }
    });

  stack
    .command('status')
    .description('Show each service: state, address, pid (changes nothing)')
    .addArgument(new Argument('[services...]', SERVICES_HELP).choices(SERVICE_NAMES))
    .option('--json', 'print the status as JSON ({ services: [...], allUp })')
    .addHelpText(
      'after',
      `
States: running (started by the stack), external (answers, not ours), stopped, unhealthy
(ours but not answering, or the port is held by something else).
Exit codes: 0 every service up, 3 at least one is not.
${ENV_HELP}`,
    )
    .action(async (services: ServiceName[], flags: { json?: boolean }) => {
      const json = flags.json === true;
      const result = await stackStatus(options(services, json));
      if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else process.stdout.write(statusTable(result.services));
      if (!result.allUp) process.exitCode = 3;
    });
}

function options(services: ServiceName[], quiet: boolean): StackOptions {
  loadDotEnv();
  return {
    config: loadStackConfig(),
    // Human output goes to stdout; structured logs only when asked for, and never into --json.
    log: createLogger(quiet ? 'silent' : (process.env.LOG_LEVEL ?? 'warn')),
    ...(services.length > 0 ? { services } : {}),
  };
}

function upLine(r: ServiceReport): string {
  const pid = r.pid === null ? '-' : `pid ${r.pid}`;
  const took = r.elapsedMs === undefined ? '' : seconds(r.elapsedMs);
  return `${r.service.padEnd(9)} ${r.state.padEnd(9)} ${r.address.padEnd(28)} ${pid.padEnd(10)} ${took.padStart(6)}${r.detail === undefined ? '' : `  ${r.detail}`}`;
}

function downLine(r: DownReport): string {
  const what = r.action === 'stopped' ? `stopped (pid ${r.pid})` : r.action === 'left-external' ? 'left running (not started by the stack)' : 'not running';
  return `${r.service.padEnd(9)} ${r.address.padEnd(28)} ${what}`;
}

function statusTable(reports: readonly ServiceReport[]): string {
  const rows = [['SERVICE', 'STATE', 'ADDRESS', 'PID', 'DETAIL'], ...reports.map((r) => [r.service, r.state, r.address, r.pid === null ? '-' : String(r.pid), r.detail ?? ''])];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i]?.length ?? 0)));
  return rows.map((row) => row.map((cell, i) => (i < 4 ? cell.padEnd(widths[i] ?? 0) : cell)).join('  ').trimEnd()).join('\n') + '\n';
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
