import { join, relative } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { loadConfig, loadDotEnv, type Config } from '../core/config.ts';
import { createLogger, logFileDestination, type Logger } from '../core/logger.ts';

/**
 * Where a command's JSON log lines go: LOG_FILE when set; `<STATE_DIR>/logs/claimtrail.log` when
 * stdout is a terminal (it is for the human lines: progress, summaries); otherwise stdout
 * (undefined), for a log collector or a pipe.
 */
export function logFileFor(settings: { logFile: string | undefined; stateDir: string }, stdoutIsTty: boolean = process.stdout.isTTY === true): string | undefined {
  if (settings.logFile !== undefined) return settings.logFile;
  return stdoutIsTty ? join(settings.stateDir, 'logs', 'claimtrail.log') : undefined;
}

function loggerFor(level: string, logFile: string | undefined): Logger {
  return createLogger(level, logFile === undefined ? undefined : logFileDestination(logFile));
}

/** Config and root logger for a command, loaded once (`.env` first, environment wins). */
export function commandContext(): { config: Readonly<Config>; log: Logger; logFile: string | undefined } {
  loadDotEnv();
  const config = loadConfig();
  const logFile = logFileFor(config);
  return { config, log: loggerFor(config.logLevel, logFile), logFile };
}

/**
 * The root logger before the configuration can be loaded (`stack up` writes files the config
 * reads, such as the dev signer key): same destination rules, from LOG_FILE / STATE_DIR / LOG_LEVEL.
 */
export function earlyCommandLog(): Logger {
  loadDotEnv();
  const env = process.env;
  // A bad LOG_LEVEL is reported by loadConfig later, with every other bad variable.
  const level = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(env.LOG_LEVEL ?? '') ? env.LOG_LEVEL! : 'info';
  return loggerFor(level, logFileFor({ logFile: env.LOG_FILE || undefined, stateDir: env.STATE_DIR || '.state' }));
}

/** `path` relative to the working directory when it lies below it (for human lines). */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

/** Resolves when the process is asked to stop (SIGINT / SIGTERM). */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals) => resolve(signal);
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}

/** Commander argument parser for a positive whole number (commander names the flag in the error). */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number.');
  return n;
}

/** Commander argument parser for a whole number >= 0. */
export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number >= 0.');
  return n;
}
