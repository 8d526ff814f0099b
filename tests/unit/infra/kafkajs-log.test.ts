import { logLevel } from 'kafkajs';
import { createLogger, type Logger } from '../../../core/logger.ts';
import { describe, expect, it } from 'vitest';
import { kafkajsLogCreator, transientKind } from '../../../infra/kafka/kafkajs-log.ts';

/** A pino logger at trace writing parsed lines into `lines`. */
function capture(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger('trace', { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

const entry = (message: string, error?: string) => ({ namespace: 'Connection', level: logLevel.ERROR, label: 'ERROR', log: { timestamp: 't', logger: 'kafkajs', message, ...(error ? { error } : {}) } });

describe('kafkajs log lines', () => {
  it('knows the retriable coordinator answers by their protocol texts', () => {
    expect(transientKind({ message: 'Response GroupCoordinator(key: 10, version: 2)', error: 'The group coordinator is not available' })).toBe('COORDINATOR_NOT_AVAILABLE');
    expect(transientKind({ message: "The coordinator is loading and hence can't process requests for this group" })).toBe('COORDINATOR_LOAD_IN_PROGRESS');
    expect(transientKind({ message: 'x', error: 'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing' })).toBe('CONCURRENT_TRANSACTIONS');
    expect(transientKind({ message: 'SASL SCRAM SHA512 authentication failed' })).toBeNull();
  });

  it('logs them at debug until one kind repeats past the count, then at error with the repeats', () => {
    const { log, lines } = capture();
    const write = kafkajsLogCreator(log, { count: 3, windowMs: 60_000, resetAfterMs: 60_000 }, () => 1000)(logLevel.ERROR);
    for (let i = 0; i < 5; i++) write(entry('Response FindCoordinator', 'The group coordinator is not available'));
    write(entry('Response InitProducerId', 'The coordinator is loading and hence cannot process requests'));
    expect(lines.map((l) => l.level)).toEqual([20, 20, 20, 50, 50, 20]);
    expect(lines[3]).toMatchObject({ component: 'kafkajs', transient: 'COORDINATOR_NOT_AVAILABLE', transientRepeats: 4, transientForMs: 0 });
  });

  it('escalates a kind that lasts past the window, and counts afresh after a quiet spell', () => {
    const { log, lines } = capture();
    let t = 0;
    const write = kafkajsLogCreator(log, { count: 100, windowMs: 10_000, resetAfterMs: 30_000 }, () => t)(logLevel.ERROR);
    write(entry('m', 'The group coordinator is not available'));
    t = 9_000;
    write(entry('m', 'The group coordinator is not available'));
    t = 11_000;
    write(entry('m', 'The group coordinator is not available'));
    t = 50_000;
    write(entry('m', 'The group coordinator is not available'));
    expect(lines.map((l) => l.level)).toEqual([20, 20, 50, 20]);
  });

  it('keeps every other error at error', () => {
    const { log, lines } = capture();
    const write = kafkajsLogCreator(log)(logLevel.ERROR);
    write(entry('Connection error: connect ECONNREFUSED 127.0.0.1:1'));
    write({ ...entry('Limiting retries'), level: logLevel.WARN });
    expect(lines.map((l) => l.level)).toEqual([50, 40]);
  });
});
