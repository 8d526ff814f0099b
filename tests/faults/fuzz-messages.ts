import fc from 'fast-check';
import { generateClaims } from '../../fixtures/generator.ts';
import { MAX_CLAIM_BYTES } from '../../domain/claim.schema.ts';
import { claimToFhir } from '../../fixtures/fhir-writer.ts';
import { asDentalClaim, writeX12 } from '../../fixtures/x12-writer.ts';
import { x12Messages } from '../../ingest/insurer-files.ts';

/** One hostile (or valid) claims-topic message and the family it was drawn from. */
export interface FuzzMessage {
  kind: string;
  key: string | null;
  /** null: a tombstone (no value at all). */
  value: Buffer | null;
  /** Message headers (`content-type`, `x-x12-positions`); absent: own JSON. */
  headers?: Record<string, string>;
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
  families.push(...insurerFamilies(claims, options));
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

const X12 = 'application/edi-x12';
const FHIR = 'application/fhir+json';

/**
 * X12 837 claim slices and FHIR R4 resources, valid and hostile, with their content types:
 * truncated slices and interchanges, wrong or mixed delimiters, terminators with and without line
 * breaks (and CR terminators), whole interchanges whose counts lie sent where a slice belongs,
 * lying position headers, non-ASCII and NUL bytes, UTF-16, bit flips; FHIR resources with wrong
 * types, non-ASCII ids, deep nesting, truncation, Bundles sent as one claim (big ones in `huge`
 * mode), and formats under the wrong content type.
 */
function insurerFamilies(claims: ReturnType<typeof generateClaims>['claims'], options: { huge: boolean }): Array<{ weight: number; arbitrary: fc.Arbitrary<FuzzMessage> }> {
  const professional = claims.filter((c) => c.claimType === 'professional');
  const institutional = claims.filter((c) => c.claimType === 'institutional');
  const interchanges = [
    writeX12(professional.slice(0, 40), 'professional', { control: 101 }),
    writeX12(institutional.slice(0, 20), 'institutional', { control: 102, lineBreaks: true }),
    writeX12(professional.slice(40, 60).map(asDentalClaim), 'dental', { control: 103, claimsPerSet: 5 }),
  ];
  const slices = interchanges.flatMap((b) => x12Messages(b, 'fuzz.837').filter((m) => m.route === 'claims'));
  const slice = fc.constantFrom(...slices);
  const x12 = (kind: string, value: Buffer, positions?: string): FuzzMessage => ({ kind, key: 'M1', value, headers: { 'content-type': X12, ...(positions ? { 'x-x12-positions': positions } : {}) } });
  const latin1 = (b: Buffer) => b.toString('latin1');
  const resource = fc.constantFrom(...professional.slice(0, 60), ...institutional.slice(0, 20)).map((c) => claimToFhir(c));
  const fhir = (kind: string, value: string | Buffer): FuzzMessage => ({ kind, key: 'M1', value: Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8'), headers: { 'content-type': FHIR } });
  const families: Array<{ weight: number; arbitrary: fc.Arbitrary<FuzzMessage> }> = [
    { weight: 6, arbitrary: slice.map((m) => x12('x12-valid', m.value, m.headers['x-x12-positions'])) },
    { weight: 3, arbitrary: fc.tuple(slice, fc.nat()).map(([m, n]) => x12('x12-truncated', m.value.subarray(0, n % m.value.length), m.headers['x-x12-positions'])) },
    {
      weight: 3,
      arbitrary: fc.tuple(slice, fc.nat(), fc.constantFrom('|', '^', ':', '~', '*', '\n', '>')).map(([m, n, d]) => {
        // One delimiter swapped for another: a segment id swallowed, two segments merged, an element split.
        const text = latin1(m.value);
        const at = [...text.matchAll(/[*~:]/g)].map((x) => x.index);
        const i = at[n % at.length]!;
        return x12('x12-delimiters', Buffer.from(text.slice(0, i) + d + text.slice(i + 1), 'latin1'), m.headers['x-x12-positions']);
      }),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(slice, fc.constantFrom('~\n', '~\r\n', '~\r', '\r', '~ \t\n  ')).map(([m, t]) => x12('x12-line-breaks', Buffer.from(latin1(m.value).replaceAll('~', t), 'latin1'), m.headers['x-x12-positions'])),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.constantFrom(...interchanges), fc.constantFrom<[RegExp, string]>([/SE\*(\d+)/, 'SE*9999'], [/GE\*\d+/, 'GE*7'], [/IEA\*\d+/, 'IEA*3'], [/HL\*2\*1/, 'HL*2*9'], [/ST\*837\*\d+/, 'ST*837*X'])).map(([b, [from, to]]) =>
        // A whole interchange whose counts lie, where a claim slice belongs.
        x12('x12-lying-counts', Buffer.from(latin1(b).replace(from, to), 'latin1'))),
    },
    { weight: 1, arbitrary: fc.tuple(slice, fc.constantFrom('1-99999', '1-2,3-1', 'x', '1-1000001', '')).map(([m, p]) => x12('x12-lying-positions', m.value, p)) },
    {
      weight: 2,
      arbitrary: fc.tuple(slice, fc.nat(), fc.constantFrom(Buffer.from('Smíth', 'utf8'), Buffer.from([0xff, 0xfe]), Buffer.from([0x00]), Buffer.from('名前', 'utf8'), Buffer.from([0xc3, 0x28]))).map(([m, n, bytes]) => {
        const at = (n % (m.value.length - 1)) + 1;
        return x12('x12-non-ascii', Buffer.concat([m.value.subarray(0, at), bytes, m.value.subarray(at)]), m.headers['x-x12-positions']);
      }),
    },
    { weight: 1, arbitrary: slice.map((m) => x12('x12-utf16', Buffer.from(latin1(m.value), 'utf16le'))) },
    {
      weight: 3,
      arbitrary: fc.tuple(slice, fc.array(fc.tuple(fc.nat(), fc.constantFrom(0x7e, 0x2a, 0x3a, 0x0d, 0x0a, 0x00, 0xff, 0x41, 0x39)), { minLength: 1, maxLength: 6 })).map(([m, edits]) => {
        const b = Buffer.from(m.value);
        for (const [at, v] of edits) b[at % b.length] = v;
        return x12('x12-mutated', b, m.headers['x-x12-positions']);
      }),
    },
    { weight: 5, arbitrary: resource.map((r) => fhir('fhir-valid', JSON.stringify(r))) },
    {
      weight: 3,
      arbitrary: fc.tuple(resource, fc.constantFrom('status', 'use', 'type', 'patient', 'provider', 'item', 'total', 'billablePeriod', 'diagnosis', 'identifier', 'resourceType'), hostileValue).map(([r, key, v]) => fhir('fhir-wrong-type', JSON.stringify({ ...r, [key]: v }))),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(resource, unicodeEdge, fc.string({ unit: 'grapheme', maxLength: 6 })).map(([r, edge, s]) => fhir('fhir-non-ascii', JSON.stringify({ ...r, identifier: [{ system: 'urn:x', value: `${s}${edge}C1` }] }))),
    },
    { weight: 2, arbitrary: fc.tuple(resource, fc.integer({ min: 50, max: 50_000 })).map(([r, d]) => fhir('fhir-deep', `{"extension":[${'{"extension":['.repeat(d)}${']}'.repeat(d)}],${JSON.stringify(r).slice(1)}`)) },
    { weight: 2, arbitrary: fc.tuple(resource, fc.nat()).map(([r, n]) => { const t = JSON.stringify(r); return fhir('fhir-truncated', t.slice(0, n % t.length)); }) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.array(resource, { minLength: 0, maxLength: 30 }), fc.integer({ min: 0, max: options.huge ? 5000 : 200 })).map(([rs, patients]) =>
        // A Bundle where one resource belongs: the producer splits Bundles, the topic takes resources.
        fhir('fhir-bundle', JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [...rs.map((resource) => ({ resource })), ...Array.from({ length: patients }, (_, i) => ({ resource: { resourceType: 'Patient', id: `p${i}`, name: [{ family: 'x'.repeat(200) }] } }))] }))),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(slice, resource, fc.constantFrom(FHIR, X12, 'text/plain', 'application/json', 'APPLICATION/EDI-X12; charset=latin1', '')).map(([m, r, type]) => ({
        kind: 'content-type-mismatch', key: 'M1', value: type === FHIR || type === '' ? m.value : Buffer.from(JSON.stringify(r)), headers: { 'content-type': type },
      })),
    },
  ];
  return families;
}
