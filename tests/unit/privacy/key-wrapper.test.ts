import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PrivacyError } from '../../../privacy/errors.ts';
import { LocalKeyWrapper } from '../../../privacy/key-wrapper.ts';

describe('LocalKeyWrapper', () => {
  const master = randomBytes(32);
  const wrapper = new LocalKeyWrapper(master);
  const keyId = '7d0f3c1e-0000-4000-8000-000000000001';

  it('wraps and unwraps a data key bound to its key id', async () => {
    const dataKey = randomBytes(32);
    const wrapped = await wrapper.wrap(dataKey, keyId);
    expect(wrapped.includes(dataKey)).toBe(false);
    expect((await wrapper.unwrap(wrapped, keyId)).equals(dataKey)).toBe(true);
    await expect(wrapper.unwrap(wrapped, '7d0f3c1e-0000-4000-8000-000000000002')).rejects.toMatchObject({ code: 'PHI_DECRYPT_FAILED' });
  });

  it('refuses to unwrap under another master key, or altered bytes', async () => {
    const wrapped = await wrapper.wrap(randomBytes(32), keyId);
    await expect(new LocalKeyWrapper(randomBytes(32)).unwrap(wrapped, keyId)).rejects.toBeInstanceOf(PrivacyError);
    const bad = Buffer.from(wrapped);
    bad[20]! ^= 1;
    await expect(wrapper.unwrap(bad, keyId)).rejects.toMatchObject({ code: 'PHI_DECRYPT_FAILED' });
  });

  it('has a stable public fingerprint that differs between master keys and is not the key', () => {
    expect(wrapper.masterKeyId).toMatch(/^[0-9a-f]{16}$/);
    expect(new LocalKeyWrapper(Buffer.from(master)).masterKeyId).toBe(wrapper.masterKeyId);
    expect(new LocalKeyWrapper(randomBytes(32)).masterKeyId).not.toBe(wrapper.masterKeyId);
    expect(master.toString('hex')).not.toContain(wrapper.masterKeyId);
  });

  it('keyed hashes depend on the purpose and the master key', async () => {
    const m = Buffer.from('M000123');
    const a = await wrapper.mac('member-erasure-ref', m);
    expect(a).toHaveLength(32);
    expect((await wrapper.mac('member-erasure-ref', m)).equals(a)).toBe(true);
    expect((await wrapper.mac('other', m)).equals(a)).toBe(false);
    expect((await new LocalKeyWrapper(randomBytes(32)).mac('member-erasure-ref', m)).equals(a)).toBe(false);
  });

  it('never serialises the master key', () => {
    const text = JSON.stringify({ wrapper }) + String(wrapper);
    expect(text).not.toContain(master.toString('hex'));
    expect(text).not.toContain(master.toString('base64'));
  });

  it('refuses a master key that is not 32 bytes', () => {
    expect(() => new LocalKeyWrapper(randomBytes(16))).toThrow(RangeError);
  });
});
