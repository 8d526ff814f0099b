/**
 * X12 bytes -> segments, with the byte range of every segment kept, because the commitment covers
 * the insurer's bytes (docs/formats.md "X12 claim slice"). node-x12 tokenizes too, but returns
 * parsed segments without their byte ranges and builds an object per element; this reader keeps
 * boundaries in typed arrays (a 50 MiB interchange is ~1.7 M segments) and splits elements only
 * for the segments a caller asks about.
 *
 * The text is read as latin1, so one character is one byte and string offsets are byte offsets;
 * non-ASCII bytes (UTF-8 names) pass through untouched.
 */

/** The four separators of an interchange, read from its ISA segment (char codes). */
export interface X12Delimiters {
  element: string;
  component: string;
  /** ISA11 in version 00501 and later; null for older versions (ISA11 is then a standards id). */
  repetition: string | null;
  segment: string;
}

/** A problem found while reading bytes as X12; `code` is a stable DLQ reason. */
export interface X12ReadError {
  code: X12ReadErrorCode;
  message: string;
  /** Byte offset in the input where it was found. */
  offset: number;
  /** TA1 interchange note code (X12.56 I18) a clearinghouse would send back. */
  ta1: string;
}

export type X12ReadErrorCode = 'X12_NOT_X12' | 'X12_ENCODING' | 'X12_ISA_INVALID' | 'X12_DELIMITERS_INVALID' | 'X12_SEGMENT_INVALID' | 'X12_TRUNCATED';

/** Segments of one input: boundaries only; ids and elements read on demand. */
export class SegmentTable {
  /** The whole input as latin1 (offset = byte offset). */
  readonly text: string;
  /** The input bytes `text` was read from (same offsets). */
  readonly bytes: Buffer;
  readonly delimiters: X12Delimiters;
  /** Offset of the first byte of segment i (its id), and of its terminator. */
  readonly starts: Uint32Array;
  readonly ends: Uint32Array;
  readonly count: number;
  /**
   * Segment ids, interned: `idNames[idCodes[i]]` is the id of segment i. The tokenizer reads every
   * id once anyway; keeping it saves the envelope walk, the HL walk and the mapper from reading it
   * again (three times per segment), and an interned id costs two bytes, not a string.
   */
  readonly #idCodes: Uint16Array;
  readonly #idNames: readonly string[];

  constructor(bytes: Buffer, text: string, delimiters: X12Delimiters, starts: Uint32Array, ends: Uint32Array, count: number, idCodes: Uint16Array, idNames: readonly string[]) {
    this.bytes = bytes;
    this.text = text;
    this.delimiters = delimiters;
    this.starts = starts;
    this.ends = ends;
    this.count = count;
    this.#idCodes = idCodes;
    this.#idNames = idNames;
  }

  /** Segment id (ISA, GS, CLM ...). */
  id(i: number): string {
    return this.#idNames[this.#idCodes[i]!]!;
  }

  /** Elements of segment i; index 0 is the id, so `elements(i)[1]` is element 01. */
  elements(i: number): string[] {
    return this.text.slice(this.starts[i]!, this.ends[i]!).split(this.delimiters.element);
  }

  /** The segment's own text, without terminator (latin1). */
  raw(i: number): string {
    return this.text.slice(this.starts[i]!, this.ends[i]!);
  }
}

const ISA_LENGTH = 106;
/** Offsets of the 16 element separators in a fixed-length ISA segment. */
const ISA_SEPARATORS = [3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103];

/**
 * Reads the delimiters from the ISA segment at `at`: element separator = byte 3, component
 * separator = ISA16 (byte 104), segment terminator = byte 105, repetition separator = ISA11 from
 * version 00501 on. The ISA is fixed-length (106 bytes): a shorter or padded one is refused, as a
 * clearinghouse does (TA1 code 023/024).
 */
