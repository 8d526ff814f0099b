import type { ErrorCode } from './error-codes.ts';

/**
 * One base error for claimtrail. Every error we throw on purpose carries a stable `code`
 * (tests and operators match on it, never on the message), whether retrying can help, and the
 * underlying `cause`. Subclasses live at the boundaries they describe; translation into a DLQ
 * header, a BullMQ UnrecoverableError, an HTTP status or a CLI exit code happens only at the edge.
 */
export class ClaimtrailError extends Error {
  /** Stable, machine-readable identifier such as `CONFIG_INVALID`, registered in core/error-codes.ts. */
  readonly code: ErrorCode;
  /** True when the same operation may succeed if tried again later (I/O, chain congestion). */
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/**
 * The environment (or a CLI flag) holds a bad value; `issues` lists every problem found. One
 * issue reads as one line (`invalid configuration: <issue>`), several as a list.
 */
export class ConfigError extends ClaimtrailError {
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super('CONFIG_INVALID', issues.length === 1 ? `invalid configuration: ${issues[0]}` : `invalid configuration:\n  - ${issues.join('\n  - ')}`);
    this.issues = issues;
  }
}

/** A caller passed something we cannot use (bad CLI argument, bad file). Caller's fault. */
export class InvalidArgumentError extends ClaimtrailError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('INVALID_ARGUMENT', message, options);
  }
}

/** A local service of the stack could not be started or reached. The message says what to do. */
export class StackError extends ClaimtrailError {
  readonly service: string;
  constructor(service: string, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super('STACK_UNAVAILABLE', `${service}: ${message}`, options);
    this.service = service;
  }
}

/** Something we guarantee internally did not hold: a bug in claimtrail, never the caller's fault. */
export class InvariantError extends ClaimtrailError {
  constructor(message: string) {
    super('INVARIANT_VIOLATED', message);
  }
}

/** Throws InvariantError when `condition` is false. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}
