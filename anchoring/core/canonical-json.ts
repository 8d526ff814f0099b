/**
 * Canonical JSON in the style of RFC 8785 (JSON Canonicalization Scheme): one byte string per
 * JSON value, so a hash over it is a hash over the value, whatever order its keys were built in.
 *
 * Rules: object members sorted by key, comparing UTF-16 code units (JavaScript's default string
 * order, as RFC 8785 requires); no whitespace; strings and numbers exactly as ECMAScript
 * `JSON.stringify` prints them (RFC 8785 adopts that number form, and `-0` becomes `0`).
 * Only I-JSON data is accepted: null, booleans, finite numbers, well-formed strings, arrays and
 * plain objects. Anything `JSON.stringify` would silently drop, change or choke on (undefined,
 * functions, symbols, bigint, NaN/Infinity, lone surrogates, array holes, Dates, Maps, class
 * instances, cycles) is refused with {@link InvalidArgumentError} naming its path instead.
 */
import { toUtf8Bytes } from 'ethers';
import { InvalidArgumentError } from './errors.ts';

/** A lone (unpaired) UTF-16 surrogate: not valid Unicode, so not I-JSON. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Serialises `value` canonically.
 * @throws InvalidArgumentError when `value` (or anything inside it) is not I-JSON data.
 */
export function canonicalJson(value: unknown): string {
  return write(value, '$', new Set());
}

/** UTF-8 bytes of {@link canonicalJson}: what gets hashed. */
export function canonicalBytes(value: unknown): Uint8Array {
  return toUtf8Bytes(canonicalJson(value));
}

function write(value: unknown, path: string, ancestors: Set<object>): string {
  switch (typeof value) {
    case 'string':
      if (LONE_SURROGATE.test(value)) throw new InvalidArgumentError(`${path}: string holds a lone UTF-16 surrogate`);
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidArgumentError(`${path}: ${value} is not a JSON number`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      return writeContainer(value, path, ancestors);
    default:
      // undefined, function, symbol, bigint: JSON has no such value.
      throw new InvalidArgumentError(`${path}: ${typeof value} is not a JSON value`);
  }
}

function writeContainer(value: object, path: string, ancestors: Set<object>): string {
  if (ancestors.has(value)) throw new InvalidArgumentError(`${path}: circular reference`);
  ancestors.add(value);
  let out: string;
  if (Array.isArray(value)) {
    const parts: string[] = [];
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) throw new InvalidArgumentError(`${path}[${i}]: array hole`);
      parts.push(write(value[i], `${path}[${i}]`, ancestors));
    }
    out = `[${parts.join(',')}]`;
  } else {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      // Date, Map, class instances...: their JSON form depends on toJSON or is lossy.
      throw new InvalidArgumentError(`${path}: only plain objects are JSON objects`);
    }
    const record = value as Record<string, unknown>;
    // Default sort compares UTF-16 code units, which is exactly RFC 8785's key order.
    const keys = Object.keys(record).sort();
    const parts = keys.map((key) => `${write(key, `${path}.${key}`, ancestors)}:${write(record[key], `${path}.${key}`, ancestors)}`);
    out = `{${parts.join(',')}}`;
  }
  ancestors.delete(value);
  return out;
}
