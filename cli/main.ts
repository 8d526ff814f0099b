#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { AnchoringError } from '../anchoring/core/errors.ts';
import { ClaimtrailError } from '../core/errors.ts';
import { registerCommands } from './commands/index.ts';

/**
 * The `claimtrail` command line. Each command lives in cli/commands/<name>.command.ts and stays
 * thin: parse flags, call a service, print. Errors are translated to exit codes here only:
 * 0 ok, 1 a check failed (audit discrepancy), 2 bad input or configuration, 3 a service of the
 * stack is unavailable (Kafka refusing our credentials or certificate included), 70 an internal error. `verify` has one exit code per failure (10-22,
 * see verify.command.ts and the README).
 */
const program = new Command('claimtrail')
  .description('Verifiable insurance-claims fraud scoring: Kafka in, ensemble scores out, decisions anchored on chain.')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerCommands(program);

export function exitCodeFor(error: unknown): number {
  if (error instanceof ClaimtrailError) {
    if (error.code === 'STACK_UNAVAILABLE' || error.code === 'KAFKA_AUTH_FAILED' || error.code === 'KAFKA_TLS_FAILED') return 3;
    // A missing or wrong PHI master key is configuration, like any other bad variable.
    if (error.code === 'INVALID_ARGUMENT' || error.code === 'CONFIG_INVALID' || error.code === 'PHI_MASTER_KEY_MISSING' || error.code === 'PHI_MASTER_KEY_MISMATCH') return 2;
    // DecisionAnchorV2 configuration: no address off the dev chain, or an anchoring key with the wrong roles.
    if (error.code === 'DECISION_ANCHOR_V2_UNCONFIGURED' || error.code === 'ANCHORER_HOLDS_ADMIN' || error.code === 'ANCHORER_ROLE_MISSING') return 2;
    // Another Kafka cluster or a recreated decisions topic: an operator decides (`claimtrail rebaseline --confirm`).
    if (error.code === 'LOG_IDENTITY_CHANGED') return 2;
    if (error.code === 'CHECK_FAILED') return 1;
    // Federation: a refused message, a bad round or too few participants is the caller's to fix.
    if (error.code.startsWith('FEDERATION_')) return 2;
    return error.retriable ? 3 : 70;
  }
  // The anchoring core keeps its own small error tree (it imports nothing from the app).
  if (error instanceof AnchoringError) return error.code === 'INVARIANT_VIOLATED' ? 70 : 2;
  return 70;
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // commander already printed the message (or the help text).
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (error instanceof ClaimtrailError || error instanceof AnchoringError) {
    process.stderr.write(`claimtrail: ${error.message}\n`);
    process.exitCode = exitCodeFor(error);
  } else {
    process.stderr.write(`claimtrail: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 70;
  }
}
