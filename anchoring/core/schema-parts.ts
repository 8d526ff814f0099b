/**
 * zod building blocks shared by the proof-bundle schemas (v1 in proof-bundle.ts, v2 in
 * proof-bundle-v2.ts) and the one loading routine behind both loaders: JSON text or value in,
 * every problem listed, a deeply frozen value out.
 */
import { z } from 'zod';
import { BundleFormatError } from './errors.ts';
import { UINT32_MAX, UINT64_MAX } from './validate.ts';

/** Longest proof accepted: a uint32 leaf count never needs more than 32 levels; keeps hostile input cheap. */
export const MAX_PROOF_LENGTH = 64;

export const bytes32Hex = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be 0x followed by 64 hex digits');
export const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be 0x followed by 40 hex digits');
export const uint64Decimal = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,19})$/, 'must be a decimal string without sign or leading zeros')
  .refine((s) => BigInt(s) <= UINT64_MAX, 'must be at most 2^64-1')
  .meta({ description: 'Unsigned 64-bit integer as a decimal string (JSON numbers cannot hold 64 bits exactly).' });
export const uint32 = z.number().int().min(0).max(UINT32_MAX);
export const topicName = z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, 'must be a Kafka topic name (1-249 of [a-zA-Z0-9._-])');
export const isoInstant = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, 'must look like 2024-05-01T12:00:00.000Z')
  .meta({ description: 'UTC time exactly as JavaScript Date.toISOString() prints it.' });
export const proofArray = z.array(bytes32Hex).max(MAX_PROOF_LENGTH);

/**
 * Parses `json` (a parsed value or JSON text) with `schema`.
 * @returns the parsed value, deeply frozen.
 * @throws BundleFormatError listing every problem as `path: message`.
 */
export function parseBundle<S extends z.ZodType>(schema: S, json: unknown): z.output<S> {
  const parsed = schema.safeParse(parseText(json));
  if (!parsed.success) {
    throw new BundleFormatError(
      parsed.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`),
      { cause: parsed.error },
    );
  }
  return deepFreeze(parsed.data);
}

/**
 * JSON text to a value; anything else is returned as is.
 * @throws BundleFormatError when the text is not JSON.
 */
export function parseText(json: unknown): unknown {
  if (typeof json !== 'string') return json;
  try {
    return JSON.parse(json);
  } catch (error) {
    throw new BundleFormatError([`not JSON: ${(error as Error).message}`], { cause: error });
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
