import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StackError } from '../core/errors.ts';
import type { KafkaSecureBroker } from './kafka.ts';
import { findExecutable, runTool } from './process.ts';

/**
 * What a local SASL_SSL Kafka needs, made once under `<dir>` (a state folder, git-ignored):
 *
 * - `ca.crt` / `ca.key`: a development CA (RSA 2048, 10 years), made with openssl;
 * - `broker.pem`: the broker's key (PKCS#8) and certificate for 127.0.0.1 and localhost (SAN),
 *   signed by the CA, then the CA certificate (Kafka's PEM key store: key, then chain);
 * - `client.crt` / `client.key`: a client certificate (CN=claimtrail) for mutual TLS;
 * - `users.json` (mode 0600): random passwords of `admin` (inter-broker, SCRAM-SHA-512) and
 *   `claimtrail` (SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN).
 *
 * The SCRAM users are written into the metadata log by Kafka's own StorageTool when the storage
 * is formatted (`--add-scram`, see kafka.ts); PLAIN users live in the listener's JAAS line.
 * Never for production: the CA key sits beside the certificates.
 */

/** The application user of the secure broker. */
export const SECURE_KAFKA_USER = 'claimtrail';
const ADMIN_USER = 'admin';
const OPENSSL_TIMEOUT_MS = 60_000;

export interface SecureKafkaFiles {
  readonly dir: string;
  readonly caCert: string;
  readonly brokerPem: string;
  readonly clientCert: string;
  readonly clientKey: string;
  readonly users: string;
}

interface Users {
  readonly admin: string;
  readonly claimtrail: string;
}

export function secureKafkaFiles(dir: string): SecureKafkaFiles {
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    brokerPem: join(dir, 'broker.pem'),
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
    users: join(dir, 'users.json'),
  };
}

/** Makes the CA, the broker and client certificates and the users' passwords when missing. */
export async function ensureSecureKafkaMaterial(dir: string): Promise<SecureKafkaFiles> {
  const files = secureKafkaFiles(dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(files.brokerPem) || !existsSync(files.clientKey)) await makeCertificates(files);
  if (!existsSync(files.users)) {
    const users: Users = { admin: randomBytes(18).toString('base64url'), claimtrail: randomBytes(18).toString('base64url') };
    writeFileSync(files.users, `${JSON.stringify(users)}\n`, { mode: 0o600 });
    chmodSync(files.users, 0o600);
  }
  return files;
}

function readUsers(files: SecureKafkaFiles): Users {
  return JSON.parse(readFileSync(files.users, 'utf8')) as Users;
}

/** The password of {@link SECURE_KAFKA_USER} (a secret: hand it to the client, never log it). */
export function secureKafkaPassword(files: SecureKafkaFiles): string {
  return readUsers(files).claimtrail;
}

/** The broker-side settings for kafka.ts ({@link KafkaSecureBroker}) from the material in `files`. */
export function secureKafkaBroker(files: SecureKafkaFiles): KafkaSecureBroker {
  const users = readUsers(files);
  return {
    listener: {
      keyStorePem: files.brokerPem,
      trustStorePem: files.caCert,
      clientAuth: 'requested',
      interBroker: { username: ADMIN_USER, password: users.admin },
      plainUsers: { [ADMIN_USER]: users.admin, [SECURE_KAFKA_USER]: users.claimtrail },
    },
    scramUsers: [
      { mechanism: 'SCRAM-SHA-512', username: ADMIN_USER, password: users.admin },
      { mechanism: 'SCRAM-SHA-512', username: SECURE_KAFKA_USER, password: users.claimtrail },
      { mechanism: 'SCRAM-SHA-256', username: SECURE_KAFKA_USER, password: users.claimtrail },
    ],
    probeClient: {
      ssl: { ca: [readFileSync(files.caCert, 'utf8')], rejectUnauthorized: true },
      sasl: { mechanism: 'scram-sha-512', username: ADMIN_USER, password: users.admin },
    },
  };
}

/**
 * claimtrail's variables for the secure broker at `broker` as {@link SECURE_KAFKA_USER}:
 * TLS with the CA file and the client certificate, SASL with the password file.
 */
export function secureKafkaClientEnv(files: SecureKafkaFiles, broker: string, mechanism: 'scram-sha-256' | 'scram-sha-512' | 'plain' = 'scram-sha-512'): Record<string, string> {
  const passwordFile = join(files.dir, 'claimtrail.password');
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, `${secureKafkaPassword(files)}\n`, { mode: 0o600 });
  return {
    KAFKA_BROKERS: broker,
    KAFKA_SSL: 'on',
    KAFKA_SSL_CA_FILE: files.caCert,
    KAFKA_SSL_CERT_FILE: files.clientCert,
    KAFKA_SSL_KEY_FILE: files.clientKey,
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: SECURE_KAFKA_USER,
    KAFKA_SASL_PASSWORD_FILE: passwordFile,
  };
}

async function makeCertificates(files: SecureKafkaFiles): Promise<void> {
  const openssl = findExecutable('openssl');
  if (openssl === null) throw new StackError('kafka', 'openssl is required to make the secure Kafka listener certificates (install openssl)');
  const ssl = async (args: string[]) => {
    const out = await runTool('kafka', openssl, args, { cwd: files.dir, timeoutMs: OPENSSL_TIMEOUT_MS });
    if (out.code !== 0) throw new StackError('kafka', `openssl ${args[0]} failed (exit ${out.code}): ${out.stderr.trim().split('\n').pop() ?? ''}`);
  };
  const days = ['-days', '3650'];
  await ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', ...days, '-subj', '/CN=claimtrail development CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const leaf = async (name: string, subject: string, extensions: string) => {
    writeFileSync(join(files.dir, `${name}.ext`), extensions);
    await ssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
    await ssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, ...days, '-extfile', `${name}.ext`]);
    chmodSync(join(files.dir, `${name}.key`), 0o600);
  };
  await leaf('broker', '/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  await leaf('client', `/CN=${SECURE_KAFKA_USER}`, 'extendedKeyUsage=clientAuth\n');
  // openssl 3 writes PKCS#8 keys ("BEGIN PRIVATE KEY"), which Kafka's PEM key store reads.
  const pem = ['broker.key', 'broker.crt', 'ca.crt'].map((f) => readFileSync(join(files.dir, f), 'utf8').trim()).join('\n');
  writeFileSync(files.brokerPem, `${pem}\n`, { mode: 0o600 });
  chmodSync(join(files.dir, 'ca.key'), 0o600);
}
