import type { Command } from 'commander';
import { registerAuditCommand } from './audit.command.ts';
import { registerBenchCommand } from './bench.command.ts';
import { registerDbCommand } from './db.command.ts';
import { registerEraseCommand } from './erase.command.ts';
import { registerEvaluateCommand } from './evaluate.command.ts';
import { registerFederateCommand } from './federate.command.ts';
import { registerFixturesCommand } from './fixtures.command.ts';
import { registerProduceCommand } from './produce.command.ts';
import { registerRebaselineCommand } from './rebaseline.command.ts';
import { registerReviewCommand } from './review.command.ts';
import { registerRunCommand } from './run.command.ts';
import { registerShadowCommand } from './shadow.command.ts';
import { registerStackCommand } from './stack.command.ts';
import { registerStatusCommand } from './status.command.ts';
import { registerStartCommand } from './start.command.ts';
import { registerTrainCommand } from './train.command.ts';
import { registerProofCommand, registerVerifyCommand } from './verify.command.ts';

/** Adds every claimtrail command to the program. One line per command file. */
export function registerCommands(program: Command): void {
  registerStartCommand(program);
  registerStackCommand(program);
  registerFixturesCommand(program);
  registerTrainCommand(program);
  registerEvaluateCommand(program);
  registerProduceCommand(program);
  registerRunCommand(program);
  registerVerifyCommand(program);
  registerProofCommand(program);
  registerAuditCommand(program);
  registerShadowCommand(program);
  registerReviewCommand(program);
  registerEraseCommand(program);
  registerDbCommand(program);
  registerBenchCommand(program);
  registerRebaselineCommand(program);
  registerStatusCommand(program);
  registerFederateCommand(program);
}
