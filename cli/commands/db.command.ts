import type { Command } from 'commander';
import { InvalidArgumentError } from '../../core/errors.ts';
import { grantAppRole } from '../../infra/db/app-role.ts';
import { migrate } from '../../infra/db/migrate.ts';
import { commandContext } from '../context.ts';

interface GrantOptions {
  role?: string;
  passwordEnv?: string;
  json: boolean;
}

/** `claimtrail db grant-app-role`: the operator step of running the app as a role that owns nothing (infra/db/app-role.ts). */
export function registerDbCommand(program: Command): void {
  const db = program.command('db').description('Database operator steps');
  db.command('grant-app-role')
    .description(
      'Create (when missing) a LOGIN role that owns nothing and grant it what the app needs on DATABASE_SCHEMA: read/write on the ' +
        'ordinary tables, only SELECT and INSERT on audit_log and audit_seals (plus the anchor columns of audit_seals), so the ' +
        "append-only trigger binds it (a table's owner can disable it). Run as the schema owner, with CREATEROLE to create the role; " +
        'migrates first; idempotent, run it again after each migration. Then run the app with DATABASE_URL naming this role.',
    )
    .option('--role <name>', 'the role the app will connect as (lower-case SQL identifier)')
    .option('--password-env <VAR>', 'set the role password from this environment variable (never a flag: it would show in ps)')
    .option('--json', 'print one JSON object', false)
    .addHelpText('after', '\nExample:\n  CLAIMTRAIL_APP_PASSWORD=... claimtrail db grant-app-role --role claimtrail_app --password-env CLAIMTRAIL_APP_PASSWORD')
    .action(async (opts: GrantOptions) => {
      if (opts.role === undefined) throw new InvalidArgumentError('give --role <name>');
      let password: string | undefined;
      if (opts.passwordEnv !== undefined) {
        password = process.env[opts.passwordEnv];
        if (!password) throw new InvalidArgumentError(`--password-env: ${opts.passwordEnv} is not set`);
      }
      const { config, log } = commandContext();
      await migrate(config.database.url, config.database.schema, log);
      const grant = await grantAppRole(config.database.url, config.database.schema, opts.role, password === undefined ? {} : { password });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(grant)}\n`);
        return;
      }
      process.stdout.write(
        `role ${grant.role} ${grant.created ? 'created' : 'exists'}; privileges set on ${grant.tables} tables of schema ${grant.schema} ` +
          '(audit_log and audit_seals: SELECT and INSERT only, plus the anchor columns of audit_seals)\n' +
          `  run the app with DATABASE_URL naming ${grant.role}; keep migrating with the owner role and re-run this after each migration\n`,
      );
    });
}
