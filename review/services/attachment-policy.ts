import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../../core/errors.ts';

/** Largest attachment accepted, bytes (5 MiB: a scanned letter or a few photos). */
export const ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024;

/**
 * Content types an attachment may have, and how its first bytes must look: a file whose bytes
 * do not match its declared type is refused, so a browser never renders HTML or script that
 * was uploaded as "an image". Text types must be valid UTF-8 without NUL bytes.
 */
const MAGIC: Record<string, ((b: Buffer) => boolean) | 'text'> = {
  'application/pdf': (b) => b.subarray(0, 5).toString('latin1') === '%PDF-',
  'image/png': (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/jpeg': (b) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  'text/plain': 'text',
  'text/csv': 'text',
};

export const ATTACHMENT_TYPES: readonly string[] = Object.keys(MAGIC);

export interface CheckedAttachment {
  fileName: string;
  contentType: string;
  sha256: string;
  content: Buffer;
}

/**
 * Validates an upload: type on the allowlist (parameters like `; charset=utf-8` dropped), size
 * 1 byte to ATTACHMENT_MAX_BYTES, bytes matching the type, and a file name reduced to a safe
 * base name (no path, no control or quote characters), at most 200 characters.
 * @throws InvalidArgumentError naming the first problem.
 */
export function checkAttachment(input: { fileName: string; contentType: string; content: Buffer }): CheckedAttachment {
  const contentType = input.contentType.split(';')[0]!.trim().toLowerCase();
  const magic = MAGIC[contentType];
  if (!magic) throw new InvalidArgumentError(`content type ${contentType || '(none)'} is not allowed; allowed: ${ATTACHMENT_TYPES.join(', ')}`);
  if (input.content.length === 0) throw new InvalidArgumentError('the attachment is empty');
  if (input.content.length > ATTACHMENT_MAX_BYTES) throw new InvalidArgumentError(`the attachment is ${input.content.length} bytes; at most ${ATTACHMENT_MAX_BYTES}`);
  if (magic === 'text') {
    if (input.content.includes(0) || !isUtf8(input.content)) throw new InvalidArgumentError(`a ${contentType} attachment must be UTF-8 text`);
  } else if (!magic(input.content)) throw new InvalidArgumentError(`the file's bytes are not ${contentType}`);
  // eslint-disable-next-line no-control-regex
  const base = (input.fileName.split(/[\\/]/).pop() ?? '').replace(/[\u0000-\u001f\u007f"<>|*?:]/g, '_').trim().slice(0, 200);
  if (base === '' || base === '.' || base === '..') throw new InvalidArgumentError('the attachment needs a file name');
  return { fileName: base, contentType, sha256: createHash('sha256').update(input.content).digest('hex'), content: input.content };
}

function isUtf8(b: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}
