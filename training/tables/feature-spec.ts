import { z } from 'zod';
import { InvalidArgumentError } from '../../core/errors.ts';
import { dayNumber } from '../../domain/dates.ts';
import { Rng } from '../../core/random.ts';
import type { TableRow } from './table-reader.ts';

/**
 * Declarative feature spec for claim-like tables (docs/feature-spec.md): which columns become
 * which numbers. `TableEncoder.fit` learns what the spec needs from training rows (medians,
 * category lists, frequencies, target rates) and then turns any row into the same vector, so the
 * fitted encoder (JSON) is all scoring needs: no train/serve skew.
 */

const column = z.string().min(1);
const NumericFeature = z.strictObject({
  type: z.literal('numeric'),
  /** Columns read as numbers. */
  columns: z.array(column).min(1),
  /** `log1p` of the absolute value, sign kept (for heavy-tailed amounts). Default false. */
  log: z.boolean().default(false),
  /** Value for missing / non-numeric cells: the training median (default) or zero. */
  impute: z.enum(['median', 'zero']).default('median'),
  /** Also emit `<column>__missing` (1 when the cell was missing). Default false. */
  indicator: z.boolean().default(false),
});
const CategoricalFeature = z.strictObject({
  type: z.literal('categorical'),
  column,
  /**
   * `onehot`: one 0/1 feature per frequent category plus `__other` (rare and unseen values);
   * `frequency`: the category's share of training rows (0 when unseen);
   * `target`: smoothed fraud rate (n * rate + m * prior) / (n + m), prior when unseen; training
   * rows get out-of-fold values so a row never sees its own label.
   */
  encoding: z.enum(['onehot', 'frequency', 'target']),
  /** onehot: keep at most this many categories (most frequent first). Default 20. */
  maxCategories: z.number().int().positive().default(20),
  /** onehot: categories seen fewer times go to `__other`. Default 5. */
  minCount: z.number().int().positive().default(5),
  /** target: smoothing strength m (pseudo-rows at the prior). Default 20. */
  smoothing: z.number().nonnegative().default(20),
});
const OrdinalFeature = z.strictObject({
  type: z.literal('ordinal'),
  /** Emitted as `<column>__rank`: the category's rank (0 = lowest). */
  column,
  /**
   * Categories from lowest to highest; a category not listed counts as missing. Without it,
   * every category is ranked by the number it names ("31 to 35" by 31, "less than 20" just below
   * 20, "more than 69000" just above 69000): training categories in that order, and an unseen
   * category between them at the rank of the next seen one.
   */
  order: z.array(z.string().min(1)).min(2).optional(),
  /** Value for a missing (or, with `order`, unlisted) cell. Default -1. */
  missing: z.number().finite().default(-1),
});
const DateFeature = z.strictObject({
  type: z.literal('date'),
  column,
  /** `iso` (YYYY-MM-DD, time ignored) or `mdy` (M/D/YYYY). Default iso. */
  format: z.enum(['iso', 'mdy']).default('iso'),
  /** Parts to emit; missing dates give -1. Default day of week (0 = Monday). */
  parts: z.array(z.enum(['dayOfWeek', 'dayOfMonth', 'month', 'year', 'weekend'])).min(1).default(['dayOfWeek']),
});
const IntervalFeature = z.strictObject({
  type: z.literal('interval'),
  /** Emitted as `<name>`: days from `from` to `to` (negative when `to` is earlier). */
  name: column,
  from: column,
  to: column,
  format: z.enum(['iso', 'mdy']).default('iso'),
  /** Value when either date is missing. Default 0. */
  missing: z.number().finite().default(0),
});
const CodeListFeature = z.strictObject({
  type: z.literal('codeList'),
  /** One cell holding codes separated by `separator`, or several columns each holding one code. */
  columns: z.array(column).min(1),
  separator: z.string().min(1).default(';'),
  /** Emit `<name>__count`: number of non-missing codes. Default true. */
  count: z.boolean().default(true),
  /** Name used in the emitted feature names. */
  name: column,
  /** Code sets: `<name>__<set>` = number of codes in the set. A trailing `*` matches a prefix. */
  sets: z.record(z.string().regex(/^[A-Za-z0-9_]+$/), z.array(z.string().min(1)).min(1)).default({}),
});

