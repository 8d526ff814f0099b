import { loadConfig } from '../core/config.ts';
import { resolveStateDir } from './paths.ts';

/**
 * The part of claimtrail's configuration the local stack needs: where each service should
 * answer, and where the stack keeps its state. Frozen; build it with {@link loadStackConfig}.
 */
export interface StackConfig {
  /** Absolute state folder (STATE_DIR, default `<repo>/.state`). */
  readonly stateDir: string;
  /** KAFKA_BROKERS, `host:port` each (default `127.0.0.1:9092`). The first one is checked and, when local, started. */
  readonly kafkaBrokers: readonly string[];
  /** REDIS_URL (default `redis://127.0.0.1:6379`). */
  readonly redisUrl: string;
  /** DATABASE_URL (default `postgres://postgres@127.0.0.1:5432/claimtrail`). */
  readonly databaseUrl: string;
  /** CHAIN_RPC_URL (default `http://127.0.0.1:8545`). */
  readonly chainRpcUrl: string;
}

/**
 * Reads the stack's variables through core/config.ts, so defaults and validation live in one
 * place and every bad variable is reported together (ConfigError).
 *
 * The signer variables are left out on purpose: SIGNER_KEY_FILE may name the dev key file the
 * stack itself writes (see dev-signer.ts), so it must not be required to exist before `stack up`.
 */
export function loadStackConfig(env: NodeJS.ProcessEnv = process.env): StackConfig {
  const { SIGNER_KEY_FILE: _file, SIGNER_PRIVATE_KEY: _key, ...rest } = env;
  const config = loadConfig(rest);
  return Object.freeze({
    stateDir: resolveStateDir(config.stateDir),
    kafkaBrokers: Object.freeze([...config.kafka.brokers]),
    redisUrl: config.redisUrl,
    databaseUrl: config.database.url,
    chainRpcUrl: config.chain.rpcUrl,
  });
}
