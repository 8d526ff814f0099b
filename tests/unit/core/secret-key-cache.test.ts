import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { secretKeyObject } from '../../../core/secret-key-cache.ts';

describe('secretKeyObject', () => {
  it('gives one KeyObject per key buffer, with the same HMAC as the raw key', () => {
    const key = randomBytes(32);
    const ko = secretKeyObject(key);
    expect(secretKeyObject(key)).toBe(ko);
    expect(createHmac('sha256', ko).update('x').digest('hex')).toBe(createHmac('sha256', key).update('x').digest('hex'));
  });

  it('never serves the KeyObject of a buffer whose bytes changed since', () => {
    const key = randomBytes(32);
    const before = secretKeyObject(key);
    key.fill(0);
    const after = secretKeyObject(key);
    expect(after).not.toBe(before);
    expect(createHmac('sha256', after).update('x').digest('hex')).toBe(createHmac('sha256', Buffer.alloc(32)).update('x').digest('hex'));
  });
});
