/**
 * Identity keys and signed messages of a federation.
 *
 * Every participant (and the coordinator) holds a long-lived Ed25519 identity key; its public half
 * is registered out of band (configuration, or the chain's FederationRegistry) and is the trust
 * anchor: a message counts only when it verifies under the registered key of the id it names.
 * Messages are `claimtrail-fed-msg-v1` envelopes; the signature covers the canonical JSON of every
 * field but the signature itself, so a relay (the coordinator, Kafka) cannot change a byte.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalBytes } from '../../anchoring/core/canonical-json.ts';
import { FederationError } from './errors.ts';

export const MESSAGE_FORMAT = 'claimtrail-fed-msg-v1';

/** A participant's or the coordinator's identity: an id and its Ed25519 key pair. */
export interface Identity {
  readonly id: string;
  /** Raw 32-byte Ed25519 public key, hex. */
  readonly publicKey: string;
  readonly privateKey: KeyObject;
}

/** An id and its registered Ed25519 public key (raw 32 bytes, hex). */
export interface RegisteredKey {
  readonly id: string;
  readonly publicKey: string;
}

/** A signed federation message; `body` is I-JSON (bytes travel as hex or base64 strings). */
export interface SignedMessage<B = unknown> {
  readonly format: typeof MESSAGE_FORMAT;
  readonly kind: string;
  readonly federation: string;
  readonly round: string;
  readonly from: string;
  readonly body: B;
  /** Ed25519 signature over the canonical JSON of the other fields, hex. */
  readonly signature: string;
}

const ID = /^[A-Za-z0-9._-]{1,64}$/;

/** A fresh identity key pair for `id`. */
export function generateIdentity(id: string): Identity {
  if (!ID.test(id)) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `participant id must match ${ID}, got ${JSON.stringify(id)}`);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { id, privateKey, publicKey: rawPublicKeyHex(publicKey) };
}

/** An identity from its PKCS#8 PEM private key (how it is stored on disk). */
export function identityFromPem(id: string, pem: string): Identity {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `identity key of ${id} is ${privateKey.asymmetricKeyType}, not ed25519`);
  return { id, privateKey, publicKey: rawPublicKeyHex(createPublicKey(privateKey)) };
}

/** The PKCS#8 PEM of an identity's private key. */
export function identityToPem(identity: Identity): string {
  return identity.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

function rawPublicKeyHex(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  return Buffer.from(jwk.x!, 'base64url').toString('hex');
}

function publicKeyFromHex(hex: string): KeyObject {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', 'a registered public key must be 32 bytes of lower-case hex');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(hex, 'hex').toString('base64url') }, format: 'jwk' });
}

function signedPart(m: Omit<SignedMessage, 'signature'>): Uint8Array {
  return canonicalBytes({ format: m.format, kind: m.kind, federation: m.federation, round: m.round, from: m.from, body: m.body });
}

/** Signs a message as `identity`. */
export function signMessage<B>(identity: Identity, federation: string, round: string, kind: string, body: B): SignedMessage<B> {
  const unsigned = { format: MESSAGE_FORMAT, kind, federation, round, from: identity.id, body } as const;
  const signature = sign(null, signedPart(unsigned), identity.privateKey).toString('hex');
  return { ...unsigned, signature };
}

/**
 * The registered ids and their keys: the only senders whose messages count. The coordinator
 * cannot add a participant to a round (participants check every key advert against this list
 * too), and a message from an unregistered id is refused before anything else is read.
 */
export class ParticipantRegistry {
  readonly #keys = new Map<string, KeyObject>();
  readonly #hex = new Map<string, string>();

  constructor(entries: readonly RegisteredKey[]) {
    for (const e of entries) {
      if (!ID.test(e.id)) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `registered id must match ${ID}, got ${JSON.stringify(e.id)}`);
      if (this.#keys.has(e.id)) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `${e.id} is registered twice`);
      this.#keys.set(e.id, publicKeyFromHex(e.publicKey));
      this.#hex.set(e.id, e.publicKey);
    }
    Object.freeze(this);
  }

  has(id: string): boolean {
    return this.#keys.has(id);
  }

  ids(): string[] {
    return [...this.#keys.keys()];
  }

  publicKeyHex(id: string): string | undefined {
    return this.#hex.get(id);
  }

  /**
   * Checks a message: known format, sender registered, signature valid, and (when given) the
   * expected federation, round and kind.
   * @throws FederationError FEDERATION_PARTICIPANT_UNREGISTERED, FEDERATION_SIGNATURE_INVALID or FEDERATION_PROTOCOL_VIOLATION.
   */
  verify<B>(message: SignedMessage<B>, expect: { federation?: string; round?: string; kind?: string } = {}): SignedMessage<B> {
    if (message === null || typeof message !== 'object' || message.format !== MESSAGE_FORMAT) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `not a ${MESSAGE_FORMAT} message`);
    const key = this.#keys.get(message.from);
    if (!key) throw new FederationError('FEDERATION_PARTICIPANT_UNREGISTERED', `${JSON.stringify(String(message.from))} is not a registered participant; its message is refused`);
    let valid = false;
    try {
      valid = typeof message.signature === 'string' && verify(null, signedPart(message), key, Buffer.from(message.signature, 'hex'));
    } catch (cause) {
      throw new FederationError('FEDERATION_SIGNATURE_INVALID', `the ${message.kind} message of ${message.from} cannot be checked`, { cause });
    }
    if (!valid) throw new FederationError('FEDERATION_SIGNATURE_INVALID', `the ${message.kind} message of ${message.from} does not verify under its registered key`);
    if (expect.federation !== undefined && message.federation !== expect.federation) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `message of ${message.from} is for federation ${message.federation}, not ${expect.federation}`);
    if (expect.round !== undefined && message.round !== expect.round) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `message of ${message.from} is for round ${message.round}, not ${expect.round}`);
    if (expect.kind !== undefined && message.kind !== expect.kind) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `expected a ${expect.kind} message from ${message.from}, got ${message.kind}`);
    return message;
  }
}
