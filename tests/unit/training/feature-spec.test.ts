import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseFeatureSpec, TableEncoder } from '../../../training/tables/feature-spec.ts';
import { readLabels, readTable, type TableRow } from '../../../training/tables/table-reader.ts';

const spec = parseFeatureSpec({
  format: 'claimtrail-feature-spec-v1',
  features: [
    { type: 'numeric', columns: ['amount'], log: true, indicator: true },
    { type: 'categorical', column: 'color', encoding: 'onehot', minCount: 2 },
    { type: 'categorical', column: 'color', encoding: 'frequency' },
    { type: 'categorical', column: 'city', encoding: 'target', smoothing: 2 },
    { type: 'date', column: 'day', parts: ['dayOfWeek', 'month', 'weekend'] },
    { type: 'interval', name: 'stay', from: 'day', to: 'until', missing: -5 },
    { type: 'codeList', name: 'dx', columns: ['codes'], sets: { diabetes: ['E11*'], flu: ['J10'] } },
  ],
});

const rows: TableRow[] = [
  { amount: '100', color: 'red', city: 'a', day: '2024-03-04', until: '2024-03-06', codes: 'E11.9;J10' },
  { amount: '?', color: 'red', city: 'a', day: '2024-03-09', until: '', codes: '' },
  { amount: '10', color: 'blue', city: 'b', day: '?', until: '2024-01-01', codes: 'E119' },
  { amount: '1', color: 'blue', city: 'b', day: '2024-12-25', until: '2024-12-24', codes: 'Z00' },
  { amount: '5', color: 'green', city: 'a', day: '2024-03-04', until: '2024-03-04', codes: 'J10;J10' },
];
const labels = [1, 1, 0, 0, 1];

describe('parseFeatureSpec', () => {
  it('applies defaults and reports every problem with its path', () => {
    expect(spec.missing).toEqual(['?', 'NA', 'NaN']);
    let message = '';
    try {
      parseFeatureSpec({ format: 'claimtrail-feature-spec-v1', features: [{ type: 'categorical', column: 'x', encoding: 'bogus' }, { type: 'numeric', columns: [] }] });
    } catch (error) {
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' });
      message = (error as Error).message;
    }
    expect(message).toMatch(/features\.0\.encoding/);
    expect(message).toMatch(/features\.1\.columns/);
  });
});

