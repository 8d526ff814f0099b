import { describe, expect, it } from 'vitest';
import { hashPassword, newPassword, newSecret, secretHash, verifyPassword } from '../../../review/auth/credentials.ts';

describe('review credentials', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const stored = await hashPassword('correct horse battery staple');
    expect(stored).toMatch(/^scrypt\$32768\$8\$1\$[0-9a-f]{32}\$[0-9a-f]{64}$/);
    expect(await verifyPassword('correct horse battery staple', stored)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', stored)).toBe(false);
  });

  it('salts every hash', async () => {
    const [a, b] = await Promise.all([hashPassword('same'), hashPassword('same')]);
    expect(a).not.toBe(b);
    expect(await verifyPassword('same', b)).toBe(true);
  });

  it('treats a malformed stored hash as a mismatch, not an error', async () => {
    for (const bad of ['', 'plain', 'bcrypt$1$2$3$aa$bb', 'scrypt$0$8$1$aa$bb', 'scrypt$32768$8$1$$']) {
      expect(await verifyPassword('x', bad), bad).toBe(false);
    }
  });

  it('makes distinct prefixed secrets and hashes them deterministically', () => {
    const token = newSecret('ctr_tok_');
    expect(token).toMatch(/^ctr_tok_[A-Za-z0-9_-]{43}$/);
    expect(newSecret('ctr_ses_')).toMatch(/^ctr_ses_/);
    expect(newSecret('ctr_tok_')).not.toBe(token);
    expect(secretHash(token)).toBe(secretHash(token));
    expect(secretHash(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(newPassword()).toMatch(/^[A-Za-z0-9_-]{24}$/);
  });
});
