import { describe, expect, it } from 'vitest';
import { ATTACHMENT_MAX_BYTES, checkAttachment } from '../../../review/services/attachment-policy.ts';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(16, 1)]);

describe('checkAttachment', () => {
  it('accepts allowlisted types whose bytes match, normalising the type and hashing the contents', () => {
    const pdf = checkAttachment({ fileName: 'records.pdf', contentType: 'Application/PDF', content: Buffer.from('%PDF-1.7\n...') });
    expect(pdf).toMatchObject({ fileName: 'records.pdf', contentType: 'application/pdf' });
    expect(pdf.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(checkAttachment({ fileName: 'x.png', contentType: 'image/png', content: PNG }).contentType).toBe('image/png');
    expect(checkAttachment({ fileName: 'notes.txt', contentType: 'text/plain; charset=utf-8', content: Buffer.from('Überweisung fehlt') }).contentType).toBe('text/plain');
  });

  it('refuses types off the allowlist, empty and oversized files, and bytes that lie about their type', () => {
    expect(() => checkAttachment({ fileName: 'a.html', contentType: 'text/html', content: Buffer.from('<script>') })).toThrow(/text\/html is not allowed/);
    expect(() => checkAttachment({ fileName: 'a.txt', contentType: '', content: Buffer.from('x') })).toThrow(/\(none\) is not allowed/);
    expect(() => checkAttachment({ fileName: 'a.txt', contentType: 'text/plain', content: Buffer.alloc(0) })).toThrow(/empty/);
    expect(() => checkAttachment({ fileName: 'a.txt', contentType: 'text/plain', content: Buffer.alloc(ATTACHMENT_MAX_BYTES + 1, 0x61) })).toThrow(/at most/);
    expect(() => checkAttachment({ fileName: 'a.png', contentType: 'image/png', content: Buffer.from('<svg onload=alert(1)>') })).toThrow(/not image\/png/);
    expect(() => checkAttachment({ fileName: 'a.pdf', contentType: 'application/pdf', content: PNG })).toThrow(/not application\/pdf/);
    expect(() => checkAttachment({ fileName: 'a.txt', contentType: 'text/plain', content: Buffer.from([0x61, 0x00, 0x62]) })).toThrow(/UTF-8 text/);
    expect(() => checkAttachment({ fileName: 'a.csv', contentType: 'text/csv', content: Buffer.from([0xc3, 0x28]) })).toThrow(/UTF-8 text/);
  });

  it('reduces the file name to a safe base name', () => {
    const check = (fileName: string) => checkAttachment({ fileName, contentType: 'text/plain', content: Buffer.from('x') }).fileName;
    expect(check('../../etc/passwd')).toBe('passwd');
    expect(check('C:\\Users\\ivy\\scan "1".txt')).toBe('scan _1_.txt');
    expect(check('line\nbreak.txt')).toBe('line_break.txt');
    expect(check('x'.repeat(300))).toHaveLength(200);
    expect(() => check('dir/')).toThrow(/needs a file name/);
    expect(() => check('..')).toThrow(/needs a file name/);
  });
});
