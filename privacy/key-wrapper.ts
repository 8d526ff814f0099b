import { createHmac, hkdfSync } from 'node:crypto';
import { KEY_BYTES, dataKeyAad, openEnvelope, sealEnvelope } from './envelope.ts';

/**
 * Wraps and unwraps data keys under a master key that never leaves the wrapper. The `local`
 * implementation holds the master key in memory (from PHI_MASTER_KEY / PHI_MASTER_KEY_FILE); a
 * cloud KMS fits behind the same interface (wrap = Encrypt, unwrap = Decrypt with the key id as
 * encryption context, mac = GenerateMac), which is why every method is asynchronous.
 */
export interface KeyWrapper {
  /** `local`, or the KMS's name. */
  readonly kind: string;
  /**
   * Public fingerprint of the master key (16 hex digits), stored beside every wrapped key so a
   * process started with another master key refuses to run instead of writing under a second key.
   * Reveals nothing about the key.
   */
  readonly masterKeyId: string;
  /** Wraps a 32-byte data key stored under `keyId` (bound as associated data). */
  wrap(dataKey: Buffer, keyId: string): Promise<Buffer>;
  /** Unwraps what {@link wrap} returned for the same `keyId`. Throws PrivacyError `PHI_DECRYPT_FAILED` otherwise. */
  unwrap(wrapped: Buffer, keyId: string): Promise<Buffer>;
  /** Keyed hash (HMAC-SHA256) of `data` under a key derived from the master key for `purpose`. */
  mac(purpose: string, data: Buffer): Promise<Buffer>;
}

/**
 * The `local` key wrapper: AES-256-GCM with the master key (same envelope as payloads, AAD =
 * key id). Sub-keys for {@link KeyWrapper.mac} are derived with HKDF-SHA256, so the master key
 * itself is only ever used for wrapping.
 */
export class LocalKeyWrapper implements KeyWrapper {
  readonly kind = 'local';
  readonly masterKeyId: string;
  readonly #master: Buffer;

  /** @param masterKey 32 bytes; copied, so the caller may zero its buffer. */
  constructor(masterKey: Buffer) {
    if (masterKey.length !== KEY_BYTES) throw new RangeError(`the master key must be ${KEY_BYTES} bytes, got ${masterKey.length}`);
    this.#master = Buffer.from(masterKey);
    this.masterKeyId = this.#derive('claimtrail-master-key-id-v1').subarray(0, 8).toString('hex');
  }

  async wrap(dataKey: Buffer, keyId: string): Promise<Buffer> {
    if (dataKey.length !== KEY_BYTES) throw new RangeError(`a data key is ${KEY_BYTES} bytes, got ${dataKey.length}`);
    return sealEnvelope(this.#master, dataKey, dataKeyAad(keyId));
  }

  async unwrap(wrapped: Buffer, keyId: string): Promise<Buffer> {
    return openEnvelope(this.#master, wrapped, dataKeyAad(keyId));
  }

  async mac(purpose: string, data: Buffer): Promise<Buffer> {
    return createHmac('sha256', this.#derive(`claimtrail-mac-v1\0${purpose}`)).update(data).digest();
  }

  /** Never serialise the master key by accident (console.log, JSON.stringify, pino). */
  toJSON(): Record<string, string> {
    return { kind: this.kind, masterKeyId: this.masterKeyId };
  }

  #derive(info: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.#master, Buffer.alloc(0), info, KEY_BYTES));
  }
}