describe('TableEncoder', () => {
  const { encoder, matrix } = TableEncoder.fit(spec, rows, labels, { seed: 1, folds: 2 });
  const names = encoder.names;
  const at = (r: number, name: string): number => matrix[r * names.length + names.indexOf(name)]!;

  it('names every feature', () => {
    expect(names).toEqual(['amount', 'amount__missing', 'color=blue', 'color=red', 'color=__other', 'color__frequency', 'city__target', 'day__dayOfWeek', 'day__month', 'day__weekend', 'stay', 'dx__count', 'dx__diabetes', 'dx__flu']);
  });

  it('encodes numerics (log, median imputation, indicator), one-hot with __other, frequency, dates, intervals, code lists', () => {
    expect(at(0, 'amount')).toBeCloseTo(Math.log1p(100), 12);
    // median of 100, 10, 1, 5 (upper middle) = 10
    expect(at(1, 'amount')).toBeCloseTo(Math.log1p(10), 12);
    expect(at(1, 'amount__missing')).toBe(1);
    expect([at(4, 'color=blue'), at(4, 'color=red'), at(4, 'color=__other')]).toEqual([0, 0, 1]);
    expect(at(0, 'color__frequency')).toBeCloseTo(0.4, 12);
    expect(at(0, 'day__dayOfWeek')).toBe(0); // 2024-03-04 was a Monday
    expect(at(1, 'day__weekend')).toBe(1);
    expect(at(0, 'day__month')).toBe(3);
    expect(at(2, 'day__dayOfWeek')).toBe(-1);
    expect(at(0, 'stay')).toBe(2);
    expect(at(3, 'stay')).toBe(-1);
    expect(at(1, 'stay')).toBe(-5);
    expect([at(0, 'dx__count'), at(0, 'dx__diabetes'), at(0, 'dx__flu')]).toEqual([2, 1, 1]);
    expect([at(2, 'dx__diabetes'), at(4, 'dx__flu'), at(1, 'dx__count')]).toEqual([1, 2, 0]);
  });

  it('target-encodes training rows out of fold and new rows with the full fit (unseen -> prior)', () => {
    const fresh = encoder.transform([{ city: 'a' }, { city: 'zzz' }]);
    const k = names.indexOf('city__target');
    const prior = 3 / 5;
    // city a: 3 rows, all fraud: (3 + 2 * 0.6) / (3 + 2)
    expect(fresh[k]).toBeCloseTo((3 + 2 * prior) / 5, 12);
    expect(fresh[names.length + k]).toBeCloseTo(prior, 12);
    // Out of fold: the training row's value never equals the full-data value for city a.
    expect(at(0, 'city__target')).not.toBeCloseTo((3 + 2 * prior) / 5, 6);
  });

  it('round-trips through JSON and gives the same vectors', () => {
    const again = TableEncoder.fromJson(JSON.parse(JSON.stringify(encoder.toJSON())));
    expect(Array.from(again.transform(rows))).toEqual(Array.from(encoder.transform(rows)));
    expect(() => TableEncoder.fromJson({ ...encoder.toJSON(), names: ['x'] })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('refuses a spec naming a column the data lacks', () => {
    const bad = parseFeatureSpec({ format: 'claimtrail-feature-spec-v1', features: [{ type: 'numeric', columns: ['nope'] }] });
    expect(() => TableEncoder.fit(bad, rows, labels, { seed: 1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('readTable / readLabels', () => {
  let dir = '';
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads CSV and NDJSON and parses binary labels', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'claimtrail-table-'));
    await writeFile(path.join(dir, 't.csv'), 'a,label,_c39\n1,Y,\n2,N,\n');
    await writeFile(path.join(dir, 't.ndjson'), '{"a":1,"label":1}\n\n{"a":2,"label":false}\n');
    const csv = await readTable(path.join(dir, 't.csv'));
    expect(csv.columns).toEqual(['a', 'label', '_c39']);
    expect(Array.from(readLabels(csv.rows, 'label'))).toEqual([1, 0]);
    const nd = await readTable(path.join(dir, 't.ndjson'));
    expect(Array.from(readLabels(nd.rows, 'label'))).toEqual([1, 0]);
    expect(() => readLabels([{ label: 'maybe' }], 'label')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    await expect(readTable(path.join(dir, 'missing.csv'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('ordinal features', () => {
  const ordinal = parseFeatureSpec({
    format: 'claimtrail-feature-spec-v1',
    features: [
      { type: 'ordinal', column: 'age' },
      { type: 'ordinal', column: 'price' },
      { type: 'ordinal', column: 'size', order: ['small', 'medium', 'large'], missing: -9 },
    ],
  });
  const train: TableRow[] = [
    { age: '31 to 35', price: 'more than 69000', size: 'large' },
    { age: '16 to 17', price: 'less than 20000', size: 'small' },
    { age: '65+', price: '20000 to 29000', size: 'medium' },
    { age: '21 to 25', price: '30000 to 39000', size: '?' },
    { age: '?', price: '60000 to 69000', size: 'huge' },
  ];

  it('maps ordered categories to their ranks (numbers named, or the order given); missing and unlisted to the missing value', () => {
    const { encoder, matrix } = TableEncoder.fit(ordinal, train, [1, 0, 1, 0, 0], { seed: 1 });
    expect(encoder.names).toEqual(['age__rank', 'price__rank', 'size__rank']);
    expect(Array.from(matrix)).toEqual([2, 4, 2, 0, 0, 0, 3, 1, 1, 1, 2, -9, -1, 3, -9]);
    // Unseen categories between seen ones take the next seen one's rank; beyond all, one past the last.
    const unseen = encoder.transform([{ age: '26 to 30', price: 'more than 99000', size: 'medium' }]);
    expect(Array.from(unseen)).toEqual([2, 5, 1]);
    // Round trip through the bundle's JSON.
    const again = TableEncoder.fromJson(JSON.parse(JSON.stringify(encoder.toJSON())));
    expect(Array.from(again.transform(train))).toEqual(Array.from(encoder.transform(train)));
  });

  it('refuses a category that names no number unless the spec lists the order', () => {
    expect(() => TableEncoder.fit(parseFeatureSpec({ format: 'claimtrail-feature-spec-v1', features: [{ type: 'ordinal', column: 'age' }] }), [{ age: '31 to 35' }, { age: 'new' }], [1, 0], { seed: 1 })).toThrow(/ordinal column age: category "new" names no number/);
    expect(() => parseFeatureSpec({ format: 'claimtrail-feature-spec-v1', features: [{ type: 'ordinal', column: 'age', order: ['only'] }] })).toThrow(/invalid feature spec/);
  });
});