export function readDelimiters(text: string, at: number): { delimiters: X12Delimiters } | { error: X12ReadError } {
  if (text.length - at < ISA_LENGTH) return { error: { code: 'X12_TRUNCATED', message: `the ISA segment needs ${ISA_LENGTH} bytes; ${text.length - at} remain`, offset: at, ta1: '024' } };
  const element = text[at + 3]!;
  for (const p of ISA_SEPARATORS) {
    if (text[at + p] !== element) {
      return { error: { code: 'X12_ISA_INVALID', message: `ISA is not fixed-length: byte ${p} should be the element separator '${printable(element)}' but is '${printable(text[at + p]!)}'`, offset: at + p, ta1: '026' } };
    }
  }
  const component = text[at + 104]!;
  const segment = text[at + 105]!;
  const version = text.slice(at + 84, at + 89);
  const repetition = version >= '00501' ? text[at + 82]! : null;
  const chosen = [element, component, segment, ...(repetition === null ? [] : [repetition])];
  const distinct = new Set(chosen).size === chosen.length;
  const bad = chosen.find((c) => /[A-Za-z0-9 ]/.test(c));
  if (!distinct || bad !== undefined) {
    return {
      error: {
        code: 'X12_DELIMITERS_INVALID',
        message: `delimiters must be distinct and not letters, digits or spaces: element '${printable(element)}', component '${printable(component)}', repetition '${repetition === null ? '-' : printable(repetition)}', segment '${printable(segment)}'`,
        offset: at + 104,
        ta1: component === element || (repetition !== null && component === repetition) ? '027' : '026',
      },
    };
  }
  return { delimiters: { element, component, repetition, segment } };
}

/** A control character shown as \xNN, anything else as itself. */
export function printable(c: string): string {
  const code = c.charCodeAt(0);
  return code < 0x20 || code > 0x7e ? `\\x${code.toString(16).padStart(2, '0')}` : c;
}

/** Where the ISA starts: after a UTF-8 byte-order mark and leading whitespace. */
function isaOffset(bytes: Buffer): number {
  let at = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (at < bytes.length && (bytes[at] === 0x20 || bytes[at] === 0x0d || bytes[at] === 0x0a || bytes[at] === 0x09)) at++;
  return at;
}

/** True when the bytes look like UTF-16 (a BOM, or a NUL byte among the first ones). */
function looksUtf16(bytes: Buffer): boolean {
  if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) return true;
  const head = bytes.subarray(0, 16);
  return head.includes(0);
}

/** True when `bytes` start (after a BOM and whitespace) with an ISA segment header. */
export function looksLikeX12(bytes: Buffer): boolean {
  const at = isaOffset(bytes);
  if (bytes.length - at >= 4 && bytes.toString('latin1', at, at + 3) === 'ISA') return true;
  // UTF-16 X12 is still X12 to the sniffer, so it gets the precise encoding rejection.
  return looksUtf16(bytes) && bytes.toString('utf16le', 0, Math.min(bytes.length, 16)).replace(/^\uFEFF/, '').trimStart().startsWith('ISA');
}

/**
 * Splits X12 bytes into segments. Whitespace (CR, LF, space, tab) between a terminator and the
 * next segment id is skipped, so files with and without line breaks read alike; a terminator that
 * is itself CR is honoured. Never throws: the first defect comes back as an error, with the
 * segments read before it.
 */
