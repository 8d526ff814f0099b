/**
 * Byte spans of JSON values, found without building them: what lets a Bundle be split into its
 * resources with each resource's bytes exactly as received (the commitment covers those bytes).
 * Works on UTF-8 bytes: multi-byte characters are all >= 0x80 and never look like JSON syntax.
 * Iterative, with a nesting limit, so hostile input cannot exhaust the stack.
 */

/** Deepest nesting read; FHIR resources in practice stay under 20. */
export const MAX_JSON_DEPTH = 64;

export class JsonSpanError extends Error {
  readonly offset: number;
  readonly tooDeep: boolean;
  constructor(message: string, offset: number, tooDeep = false) {
    super(message);
    this.offset = offset;
    this.tooDeep = tooDeep;
  }
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

export function skipWhitespace(b: Uint8Array, p: number): number {
  while (p < b.length && WS.has(b[p]!)) p++;
  return p;
}

function skipString(b: Uint8Array, p: number): number {
  // p at the opening quote.
  for (let i = p + 1; i < b.length; i++) {
    if (b[i] === 0x5c) i++;
    else if (b[i] === 0x22) return i + 1;
  }
  throw new JsonSpanError('unterminated string', p);
}

/** End (exclusive) of the JSON value starting at `p`; throws JsonSpanError on bad or too deep JSON. */
export function skipValue(b: Uint8Array, p: number, maxDepth = MAX_JSON_DEPTH): number {
  p = skipWhitespace(b, p);
  if (p >= b.length) throw new JsonSpanError('a value is missing', p);
  const c = b[p]!;
  if (c === 0x22) return skipString(b, p);
  if (c !== 0x7b && c !== 0x5b) {
    let i = p;
    while (i < b.length && !WS.has(b[i]!) && b[i] !== 0x2c && b[i] !== 0x7d && b[i] !== 0x5d) i++;
    if (i === p) throw new JsonSpanError(`unexpected '${String.fromCharCode(c)}'`, p);
    return i;
  }
  let depth = 0;
  for (let i = p; i < b.length; i++) {
    const x = b[i]!;
    if (x === 0x22) i = skipString(b, i) - 1;
    else if (x === 0x7b || x === 0x5b) {
      if (++depth > maxDepth) throw new JsonSpanError(`JSON nests deeper than ${maxDepth} levels`, i, true);
    } else if (x === 0x7d || x === 0x5d) {
      if (--depth === 0) return i + 1;
    }
  }
  throw new JsonSpanError('unterminated object or array', p);
}

/** Span of the top-level value: from its first to its last byte (BOM and surrounding blanks excluded). */
export function topLevelSpan(b: Uint8Array): [number, number] {
  let p = b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  p = skipWhitespace(b, p);
  const end = skipValue(b, p);
  if (skipWhitespace(b, end) !== b.length) throw new JsonSpanError('bytes after the JSON value', end);
  return [p, end];
}

/**
 * Spans of the `resource` member of each element of the `entry` array of the top-level object
 * (a FHIR Bundle): `[start, end)` byte offsets, in entry order; entries without `resource` are
 * skipped.
 */
export function bundleResourceSpans(b: Uint8Array, span: [number, number]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const members = (from: number, visit: (key: string, start: number, end: number) => void) => {
    let p = skipWhitespace(b, from + 1);
    if (b[p] === 0x7d) return;
    for (;;) {
      p = skipWhitespace(b, p);
      if (b[p] !== 0x22) throw new JsonSpanError('expected a member name', p);
      const keyEnd = skipString(b, p);
      const key = Buffer.from(b.subarray(p + 1, keyEnd - 1)).toString('utf8');
      p = skipWhitespace(b, keyEnd);
      if (b[p] !== 0x3a) throw new JsonSpanError("expected ':'", p);
      const start = skipWhitespace(b, p + 1);
      const end = skipValue(b, start);
      visit(key, start, end);
      p = skipWhitespace(b, end);
      if (b[p] === 0x2c) p++;
      else if (b[p] === 0x7d) return;
      else throw new JsonSpanError("expected ',' or '}'", p);
    }
  };
  if (b[span[0]] !== 0x7b) return out;
  members(span[0], (key, start) => {
    if (key !== 'entry' || b[start] !== 0x5b) return;
    let p = skipWhitespace(b, start + 1);
    if (b[p] === 0x5d) return;
    for (;;) {
      const s = skipWhitespace(b, p);
      const e = skipValue(b, s);
      if (b[s] === 0x7b) members(s, (k, rs, re) => {
        if (k === 'resource') out.push([rs, re]);
      });
      p = skipWhitespace(b, e);
      if (b[p] === 0x2c) p++;
      else if (b[p] === 0x5d) return;
      else throw new JsonSpanError("expected ',' or ']'", p);
    }
  });
  return out;
}