export const FeatureSpecSchema = z.strictObject({
  format: z.literal('claimtrail-feature-spec-v1'),
  description: z.string().optional(),
  /** Cell values that mean "missing" (besides empty cells, null and undefined). Default ['?', 'NA', 'NaN']. */
  missing: z.array(z.string()).default(['?', 'NA', 'NaN']),
  features: z.array(z.discriminatedUnion('type', [NumericFeature, CategoricalFeature, OrdinalFeature, DateFeature, IntervalFeature, CodeListFeature])).min(1),
});

export type FeatureSpec = z.infer<typeof FeatureSpecSchema>;
type FeatureDef = FeatureSpec['features'][number];

/**
 * Validates a spec (JSON already parsed).
 * @throws InvalidArgumentError listing every problem with its path.
 */
export function parseFeatureSpec(json: unknown): FeatureSpec {
  const parsed = FeatureSpecSchema.safeParse(json);
  if (!parsed.success) throw new InvalidArgumentError(`invalid feature spec: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** What fitting learned for one feature definition (JSON-serialisable). */
type Fitted =
  | { kind: 'numeric'; medians: number[] }
  | { kind: 'onehot'; categories: string[] }
  | { kind: 'frequency'; shares: Record<string, number> }
  | { kind: 'target'; rates: Record<string, number>; prior: number }
  /** Ordinal: the ascending keys of the ranked categories (explicit order: 0..n-1). */
  | { kind: 'ordinal'; keys: number[] }
  | { kind: 'none' };

export interface EncoderJson {
  spec: FeatureSpec;
  fitted: Fitted[];
  names: string[];
}

const MISSING_DATE = -1;

/** A fitted spec: turns rows into feature vectors. Build with `fit`, or `fromJson` from a bundle. */
export class TableEncoder {
  readonly spec: FeatureSpec;
  /** Feature names in vector order. */
  readonly names: readonly string[];
  readonly #fitted: Fitted[];
  readonly #missing: ReadonlySet<string>;

  private constructor(spec: FeatureSpec, fitted: Fitted[], names: string[]) {
    this.spec = spec;
    this.#fitted = fitted;
    this.names = names;
    this.#missing = new Set(spec.missing);
  }

  /**
   * Fits the spec on training rows. Returns the encoder and the training matrix, in which target
   * encodings are out-of-fold (`folds` folds shuffled with `seed`), as the module doc says.
   * @throws InvalidArgumentError when a column the spec names is absent from every row.
   */
  static fit(specJson: FeatureSpec, rows: readonly TableRow[], labels: ArrayLike<number>, options: { seed: number; folds?: number }): { encoder: TableEncoder; matrix: Float64Array } {
    const spec = parseFeatureSpec(specJson);
    const missing = new Set(spec.missing);
    for (const col of referencedColumns(spec)) {
      if (!rows.some((r) => col in r)) throw new InvalidArgumentError(`feature spec names column ${col}, which the data does not have`);
    }
    const fitted: Fitted[] = spec.features.map((def) => fitOne(def, rows, labels, missing));
    const names = spec.features.flatMap((def, i) => namesOf(def, fitted[i] as Fitted));
    const encoder = new TableEncoder(spec, fitted, names);
    const matrix = encoder.transform(rows);
    // Out-of-fold target encodings for the training rows.
    const folds = options.folds ?? 5;
    const targets = spec.features.map((d, i) => ({ d, i })).filter(({ d }) => d.type === 'categorical' && d.encoding === 'target');
    if (targets.length > 0) {
      const order = Array.from({ length: rows.length }, (_, i) => i);
      new Rng(options.seed).shuffle(order);
      const foldOf = new Int32Array(rows.length);
      order.forEach((row, k) => (foldOf[row] = k % folds));
      const offsets = encoder.#offsets();
      for (let f = 0; f < folds; f++) {
        const inFold = order.filter((r) => foldOf[r] === f);
        const outFold = order.filter((r) => foldOf[r] !== f);
        for (const { d, i } of targets) {
          const def = d as Extract<FeatureDef, { type: 'categorical' }>;
          const part = fitTarget(def, outFold.map((r) => rows[r] as TableRow), outFold.map((r) => labels[r] as number), missing);
          for (const r of inFold) matrix[r * names.length + (offsets[i] as number)] = targetValue(part, categoryOf(rows[r] as TableRow, def.column, missing));
        }
      }
    }
    return { encoder, matrix };
  }

  /** Rebuilds a fitted encoder from `toJSON()` output. @throws InvalidArgumentError if invalid. */
  static fromJson(json: unknown): TableEncoder {
    const j = json as EncoderJson;
    const spec = parseFeatureSpec(j?.spec);
    if (!Array.isArray(j.fitted) || j.fitted.length !== spec.features.length || !Array.isArray(j.names)) throw new InvalidArgumentError('encoder JSON does not match its spec');
    const names = spec.features.flatMap((def, i) => namesOf(def, j.fitted[i] as Fitted));
    if (names.join('\n') !== j.names.join('\n')) throw new InvalidArgumentError('encoder JSON feature names do not match its spec');
    return new TableEncoder(spec, j.fitted, names);
  }

  toJSON(): EncoderJson {
    return { spec: this.spec, fitted: this.#fitted, names: [...this.names] };
  }

  /** Start index of each feature definition's block in the vector. */
  #offsets(): number[] {
    let at = 0;
    return this.spec.features.map((def, i) => {
      const start = at;
      at += namesOf(def, this.#fitted[i] as Fitted).length;
      return start;
    });
  }

  /** Row-major matrix (`rows.length` x `names.length`); every value finite. */
  transform(rows: readonly TableRow[]): Float64Array {
    const width = this.names.length;
    const out = new Float64Array(rows.length * width);
    rows.forEach((row, r) => {
      let k = r * width;
      this.spec.features.forEach((def, i) => {
        const fit = this.#fitted[i] as Fitted;
        switch (def.type) {
          case 'numeric':
            def.columns.forEach((col, c) => {
              const v = numberOf(row[col], this.#missing);
              const filled = Number.isNaN(v) ? (def.impute === 'zero' ? 0 : ((fit as { medians: number[] }).medians[c] as number)) : v;
              out[k++] = def.log ? Math.sign(filled) * Math.log1p(Math.abs(filled)) : filled;
              if (def.indicator) out[k++] = Number.isNaN(v) ? 1 : 0;
            });
            break;
          case 'categorical': {
            const cat = categoryOf(row, def.column, this.#missing);
            if (fit.kind === 'onehot') {
              const at = cat === undefined ? -1 : fit.categories.indexOf(cat);
              for (let c = 0; c < fit.categories.length; c++) out[k++] = c === at ? 1 : 0;
              out[k++] = at < 0 ? 1 : 0;
            } else if (fit.kind === 'frequency') out[k++] = cat === undefined ? 0 : (fit.shares[cat] ?? 0);
            else if (fit.kind === 'target') out[k++] = targetValue(fit, cat);
            break;
          }
          case 'ordinal': {
            const cat = categoryOf(row, def.column, this.#missing);
            const key = cat === undefined ? NaN : ordinalKey(def, cat);
            out[k++] = Number.isNaN(key) ? def.missing : rankOf((fit as { keys: number[] }).keys, key);
            break;
          }
          case 'date': {
            const day = dateOf(row[def.column], def.format, this.#missing);
            for (const part of def.parts) out[k++] = day === undefined ? MISSING_DATE : datePart(day, part);
            break;
          }
          case 'interval': {
            const from = dateOf(row[def.from], def.format, this.#missing);
            const to = dateOf(row[def.to], def.format, this.#missing);
            out[k++] = from === undefined || to === undefined ? def.missing : to - from;
            break;
          }
          case 'codeList': {
            const codes = codesOf(row, def.columns, def.separator, this.#missing);
            if (def.count) out[k++] = codes.length;
            for (const members of Object.values(def.sets)) out[k++] = codes.filter((c) => members.some((m) => (m.endsWith('*') ? c.startsWith(m.slice(0, -1)) : c === m))).length;
            break;
          }
        }
      });
    });
    return out;
  }
}

function referencedColumns(spec: FeatureSpec): string[] {
  return spec.features.flatMap((d) => (d.type === 'numeric' || d.type === 'codeList' ? d.columns : d.type === 'interval' ? [d.from, d.to] : [d.column]));
}

function isMissing(v: unknown, missing: ReadonlySet<string>): boolean {
  return v === undefined || v === null || (typeof v === 'string' && (v.trim() === '' || missing.has(v.trim())));
}

function numberOf(v: unknown, missing: ReadonlySet<string>): number {
  if (isMissing(v, missing)) return NaN;
  const n = typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : Number(String(v).trim());
  return Number.isFinite(n) ? n : NaN;
}

function categoryOf(row: TableRow, column: string, missing: ReadonlySet<string>): string | undefined {
  const v = row[column];
  return isMissing(v, missing) ? undefined : String(v).trim();
}

function codesOf(row: TableRow, columns: readonly string[], separator: string, missing: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const col of columns) {
    const v = row[col];
    if (isMissing(v, missing)) continue;
    const parts = Array.isArray(v) ? v.map(String) : String(v).split(separator);
    for (const p of parts) if (!isMissing(p, missing)) out.push(p.trim());
  }
  return out;
}

/** Day number of a date cell, undefined when missing or unparseable. */
function dateOf(v: unknown, format: 'iso' | 'mdy', missing: ReadonlySet<string>): number | undefined {
  if (isMissing(v, missing)) return undefined;
  const s = String(v).trim();
  let iso: string;
  if (format === 'iso') {
    if (!/^\d{4}-\d{2}-\d{2}/.test(s)) return undefined;
    iso = s.slice(0, 10);
  } else {
    const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(s);
    if (!m) return undefined;
    iso = `${m[3]}-${(m[1] as string).padStart(2, '0')}-${(m[2] as string).padStart(2, '0')}`;
  }
  const month = Number(iso.slice(5, 7));
  const day = Number(iso.slice(8, 10));
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  return dayNumber(iso);
}

function datePart(day: number, part: 'dayOfWeek' | 'dayOfMonth' | 'month' | 'year' | 'weekend'): number {
  // 1970-01-01 was a Thursday (3 with Monday = 0).
  const dow = (((day + 3) % 7) + 7) % 7;
  if (part === 'dayOfWeek') return dow;
  if (part === 'weekend') return dow >= 5 ? 1 : 0;
  const date = new Date(day * 86_400_000);
  if (part === 'dayOfMonth') return date.getUTCDate();
  if (part === 'month') return date.getUTCMonth() + 1;
  return date.getUTCFullYear();
}

/**
 * The number an ordered category names, for ranking: its first number, just below it after
 * "less than" / "under" / "below" / "up to", just above it after "more than" / "over" /
 * "above" / "greater than" or with a trailing "+". NaN when it names none. With an explicit
 * order, the category's index there (NaN when unlisted).
 */
export function ordinalKey(def: { order?: string[] | undefined }, category: string): number {
  if (def.order) {
    const at = def.order.indexOf(category);
    return at < 0 ? NaN : at;
  }
  const text = category.toLowerCase();
  const m = /-?\d[\d,]*(?:\.\d+)?/.exec(text);
  if (!m) return NaN;
  const n = Number(m[0].replaceAll(',', ''));
  if (!Number.isFinite(n)) return NaN;
  if (/\b(less than|under|below|up to|fewer than)\b/.test(text)) return n - 0.5;
  if (/\b(more than|over|above|greater than)\b/.test(text) || /\+\s*$/.test(text)) return n + 0.5;
  return n;
}

/** Rank of a key among ascending fitted keys: the number of keys below it. */
function rankOf(keys: readonly number[], key: number): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as number) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function fitTarget(def: Extract<FeatureDef, { type: 'categorical' }>, rows: readonly TableRow[], labels: ArrayLike<number>, missing: ReadonlySet<string>): Extract<Fitted, { kind: 'target' }> {
  const counts = new Map<string, { n: number; pos: number }>();
  let pos = 0;
  rows.forEach((row, i) => {
    const y = labels[i] as number;
    pos += y;
    const cat = categoryOf(row, def.column, missing);
    if (cat === undefined) return;
    const c = counts.get(cat) ?? { n: 0, pos: 0 };
    c.n++;
    c.pos += y;
    counts.set(cat, c);
  });
  const prior = rows.length ? pos / rows.length : 0;
  const m = def.smoothing;
  const rates: Record<string, number> = {};
  for (const [cat, c] of counts) rates[cat] = (c.pos + m * prior) / (c.n + m);
  return { kind: 'target', rates, prior };
}

function targetValue(fit: { rates: Record<string, number>; prior: number }, cat: string | undefined): number {
  return cat === undefined ? fit.prior : (fit.rates[cat] ?? fit.prior);
}

function fitOne(def: FeatureDef, rows: readonly TableRow[], labels: ArrayLike<number>, missing: ReadonlySet<string>): Fitted {
  switch (def.type) {
    case 'numeric':
      return {
        kind: 'numeric',
        medians: def.columns.map((col) => {
          const values = rows.map((r) => numberOf(r[col], missing)).filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
          return values.length === 0 ? 0 : (values[Math.floor(values.length / 2)] as number);
        }),
      };
    case 'categorical': {
      if (def.encoding === 'target') return fitTarget(def, rows, labels, missing);
      const counts = new Map<string, number>();
      for (const r of rows) {
        const cat = categoryOf(r, def.column, missing);
        if (cat !== undefined) counts.set(cat, (counts.get(cat) ?? 0) + 1);
      }
      if (def.encoding === 'frequency') return { kind: 'frequency', shares: Object.fromEntries([...counts].map(([c, n]) => [c, n / rows.length])) };
      const categories = [...counts].filter(([, n]) => n >= def.minCount).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, def.maxCategories).map(([c]) => c);
      return { kind: 'onehot', categories };
    }
    case 'ordinal': {
      if (def.order) return { kind: 'ordinal', keys: def.order.map((_, i) => i) };
      const keys = new Set<number>();
      for (const r of rows) {
        const cat = categoryOf(r, def.column, missing);
        if (cat === undefined) continue;
        const key = ordinalKey(def, cat);
        if (Number.isNaN(key)) throw new InvalidArgumentError(`ordinal column ${def.column}: category "${cat.slice(0, 40)}" names no number to rank it by; list the categories in "order"`);
        keys.add(key);
      }
      return { kind: 'ordinal', keys: [...keys].sort((a, b) => a - b) };
    }
    default:
      return { kind: 'none' };
  }
}

function namesOf(def: FeatureDef, fit: Fitted): string[] {
  switch (def.type) {
    case 'numeric':
      return def.columns.flatMap((c) => (def.indicator ? [c, `${c}__missing`] : [c]));
    case 'categorical':
      if (fit.kind === 'onehot') return [...fit.categories.map((c) => `${def.column}=${c}`), `${def.column}=__other`];
      return [`${def.column}__${def.encoding}`];
    case 'ordinal':
      return [`${def.column}__rank`];
    case 'date':
      return def.parts.map((p) => `${def.column}__${p}`);
    case 'interval':
      return [def.name];
    case 'codeList':
      return [...(def.count ? [`${def.name}__count`] : []), ...Object.keys(def.sets).map((s) => `${def.name}__${s}`)];
  }
}
