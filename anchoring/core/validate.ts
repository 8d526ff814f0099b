/**
 * Argument checks shared by the anchoring files. Each throws {@link InvalidArgumentError} naming
 * the offending field, and returns the value in the one canonical form the encodings use
 * (lowercase hex, bigint), so two spellings of the same value can never hash differently.
 */
import { InvalidArgumentError } from './errors.ts';

const BYTES32 = /^0x[0-9a-fA-F]{64}$/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;
/** Kafka's own rule for topic names (legal characters, at most 249 of them). */
const KAFKA_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

export const UINT32_MAX = 0xffff_ffff;
export const UINT64_MAX = 2n ** 64n - 1n;

/** Short rendering of a bad value for error messages (never more than ~80 characters). */
export function show(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'bigint' ? `${value}n` : (JSON.stringify(value) ?? String(value));
  } catch {
    // Cycles or exotic objects: String() still says what kind of thing it was.
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** A 32-byte value as `0x` + 64 hex digits (either case); returns it lowercased. */
export function bytes32(value: unknown, field: string): string {
  if (typeof value !== 'string' || !BYTES32.test(value)) {
    throw new InvalidArgumentError(`${field} must be 0x followed by 64 hex digits, got ${show(value)}`);
  }
  return value.toLowerCase();
}

/** An integer in [0, max] given as a JS number (for uint8 / uint32 fields). */
export function smallUint(value: unknown, max: number, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new InvalidArgumentError(`${field} must be an integer in [0, ${max}], got ${show(value)}`);
  }
  return value;
}

/**
 * A uint64 written as a canonical decimal string (no sign, no leading zeros, no spaces):
 * decimal because JSON numbers cannot hold 64 bits exactly. Returns the value as a bigint.
 */
export function decimalUint64(value: unknown, field: string): bigint {
  if (typeof value !== 'string' || !DECIMAL.test(value)) {
    throw new InvalidArgumentError(`${field} must be a decimal string without sign or leading zeros, got ${show(value)}`);
  }
  const n = BigInt(value);
  if (n > UINT64_MAX) throw new InvalidArgumentError(`${field} must be at most 2^64-1, got ${value}`);
  return n;
}

/** A Kafka topic name (1..249 of `[a-zA-Z0-9._-]`). */
export function kafkaTopic(value: unknown, field: string): string {
  if (typeof value !== 'string' || !KAFKA_TOPIC.test(value)) {
    throw new InvalidArgumentError(`${field} must be a Kafka topic name (1-249 of [a-zA-Z0-9._-]), got ${show(value)}`);
  }
  return value;
}

/**
 * A UTC instant in exactly the form `Date.prototype.toISOString()` prints
 * (`2024-05-01T12:00:00.000Z`), at or after 1970. Requiring that one form makes string and
 * milliseconds a bijection: the leaf binds the milliseconds, and the string a bundle shows is the
 * only string that maps to them. Returns unix milliseconds.
 */
export function isoInstantMs(value: unknown, field: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (typeof value !== 'string' || Number.isNaN(ms) || new Date(ms).toISOString() !== value) {
    throw new InvalidArgumentError(
      `${field} must be a UTC time exactly as Date.toISOString() prints it (YYYY-MM-DDTHH:mm:ss.sssZ), got ${show(value)}`,
    );
  }
  if (ms < 0) throw new InvalidArgumentError(`${field} must not be before 1970-01-01, got ${value}`);
  return ms;
}
