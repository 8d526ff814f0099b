import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENVELOPE_OVERHEAD, ENVELOPE_VERSION, openEnvelope, payloadAad, sealEnvelope } from '../../../privacy/envelope.ts';
import { PrivacyError } from '../../../privacy/errors.ts';

const key = randomBytes(32);
const aad = payloadAad('0xdecision', '7d0f3c1e-0000-4000-8000-000000000001');
const claim = Buffer.from(JSON.stringify({ claimId: 'C1', memberId: 'M000123', totalCharged: 120.5 }));

function expectCode(fn: () => unknown, code: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(PrivacyError);
  expect((caught as PrivacyError).code).toBe(code);
}

describe('AES-256-GCM envelope', () => {
  it('round-trips any plaintext and never contains it', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
        const plain = Buffer.from(bytes);
        const sealed = sealEnvelope(key, plain, aad);
        expect(sealed.length).toBe(plain.length + ENVELOPE_OVERHEAD);
        expect(sealed[0]).toBe(ENVELOPE_VERSION);
        expect(openEnvelope(key, sealed, aad).equals(plain)).toBe(true);
      }),
    );
    expect(sealEnvelope(key, claim, aad).includes(Buffer.from('M000123'))).toBe(false);
  });

  it('uses a fresh nonce each time (same plaintext, different ciphertexts)', () => {
    const a = sealEnvelope(key, claim, aad);
    const b = sealEnvelope(key, claim, aad);
    expect(a.subarray(1, 13).equals(b.subarray(1, 13))).toBe(false);
    expect(a.equals(b)).toBe(false);
  });

  it('rejects every single flipped bit (version, nonce, ciphertext, tag)', () => {
    const sealed = sealEnvelope(key, claim, aad);
    for (let i = 0; i < sealed.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const bad = Buffer.from(sealed);
        bad[i]! ^= bit;
        expectCode(() => openEnvelope(key, bad, aad), i === 0 ? 'PHI_ENVELOPE_INVALID' : 'PHI_DECRYPT_FAILED');
      }
    }
  });

  it('rejects the wrong AAD: another decision id or another key id', () => {
    const sealed = sealEnvelope(key, claim, aad);
    expectCode(() => openEnvelope(key, sealed, payloadAad('0xother', '7d0f3c1e-0000-4000-8000-000000000001')), 'PHI_DECRYPT_FAILED');
    expectCode(() => openEnvelope(key, sealed, payloadAad('0xdecision', '7d0f3c1e-0000-4000-8000-000000000002')), 'PHI_DECRYPT_FAILED');
  });

  it('rejects the wrong key', () => {
    expectCode(() => openEnvelope(randomBytes(32), sealEnvelope(key, claim, aad), aad), 'PHI_DECRYPT_FAILED');
  });

  it('rejects truncated envelopes and unknown versions', () => {
    const sealed = sealEnvelope(key, claim, aad);
    expectCode(() => openEnvelope(key, sealed.subarray(0, ENVELOPE_OVERHEAD - 1), aad), 'PHI_ENVELOPE_INVALID');
    expectCode(() => openEnvelope(key, sealed.subarray(0, sealed.length - 1), aad), 'PHI_DECRYPT_FAILED');
    expectCode(() => openEnvelope(key, Buffer.concat([Buffer.of(2), sealed.subarray(1)]), aad), 'PHI_ENVELOPE_INVALID');
  });

  it('refuses keys that are not 32 bytes', () => {
    expect(() => sealEnvelope(randomBytes(16), claim, aad)).toThrow(RangeError);
    expect(() => openEnvelope(randomBytes(31), sealEnvelope(key, claim, aad), aad)).toThrow(RangeError);
  });
});
