import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../core/logger.ts';
import { createKafkaService, ensureKafkaTools } from '../../stack/kafka.ts';
import { ensureSecureKafkaMaterial, secureKafkaBroker, secureKafkaClientEnv, type SecureKafkaFiles } from '../../stack/kafka-secure.ts';
import { resolveStateDir } from '../../stack/paths.ts';
import type { StackConfig } from '../../stack/stack-config.ts';
import { freePort } from './private-services.ts';

/** A private Kafka 4.x with a SASL_SSL listener (never the shared broker), and how to reach it. */
export interface SecureKafka {
  /** `127.0.0.1:<port>` of the SASL_SSL listener. */
  readonly address: string;
  /** Certificates and users (see stack/kafka-secure.ts). */
  readonly files: SecureKafkaFiles;
  /** claimtrail's variables for this broker: TLS with the CA and client certificate, SASL SCRAM-SHA-512 as `claimtrail`. */
  readonly env: Readonly<Record<string, string>>;
  /** Stops it and deletes its folder. */
  dispose(): Promise<void>;
}

/**
 * Starts a Kafka with a SASL_SSL client listener on a free port under `parent`: a CA, a broker
 * certificate for 127.0.0.1 / localhost and a client certificate made with openssl, SCRAM users
 * written by Kafka's StorageTool at format time, from the stack's jars. About 10-20 s.
 */
export async function startSecureKafka(parent: string, log: Logger): Promise<SecureKafka> {
  const stateDir = mkdtempSync(join(parent, 'kafka-secure-'));
  const port = await freePort(true);
  const address = `127.0.0.1:${port}`;
  const files = await ensureSecureKafkaMaterial(join(stateDir, 'tls'));
  const config: StackConfig = Object.freeze({
    stateDir,
    kafkaBrokers: Object.freeze([address]),
    redisUrl: 'redis://unused:1',
    databaseUrl: 'postgres://unused@127.0.0.1:1/unused',
    chainRpcUrl: 'http://unused:1',
  });
  const { libs } = await ensureKafkaTools(resolveStateDir(process.env.STATE_DIR ?? '.state'), log);
  const service = createKafkaService({ config, log }, { libsDir: libs, secure: secureKafkaBroker(files) });
  const report = await service.up();
  if (report.state !== 'started') throw new Error(`secure kafka at ${address}: expected to start it, found it ${report.state} (${report.detail ?? ''})`);
  return {
    address,
    files,
    env: secureKafkaClientEnv(files, address),
    async dispose() {
      await service.down().catch((error: unknown) => log.warn({ err: error }, 'stopping the secure Kafka failed'));
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
