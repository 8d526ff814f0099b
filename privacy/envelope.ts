import { createCipheriv, createDecipheriv } from 'node:crypto';
import { secretKeyObject } from '../core/secret-key-cache.ts';
import { secureRandomBytes } from '../core/secure-random.ts';
import { PrivacyError } from './errors.ts';

/**
 * The AES-256-GCM envelope claimtrail stores PHI in (docs/privacy.md, "Formats"):
 *
 *     version (1 byte, 0x01) | nonce (12 random bytes) | ciphertext | tag (16 bytes)
 *
 * The associated data (AAD) is not stored: the caller rebuilds it from where the envelope lives
 * (e.g. decision id + data key id, {@link payloadAad}), so an envelope copied to another row or
 * re-labelled with another key id fails to open. Pure: no I/O.
 *
 * WARNING: a random 96-bit nonce is safe for about 2^32 envelopes under one key (NIST SP 800-38D).
 * claimtrail uses one data key per member, far below that bound.
 */

export const ENVELOPE_VERSION = 0x01;
export const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Smallest valid envelope: version + nonce + empty ciphertext + tag. */
export const ENVELOPE_OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES;

/** Encrypts `plaintext` under a 32-byte `key`, binding `aad`. A fresh random nonce each call. */
export function sealEnvelope(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  if (key.length !== KEY_BYTES) throw new RangeError(`AES-256-GCM needs a ${KEY_BYTES}-byte key, got ${key.length}`);
  const nonce = secureRandomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', secretKeyObject(key), nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.of(ENVELOPE_VERSION), nonce, body, cipher.getAuthTag()]);
}

/**
 * Decrypts an envelope made by {@link sealEnvelope}.
 * @throws PrivacyError `PHI_ENVELOPE_INVALID` (too short, unknown version) or `PHI_DECRYPT_FAILED`
 *   (wrong key, wrong AAD, any altered byte).
 */
export function openEnvelope(key: Buffer, envelope: Buffer, aad: Buffer): Buffer {
  if (key.length !== KEY_BYTES) throw new RangeError(`AES-256-GCM needs a ${KEY_BYTES}-byte key, got ${key.length}`);
  if (envelope.length < ENVELOPE_OVERHEAD) throw new PrivacyError('PHI_ENVELOPE_INVALID', `envelope of ${envelope.length} bytes is shorter than the ${ENVELOPE_OVERHEAD}-byte minimum`);
  if (envelope[0] !== ENVELOPE_VERSION) throw new PrivacyError('PHI_ENVELOPE_INVALID', `unknown envelope version ${envelope[0]}`);
  const nonce = envelope.subarray(1, 1 + NONCE_BYTES);
  const tag = envelope.subarray(envelope.length - TAG_BYTES);
  const body = envelope.subarray(1 + NONCE_BYTES, envelope.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', secretKeyObject(key), nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch (error) {
    throw new PrivacyError('PHI_DECRYPT_FAILED', 'envelope does not authenticate (wrong key, wrong row or altered bytes)', { cause: error });
  }
}

/** AAD of a claim payload: binds the ciphertext to its decision id and data key id. */
export function payloadAad(decisionId: string, keyId: string): Buffer {
  return Buffer.from(`claimtrail-phi-payload-v1\0${decisionId}\0${keyId}`, 'utf8');
}

/**
 * What a sealed value beside a claim payload is for: its AAD names the purpose, so a sealed salt
 * copied into the reasons column (or the claim's ciphertext into either) fails to open.
 */
export type SealedPurpose = 'commitment-salt' | 'reasons-v1';

/** AAD of a value sealed beside a claim payload: binds it to its decision id, data key id and purpose. */
export function sealedValueAad(purpose: SealedPurpose, decisionId: string, keyId: string): Buffer {
  return Buffer.from(`claimtrail-phi-${purpose}-v1\0${decisionId}\0${keyId}`, 'utf8');
}

/** AAD of a wrapped data key: binds the wrapped bytes to the key id they are stored under. */
export function dataKeyAad(keyId: string): Buffer {
  return Buffer.from(`claimtrail-data-key-v1\0${keyId}`, 'utf8');
}
