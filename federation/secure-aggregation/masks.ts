/**
 * Key agreement and mask expansion.
 *
 * Per round each participant makes two fresh X25519 key pairs: one whose pairwise secrets key the
 * masks, one whose pairwise secrets encrypt the Shamir shares it deals. A pairwise secret goes
 * through HKDF-SHA256 (salted with the round id, labelled with purpose and both ids) to a 32-byte
 * key; a mask is the AES-256-CTR keystream of that key (zero IV, fresh key per round and pair),
 * read as little-endian 64-bit ring elements. The self mask is the same expansion of a 32-byte
 * random seed.
 */
import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { FederationError } from './errors.ts';

/** An X25519 key pair with its raw halves (hex) for adverts and Shamir sharing. */
export interface AgreementKeyPair {
  readonly privateKey: KeyObject;
  /** Raw 32-byte public key, hex. */
  readonly publicKey: string;
}

export function generateAgreementKey(): AgreementKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { privateKey, publicKey: Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('hex') };
}

/** The raw 32-byte private scalar of an X25519 key (what is Shamir-shared). */
export function rawPrivateKey(key: KeyObject): Uint8Array {
  return new Uint8Array(Buffer.from(key.export({ format: 'jwk' }).d!, 'base64url'));
}

/**
 * Rebuilds an X25519 private key from its raw scalar and checks it belongs to `publicKeyHex`.
 * @throws FederationError(FEDERATION_PROTOCOL_VIOLATION) when the reconstructed key does not match the advertised public key.
 */
export function privateKeyFromRaw(raw: Uint8Array, publicKeyHex: string): KeyObject {
  const x = Buffer.from(publicKeyHex, 'hex').toString('base64url');
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: Buffer.from(raw).toString('base64url'), x }, format: 'jwk' });
  } catch (cause) {
    throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', 'a reconstructed mask key is not an X25519 key', { cause });
  }
  const derived = Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x!, 'base64url').toString('hex');
  if (derived !== publicKeyHex) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', 'a reconstructed mask key does not match the advertised public key (bad shares)');
  return key;
}

function publicKeyObject(hex: string): KeyObject {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', 'an advertised X25519 key must be 32 bytes of lower-case hex');
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(hex, 'hex').toString('base64url') }, format: 'jwk' });
}

/** A 32-byte key agreed between `a` and `b` for `purpose` in `round`; both sides get the same. */
export function pairwiseKey(own: KeyObject, otherPublicHex: string, round: string, purpose: 'mask' | 'share', a: string, b: string): Buffer {
  const shared = diffieHellman({ privateKey: own, publicKey: publicKeyObject(otherPublicHex) });
  const [lo, hi] = a < b ? [a, b] : [b, a];
  return Buffer.from(hkdfSync('sha256', shared, Buffer.from(round, 'utf8'), `claimtrail-fed-${purpose}-v1|${lo}|${hi}`, 32));
}

/** `length` ring elements of keystream from a 32-byte key. */
export function expandMask(key: Uint8Array, length: number): BigUint64Array {
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const stream = Buffer.concat([cipher.update(Buffer.alloc(length * 8)), cipher.final()]);
  const out = new BigUint64Array(length);
  for (let i = 0; i < length; i++) out[i] = stream.readBigUInt64LE(i * 8);
  return out;
}

/** The self-mask key of a 32-byte seed in `round`. */
export function selfMaskKey(seed: Uint8Array, round: string): Buffer {
  return Buffer.from(hkdfSync('sha256', seed, Buffer.from(round, 'utf8'), 'claimtrail-fed-self-v1', 32));
}

/** AES-256-GCM encryption of a share bundle from `from` to `to` (ids bound as additional data). */
export function sealShare(key: Uint8Array, from: string, to: string, round: string, plaintext: Uint8Array): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(`${round}|${from}|${to}`));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

/** Opens {@link sealShare}. @throws FederationError(FEDERATION_PROTOCOL_VIOLATION) when it does not authenticate. */
export function openShare(key: Uint8Array, from: string, to: string, round: string, sealed: string): Buffer {
  try {
    const bytes = Buffer.from(sealed, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
    decipher.setAAD(Buffer.from(`${round}|${from}|${to}`));
    decipher.setAuthTag(bytes.subarray(12, 28));
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]);
  } catch (cause) {
    throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `the shares from ${from} to ${to} do not authenticate`, { cause });
  }
}

/** Ring elements as little-endian bytes, base64 (how masked updates travel). */
export function ringToBase64(v: BigUint64Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}

/** Inverse of {@link ringToBase64}; `length` is the round's vector length. */
export function ringFromBase64(s: string, length: number): BigUint64Array {
  const bytes = Buffer.from(s, 'base64');
  if (bytes.length !== length * 8) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `a masked update holds ${bytes.length} bytes, the round expects ${length * 8}`);
  const out = new BigUint64Array(length);
  for (let i = 0; i < length; i++) out[i] = bytes.readBigUInt64LE(i * 8);
  return out;
}