export function readSegments(bytes: Buffer): { table: SegmentTable | null; error: X12ReadError | null } {
  if (bytes.length === 0) return { table: null, error: { code: 'X12_NOT_X12', message: 'empty input', offset: 0, ta1: '024' } };
  if (looksUtf16(bytes)) return { table: null, error: { code: 'X12_ENCODING', message: 'input is UTF-16 (or holds NUL bytes); X12 is read as single-byte text', offset: 0, ta1: '024' } };
  const at = isaOffset(bytes);
  const text = bytes.toString('latin1');
  if (text.slice(at, at + 3) !== 'ISA') return { table: null, error: { code: 'X12_NOT_X12', message: 'input does not start with an ISA segment', offset: at, ta1: '024' } };
  const read = readDelimiters(text, at);
  if ('error' in read) return { table: null, error: read.error };
  const { delimiters } = read;
  // Capacity: at most one segment per terminator byte.
  let capacity = 16;
  for (let p = text.indexOf(delimiters.segment, at); p !== -1 && capacity < 1 << 26; p = text.indexOf(delimiters.segment, p + 1)) capacity++;
  const starts = new Uint32Array(capacity);
  const ends = new Uint32Array(capacity);
  const idCodes = new Uint16Array(capacity);
  const ids = new Interner();
  const table = (n: number) => new SegmentTable(bytes, text, delimiters, starts, ends, n, idCodes, ids.names);
  let count = 0;
  let pos = at;
  const term = delimiters.segment;
  const termCode = term.charCodeAt(0);
  const elementCode = delimiters.element.charCodeAt(0);
  const length = text.length;
  while (pos < length) {
    // Char codes, not a Set of strings: this loop runs once per segment of inputs of tens of MiB.
    for (let c = text.charCodeAt(pos); pos < length && c !== termCode && (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a); c = text.charCodeAt(++pos));
    if (pos >= length) break;
    const end = text.indexOf(term, pos);
    if (end === -1) {
      // A last IEA without its terminator (files written line by line often drop it) is complete:
      // IEA has exactly two elements and is part of no claim slice.
      if (/^IEA[^A-Za-z0-9]\d+[^A-Za-z0-9 ]\d{9}\s*$/.test(text.slice(pos)) && text[pos + 3] === delimiters.element) {
        starts[count] = pos;
        ends[count] = pos + text.slice(pos).trimEnd().length;
        idCodes[count] = ids.code(text, pos, pos + 3);
        count++;
        break;
      }
      return { table: table(count), error: { code: 'X12_TRUNCATED', message: `segment at byte ${pos} has no terminator '${printable(term)}' (input ends mid-segment)`, offset: pos, ta1: '024' } };
    }
    // A segment id is 2-3 uppercase letters/digits followed by the element separator (or the end).
    let idEnd = pos;
    while (idEnd < end && idEnd - pos < 4 && text.charCodeAt(idEnd) !== elementCode) idEnd++;
    if (!isSegmentId(text, pos, idEnd) || (idEnd < end && text.charCodeAt(idEnd) !== elementCode)) {
      const sep = text.indexOf(delimiters.element, pos);
      const id = text.slice(pos, sep === -1 || sep > end ? end : sep);
      return { table: table(count), error: { code: 'X12_SEGMENT_INVALID', message: `segment ${count + 1} at byte ${pos} has no valid id ('${[...id.slice(0, 12)].map(printable).join('')}'): wrong or mixed delimiters?`, offset: pos, ta1: '024' } };
    }
    starts[count] = pos;
    ends[count] = end;
    idCodes[count] = ids.code(text, pos, idEnd);
    count++;
    pos = end + 1;
  }
  return { table: table(count), error: null };
}

/** True when text[from, to) is a segment id: an uppercase letter, then 1-2 uppercase letters or digits. */
function isSegmentId(text: string, from: number, to: number): boolean {
  const n = to - from;
  if (n < 2 || n > 3) return false;
  const first = text.charCodeAt(from);
  if (first < 0x41 || first > 0x5a) return false;
  for (let p = from + 1; p < to; p++) {
    const c = text.charCodeAt(p);
    if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39))) return false;
  }
  return true;
}

/** Segment ids (2-3 ASCII characters) -> small numbers, each id string made once. */
class Interner {
  readonly names: string[] = [];
  readonly #byKey = new Map<number, number>();

  code(text: string, from: number, to: number): number {
    const key = (text.charCodeAt(from) << 16) | (text.charCodeAt(from + 1) << 8) | (to - from > 2 ? text.charCodeAt(from + 2) : 0);
    let code = this.#byKey.get(key);
    if (code === undefined) {
      code = this.names.length;
      this.names.push(text.slice(from, to));
      this.#byKey.set(key, code);
    }
    return code;
  }
}
