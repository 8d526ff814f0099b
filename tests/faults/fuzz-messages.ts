import fc from 'fast-check';
import { generateClaims } from '../../fixtures/generator.ts';
import { MAX_CLAIM_BYTES } from '../../domain/claim.schema.ts';

/** One hostile (or valid) claims-topic message and the family it was drawn from. */
export interface FuzzMessage {
  kind: string;
  key: string | null;
  /** null: a tombstone (no value at all). */
  value: Buffer | null;
}

const hostileValue = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.integer(),
  fc.double(), // NaN and ±Infinity serialise to null
  fc.constantFrom(-1, -0.01, 1e308, -1e308, 10_000_001, 0.1 + 0.2, Number.MAX_SAFE_INTEGER + 2),
  fc.constantFrom('9999-12-31', '+275760-09-13', '275761-01-01', '2999-02-30', '0000-00-00', '1969-12-31T23:59:60Z', ''),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.anything(), { maxLength: 5 }),
  fc.object({ maxDepth: 3 }),
);

/** Raw JSON number tokens that JSON.stringify would never write (JSON.parse turns 1e999 into Infinity). */
const rawNumber = fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e999', '-1e999', '-0', '1e-400', '0x10', '00012', '1.', '.5');

const unicodeEdge = fc.constantFrom(
  '\uFEFF', '\u0000', '\u200B\u200D', '\uD800', '\uDFFF', '\uDBFF\uDFFF', 'e\u0301', '\u202E', 'İ', 'ﬃ', '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}', '\\u0000', '𝔘𝔫𝔦',
);

/**
 * Arbitrary over hostile claims-topic messages built around real claims: valid claims, fields
 * replaced by wrong types, NaN/Infinity/negative amounts, far-future dates, `__proto__` /
 * `constructor` keys, unicode edge cases, malformed or truncated JSON, deep nesting, invalid
 * UTF-8, empty and null values, and payloads around the 1 MiB limit (`huge: true` only).
 */
export function fuzzMessageArbitrary(options: { huge: boolean }): fc.Arbitrary<FuzzMessage> {
  const { claims } = generateClaims({ count: 300, seed: 99 });
  const claim = fc.constantFrom(...claims).map((c) => structuredClone(c) as unknown as Record<string, unknown>);
  const json = (kind: string, value: unknown, key: string | null = 'M1') => ({ kind, key, value: Buffer.from(JSON.stringify(value), 'utf8') });
  const text = (kind: string, value: string, key: string | null = 'M1') => ({ kind, key, value: Buffer.from(value, 'utf8') });
  const families: Array<{ weight: number; arbitrary: fc.Arbitrary<FuzzMessage> }> = [
    { weight: 10, arbitrary: claim.map((c) => json('valid', c, String(c.memberId))) },
    {
      weight: 14,
      arbitrary: fc.tuple(claim, fc.nat(), hostileValue).map(([c, i, v]) => {
        const keys = Object.keys(c);
        c[keys[i % keys.length]!] = v;
        return json('wrong-type', c);
      }),
    },
    {
      weight: 8,
      arbitrary: fc.tuple(claim, fc.nat(), fc.constantFrom('unitsx', 'chargedAmount', 'units', 'serviceDate', 'procedureCode'), hostileValue).map(([c, i, field, v]) => {
        const lines = c.lines as Array<Record<string, unknown>>;
        lines[i % lines.length]![field] = v;
        return json('wrong-line', c);
      }),
    },
    {
      weight: 6,
      arbitrary: fc.tuple(claim, fc.constantFrom('totalCharged', 'chargedAmount', 'units'), rawNumber).map(([c, field, token]) =>
        text('raw-number', JSON.stringify(c).replace(new RegExp(`"${field}":-?[0-9.e+-]+`), `"${field}":${token}`))),
    },
    {
      weight: 6,
      arbitrary: fc.tuple(claim, fc.constantFrom('9999-12-31', '+275760-09-13', '2199-01-01', '1800-01-01'), fc.constantFrom('serviceFrom', 'serviceTo', 'receivedAt')).map(([c, date, field]) => {
        c[field] = date;
        return json('far-date', c);
      }),
    },
    {
      weight: 6,
      arbitrary: fc.tuple(claim, fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'), fc.oneof(hostileValue, fc.constant({ totalCharged: -1, polluted: true }))).map(([c, key, v]) =>
        // Written as text: an object literal's __proto__ would set the prototype instead of a key.
        text('proto-key', `{${JSON.stringify(key)}:${JSON.stringify(v) ?? 'null'},${JSON.stringify(c).slice(1)}`)),
    },
    {
      weight: 6,
      arbitrary: fc.tuple(claim, fc.constantFrom('claimId', 'memberId', 'providerSpecialty', 'placeOfService'), unicodeEdge, fc.string({ unit: 'grapheme', maxLength: 8 })).map(([c, field, edge, s]) => {
        c[field] = `${s}${edge}${String(c[field] ?? '')}`;
        return json('unicode', c);
      }),
    },
    { weight: 2, arbitrary: claim.map((c) => text('bom', `\uFEFF${JSON.stringify(c)}`)) },
    { weight: 8, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((s) => text('garbage-text', s)) },
    { weight: 6, arbitrary: fc.tuple(claim, fc.nat()).map(([c, n]) => { const t = JSON.stringify(c); return text('truncated', t.slice(0, n % t.length)); }) },
    { weight: 4, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => ({ kind: 'bytes', key: null, value: Buffer.from(b) })) },
    { weight: 2, arbitrary: fc.tuple(claim, fc.integer({ min: 1, max: 50 })).map(([c, at]) => ({ kind: 'bad-utf8', key: 'M1', value: Buffer.concat([Buffer.from(JSON.stringify(c).slice(0, at)), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]) })) },
    { weight: 3, arbitrary: fc.integer({ min: 100, max: 200_000 }).map((d) => text('deep-array', `${'['.repeat(d)}${']'.repeat(d)}`)) },
    {
      weight: 3,
      arbitrary: fc.tuple(claim, fc.integer({ min: 100, max: 100_000 })).map(([c, d]) =>
        text('deep-field', `{"extra":${'{"a":'.repeat(d)}1${'}'.repeat(d)},${JSON.stringify(c).slice(1)}`)),
    },
    { weight: 1, arbitrary: fc.constantFrom<FuzzMessage>({ kind: 'empty', key: 'M1', value: Buffer.alloc(0) }, { kind: 'null', key: 'M1', value: null }) },
    { weight: 1, arbitrary: fc.constantFrom('null', 'true', '0', '""', '[]', '{}', '"claim"', '[{}]').map((t) => text('json-scalar', t)) },
  ];
  if (options.huge) {
    families.push({
      weight: 1,
      // Around the limit: just under (a valid claim padded with an unknown key) and over it.
      arbitrary: fc.tuple(claim, fc.integer({ min: -100_000, max: 100_000 })).map(([c, delta]) => {
        const base = JSON.stringify(c);
        const pad = Math.max(0, MAX_CLAIM_BYTES + delta - base.length - 12);
        return text(delta > 0 ? 'huge-over' : 'huge-under', `{"pad":"${'x'.repeat(pad)}",${base.slice(1)}`);
      }),
    });
  }
  return fc.oneof(...families);
}
