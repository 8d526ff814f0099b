import { InvalidArgumentError } from 'commander';
import { loadConfig, loadDotEnv, type Config } from '../core/config.ts';
import { createLogger, type Logger } from '../core/logger.ts';

/** Config and root logger for a command, loaded once (`.env` first, environment wins). */
export function commandContext(): { config: Readonly<Config>; log: Logger } {
  loadDotEnv();
  const config = loadConfig();
  return { config, log: createLogger(config.logLevel) };
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
