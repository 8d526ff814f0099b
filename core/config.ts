import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { ConfigError } from './errors.ts';

/**
 * claimtrail's configuration, read once from the environment (and `.env` when present, see
 * `.env.example` for every variable with its meaning) and passed around as a frozen object.
 * Every bad variable is reported together. There are no secret defaults: the signer key must
 * come from SIGNER_PRIVATE_KEY or SIGNER_KEY_FILE (the local stack writes a fresh dev key file),
 * the PHI master key from PHI_MASTER_KEY or PHI_MASTER_KEY_FILE (privacy/master-key.ts).
 */

const intFromEnv = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const csv = z.string().transform((s) => s.split(',').map((p) => p.trim()).filter(Boolean));
const url = (protocols: string[]) =>
  z.string().refine((s) => {
    try {
      return protocols.includes(new URL(s).protocol);
    } catch {
      return false;
    }
  }, `expected a URL (${protocols.join(' or ')})`);

/** An on/off switch: 1/0, true/false, on/off, yes/no (any case). */
const flag = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['1', '0', 'true', 'false', 'on', 'off', 'yes', 'no'], { message: 'expected on or off (1/0, true/false, yes/no)' }))
  .transform((v) => ['1', 'true', 'on', 'yes'].includes(v));

/** SASL mechanisms claimtrail's Kafka client speaks (kafkajs names). */
export const KAFKA_SASL_MECHANISMS = ['scram-sha-256', 'scram-sha-512', 'plain'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

const MASTER_KEY_FORMAT = 'expected 32 bytes as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)';

/**
 * Decodes a PHI master key written as 64 hex digits or as base64 / base64url of exactly 32
 * bytes; null for anything else. Error messages name the variable, never the value.
 */
export function decodeMasterKey(text: string): Buffer | null {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/]{43}=$/.test(t) || /^[A-Za-z0-9_-]{43}$/.test(t)) {
    const key = Buffer.from(t, t.endsWith('=') ? 'base64' : 'base64url');
    return key.length === 32 ? key : null;
  }
  return null;
}

const EnvSchema = z.object({
  KAFKA_BROKERS: csv.pipe(z.array(z.string().regex(/^[\w.-]+:\d+$/, 'expected host:port')).min(1)).default(['127.0.0.1:9092']),
  KAFKA_CLIENT_ID: z.string().min(1).default('claimtrail'),
  /** TLS to the brokers. Off only for brokers on this machine, unless KAFKA_ALLOW_PLAINTEXT=1. */
  KAFKA_SSL: flag.default(false),
  /** PEM file of the CA(s) that signed the brokers' certificates; unset: the system CAs. */
  KAFKA_SSL_CA_FILE: z.string().min(1).optional(),
  /** Client certificate (PEM) and its private key (PEM, unencrypted), for brokers that require mutual TLS. */
  KAFKA_SSL_CERT_FILE: z.string().min(1).optional(),
  KAFKA_SSL_KEY_FILE: z.string().min(1).optional(),
  KAFKA_SASL_MECHANISM: z.enum(KAFKA_SASL_MECHANISMS, { message: `expected one of ${KAFKA_SASL_MECHANISMS.join(', ')}` }).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  /** A secret: prefer KAFKA_SASL_PASSWORD_FILE. */
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD_FILE: z.string().min(1).optional(),
  /** Lets KAFKA_SSL be off for brokers not on this machine (a private network such as docker compose's). */
  KAFKA_ALLOW_PLAINTEXT: flag.default(false),
  CLAIMS_TOPIC: z.string().min(1).default('claims'),
  DLQ_TOPIC: z.string().min(1).default('claims.dlq'),
  DECISIONS_TOPIC: z.string().min(1).default('decisions'),
  /** Champion / challenger: the challenger's shadow scores (never acted on). */
  SHADOW_TOPIC: z.string().min(1).default('decisions.shadow'),
  /** X12 acknowledgements (TA1, 999, 277CA) of the interchanges claimtrail receives. */
  ACKS_TOPIC: z.string().min(1).default('claims.acks'),
  /** Whole insurer files (X12 interchanges, FHIR Bundles) up to 64 MiB, split into claims by the `ingest` role. */
  INTERCHANGES_TOPIC: z.string().min(1).default('claims.interchanges'),
  INGEST_GROUP_ID: z.string().min(1).default('claimtrail-ingest'),
  TOPIC_PARTITIONS: intFromEnv(1, 256).default(4),
  SCORING_GROUP_ID: z.string().min(1).default('claimtrail-scoring'),
  BATCHING_GROUP_ID: z.string().min(1).default('claimtrail-batching'),
  /** Access monitoring (monitoring/): the topic of access events, its DLQ, the monitor's consumer group. */
  ACCESS_EVENTS_TOPIC: z.string().min(1).default('access-events'),
  ACCESS_EVENTS_DLQ_TOPIC: z.string().min(1).default('access-events.dlq'),
  MONITOR_GROUP_ID: z.string().min(1).default('claimtrail-monitor'),
  /** Access events stamped further than this many seconds ahead of the monitor's clock are dead-lettered. */
  MONITOR_MAX_CLOCK_SKEW_SECONDS: intFromEnv(1, 86_400).default(300),
  /** Milliseconds between sweeps of the access-events outbox by the relay. */
  ACCESS_RELAY_POLL_MS: intFromEnv(50, 600_000).default(1000),
  /** Milliseconds between chain watch scans of the anchoring contract and our signer; 0 disables the watch. */
  MONITOR_CHAIN_POLL_MS: intFromEnv(0, 3_600_000).default(15_000),
  /** Seconds between scorings of today's and yesterday's user-days by the behaviour model; 0 disables them. */
  MONITOR_SCORE_SECONDS: intFromEnv(0, 86_400).default(300),
  /** Stable per scoring process: Kafka fences a zombie with the same transactional id. */
  SCORING_INSTANCE_ID: z.string().min(1).default(hostname()),
  /**
   * Partitions one scoring process handles at once: one batch's decode and scoring overlap another's
   * PostgreSQL and Redis round trips; the Kafka transactions stay one at a time. 1: strictly serial.
   */
  SCORING_CONCURRENCY: intFromEnv(1, 64).default(2),
  /**
   * A backfill's scoring processes name the LIVE scoring group here: they pause while its lag on
   * the claims topic exceeds SCORING_YIELD_MAX_LAG and run at the lowest OS priority
   * (pipeline/backfill-gate.ts). Unset: a live scoring process.
   */
  SCORING_YIELD_TO_GROUP: z.string().min(1).optional(),
  SCORING_YIELD_MAX_LAG: intFromEnv(1, 100_000_000).default(2000),
  /** Scoring run bound into every decision id v2: `live` for the streaming pipeline, a backfill names its own. */
  SCORING_RUN_ID: z.string().regex(/^[a-z0-9._-]{1,64}$/, 'expected 1-64 of a-z 0-9 . _ -').default('live'),
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  /** Interface of the metrics/health endpoint (/metrics, /healthz, /readyz): loopback by default. */
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** Port of the metrics/health endpoint; 0 (the default) = no endpoint. Give each process on a host its own. */
  METRICS_PORT: intFromEnv(0, 65535).default(0),
  /** Bearer token /metrics requires when set (/healthz and /readyz stay open). A secret: never log it. */
  METRICS_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  DATABASE_URL: url(['postgres:', 'postgresql:']).default('postgres://postgres@127.0.0.1:5432/claimtrail'),
  DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'lower-case SQL identifier').default('public'),
  CHAIN_RPC_URL: url(['http:', 'https:', 'ws:', 'wss:']).default('http://127.0.0.1:8545'),
  SIGNER_PRIVATE_KEY: z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected 0x + 64 hex digits').optional(),
  SIGNER_KEY_FILE: z.string().min(1).optional(),
  DECISION_ANCHOR_ADDRESS: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 0x-prefixed 20-byte address').optional(),
  /** DecisionAnchorV2 (proof format v2): required on every chain but the dev chain 31337, where it is deployed automatically. */
  DECISION_ANCHOR_V2_ADDRESS: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 0x-prefixed 20-byte address').optional(),
  /**
   * The anchoring address whose DecisionAnchorV2 records this installation's verification trusts
   * (`claimtrail verify <claim-id>`, compliance verify). Default: the address of the signer key when
   * this process holds it, else the dev deployment's recorded anchorer; with none, v2 decisions
   * verify UNPINNED (never PASS).
   */
  DECISION_ANCHOR_V2_ANCHORER: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 0x-prefixed 20-byte address').optional(),
  /** Key holding MODEL_REGISTRAR_ROLE on DecisionAnchorV2 (never the anchoring key); unset: models are not registered at start. */
  MODEL_REGISTRAR_PRIVATE_KEY: z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected 0x + 64 hex digits').optional(),
  MODEL_REGISTRAR_KEY_FILE: z.string().min(1).optional(),
  /** A claimtrail-trust-v1 file: the deployments `claimtrail verify --bundle` trusts (docs/proof-bundle.md#trust). */
  TRUST_FILE: z.string().min(1).optional(),
  CONFIRMATIONS: intFromEnv(1, 1000).default(1),
  ANCHOR_QUEUE: z.string().min(1).default('claimtrail-anchor'),
  BATCH_MAX_SIZE: intFromEnv(1, 1_000_000).default(1000),
  BATCH_MAX_AGE_MS: intFromEnv(10, 3_600_000).default(2000),
  /**
   * Shortest time between two epochs (docs/gas.md): an epoch job waits this long after the first
   * batch closed since the last epoch, then anchors everything pending in one transaction. 0: one
   * epoch per block (lowest anchor lag, highest gas). Production at high rates: 60 (0.12 gas per
   * decision at 10,000 claims/s). Flagged roots never wait (one per block at most).
   */
  ANCHOR_EPOCH_SECONDS: intFromEnv(0, 86_400).default(0),
  MODEL_DIR: z.string().min(1).default('models/current'),
  /** A second model bundle scored in shadow beside MODEL_DIR (champion / challenger); unset: none. */
  CHALLENGER_MODEL_DIR: z.string().min(1).optional(),
  /** Redis key prefix of the entity aggregates; default `claimtrail:agg:<SCORING_GROUP_ID>`. */
  AGGREGATE_KEY_PREFIX: z.string().min(1).regex(/^[\w:.-]+$/, 'letters, digits, _ : . - only').optional(),
  /**
   * HMAC key of the aggregates' duplicate-claim keys and member index (scoring/aggregate-key.ts):
   * 32 bytes as 64 hex digits or base64, or a file holding it. A secret.
   */
  AGGREGATE_KEY_SECRET: z.string().refine((s) => decodeMasterKey(s) !== null, MASTER_KEY_FORMAT).optional(),
  AGGREGATE_KEY_SECRET_FILE: z.string().min(1).optional(),
  /** Days an aggregate key lives after its last write; must exceed the model's longest window. */
  AGGREGATE_TTL_DAYS: intFromEnv(2, 3660).default(37),
  EXCLUSION_LISTS: csv.default([]),
  STATE_DIR: z.string().min(1).default('.state'),
  /** Where the PHI master key lives: `local` (PHI_MASTER_KEY / PHI_MASTER_KEY_FILE). A cloud KMS is added behind privacy/key-wrapper.ts. */
  PHI_KMS: z.enum(['local']).default('local'),
  PHI_MASTER_KEY: z.string().refine((s) => decodeMasterKey(s) !== null, MASTER_KEY_FORMAT).optional(),
  PHI_MASTER_KEY_FILE: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** JSON log lines go to this file instead of stdout (the CLI picks `<STATE_DIR>/logs/` on a terminal). */
  LOG_FILE: z.string().min(1).optional(),
  /**
   * `1`: commands may fall back to the local stack's generated dev keys (PHI master key, review
   * index key, aggregate key) when none is configured, and only with a database on this machine.
   * Set by `claimtrail start` and the test projects; never in production.
   */
  CLAIMTRAIL_DEV_KEYS: z.enum(['0', '1'], "expected 0 or 1").default('0'),
});

export interface Config {
  kafka: {
    brokers: string[];
    clientId: string;
    topics: { claims: string; dlq: string; decisions: string; shadow: string; acks: string; interchanges: string };
    partitions: number;
    scoringGroupId: string;
    /** Consumer group (and transactional id prefix) of the `ingest` role (interchanges -> claims). */
    ingestGroupId: string;
    batchingGroupId: string;
    scoringInstanceId: string;
    /** SCORING_CONCURRENCY: partitions a scoring process handles at once. */
    scoringConcurrency: number;
    /** A backfill yields to this live scoring group (SCORING_YIELD_TO_GROUP / _MAX_LAG); undefined: live. */
    yieldTo: { groupId: string; maxLag: number } | undefined;
    /** TLS to the brokers (PEM texts read from the files at load); undefined: plaintext. */
    ssl: KafkaTls | undefined;
    /** SASL authentication; undefined: none. */
    sasl: KafkaSasl | undefined;
  };
  /**
   * Scoring run (`[a-z0-9._-]{1,64}`, default `live`): part of every decision id v2, so a
   * re-scoring run over the same claims never reuses the live decisions' ids (docs/proof-format-v2.md).
   */
  scoringRunId: string;
  redisUrl: string;
  /** The process's metrics/health endpoint (port 0: none). `token` is a secret: never log it. */
  metrics: { host: string; port: number; token: string | undefined };
  database: { url: string; schema: string };
  chain: {
    rpcUrl: string;
    /** Absent until a key is configured; anchoring refuses to start without it. */
    signerKey: string | undefined;
    /** The v1 DecisionAnchor: anchors only v1-leaf batches left from before proof format v2. */
    contractAddress: string | undefined;
    /** DecisionAnchorV2 (epochs, flagged roots, models); required off the dev chain. */
    contractV2Address: string | undefined;
    /** DECISION_ANCHOR_V2_ANCHORER: the anchorer server-side verification pins v2 decisions to. */
    anchorerAddress: string | undefined;
    /** The model registrar's key (MODEL_REGISTRAR_PRIVATE_KEY / MODEL_REGISTRAR_KEY_FILE). A secret: never log it. */
    registrarKey: string | undefined;
    confirmations: number;
    /** claimtrail-trust-v1 file `verify --bundle` pins to when no --contract / --trust is given. */
    trustFile: string | undefined;
  };
  anchor: { queue: string; batchMaxSize: number; batchMaxAgeMs: number; epochSeconds: number };
  modelDir: string;
  /** Challenger bundle scored in shadow (logged to the shadow topic, never acted on). */
  challengerModelDir: string | undefined;
  /**
   * Entity aggregates in Redis: key prefix, key lifetime, and the HMAC key of duplicate-claim
   * keys as 64 hex digits (AGGREGATE_KEY_SECRET / _FILE; absent when neither is set: only the
   * local stack may then use its dev key, cli/dev-sources.ts). A secret: never log it.
   */
  aggregates: { keyPrefix: string; ttlDays: number; keySecretHex: string | undefined };
  /** OIG LEIE CSV files whose NPIs the excluded-provider rule flags (empty: the rule never fires). */
  exclusionLists: string[];
  stateDir: string;
  logLevel: string;
  /** JSON log file (LOG_FILE); undefined: the caller decides (stdout, or a file when stdout is a terminal). */
  logFile: string | undefined;
  /**
   * CLAIMTRAIL_DEV_KEYS=1: the dev key sources (cli/dev-sources.ts) may use the local stack's
   * generated keys when none is configured, with a database on this machine only. A loopback
   * DATABASE_URL alone is not enough: a cloud SQL proxy listens on 127.0.0.1 too.
   */
  devKeys: boolean;
  /** Access monitoring (monitoring/): topics, consumer group, clock-skew bound (s), relay sweep and chain watch periods (ms; chain 0 = off), behaviour scoring period (s; 0 = off). */
  monitoring: { accessTopic: string; accessDlqTopic: string; groupId: string; maxClockSkewSeconds: number; relayPollMs: number; chainPollMs: number; scoreSeconds: number };
  privacy: {
    kms: 'local';
    /**
     * The PHI master key as 64 hex digits, from PHI_MASTER_KEY or PHI_MASTER_KEY_FILE; absent when
     * neither is set (only the local stack may then use its dev key, privacy/master-key.ts).
     * A secret: never log it.
     */
    masterKeyHex: string | undefined;
  };
}

/** TLS settings of the Kafka client, PEM texts (read once from the configured files). */
export interface KafkaTls {
  /** CA certificates to trust; undefined: the system's. */
  ca: string | undefined;
  /** Client certificate chain and key, both or neither. */
  cert: string | undefined;
  key: string | undefined;
}

/** SASL settings of the Kafka client. */
export interface KafkaSasl {
  mechanism: KafkaSaslMechanism;
  username: string;
  /** A secret (KAFKA_SASL_PASSWORD or the file's first line): never log it. */
  password: string;
}

/** Hosts that never leave this machine: plaintext to them is allowed without KAFKA_ALLOW_PLAINTEXT. */
function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Reads a PEM file named by `variable`, pushing one issue (variable, path, errno; never the content) when it cannot. */
function readPem(variable: string, path: string | undefined, issues: string[]): string | undefined {
  if (path === undefined) return undefined;
  try {
    const text = readFileSync(path, 'utf8');
    if (!text.includes('-----BEGIN ')) {
      issues.push(`${variable}: ${path} is not a PEM file (no -----BEGIN line)`);
      return undefined;
    }
    return text;
  } catch (error) {
    issues.push(`${variable}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}

/**
 * The Kafka client's TLS and SASL settings, every problem pushed to `issues`: files that cannot
 * be read, half-configured SASL or client certificates, and plaintext (or a SASL password in
 * clear) to a broker that is not on this machine without KAFKA_ALLOW_PLAINTEXT.
 */
function kafkaSecurity(e: z.infer<typeof EnvSchema>, issues: string[]): { ssl: KafkaTls | undefined; sasl: KafkaSasl | undefined } {
  let ssl: KafkaTls | undefined;
  if (e.KAFKA_SSL) {
    ssl = {
      ca: readPem('KAFKA_SSL_CA_FILE', e.KAFKA_SSL_CA_FILE, issues),
      cert: readPem('KAFKA_SSL_CERT_FILE', e.KAFKA_SSL_CERT_FILE, issues),
      key: readPem('KAFKA_SSL_KEY_FILE', e.KAFKA_SSL_KEY_FILE, issues),
    };
    if ((e.KAFKA_SSL_CERT_FILE === undefined) !== (e.KAFKA_SSL_KEY_FILE === undefined)) {
      issues.push('KAFKA_SSL_CERT_FILE / KAFKA_SSL_KEY_FILE: a client certificate needs both (or neither)');
    }
  } else {
    for (const name of ['KAFKA_SSL_CA_FILE', 'KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE'] as const) {
      if (e[name] !== undefined) issues.push(`${name}: set, but KAFKA_SSL is off (set KAFKA_SSL=on)`);
    }
  }
  let sasl: KafkaSasl | undefined;
  if (e.KAFKA_SASL_MECHANISM === undefined) {
    for (const name of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD', 'KAFKA_SASL_PASSWORD_FILE'] as const) {
      if (e[name] !== undefined) issues.push(`${name}: set, but KAFKA_SASL_MECHANISM is not (${KAFKA_SASL_MECHANISMS.join(', ')})`);
    }
  } else {
    let password = e.KAFKA_SASL_PASSWORD;
    if (e.KAFKA_SASL_USERNAME === undefined) issues.push(`KAFKA_SASL_USERNAME: required with KAFKA_SASL_MECHANISM=${e.KAFKA_SASL_MECHANISM}`);
    if (password !== undefined && e.KAFKA_SASL_PASSWORD_FILE !== undefined) {
      issues.push('KAFKA_SASL_PASSWORD_FILE: set KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, not both');
    } else if (e.KAFKA_SASL_PASSWORD_FILE !== undefined) {
      try {
        // The first line, so a trailing newline (echo > file) is not part of the password.
        password = readFileSync(e.KAFKA_SASL_PASSWORD_FILE, 'utf8').split(/\r?\n/)[0];
        if (!password) issues.push(`KAFKA_SASL_PASSWORD_FILE: ${e.KAFKA_SASL_PASSWORD_FILE} is empty`);
      } catch (error) {
        issues.push(`KAFKA_SASL_PASSWORD_FILE: cannot read ${e.KAFKA_SASL_PASSWORD_FILE} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    } else if (password === undefined) {
      issues.push(`KAFKA_SASL_PASSWORD / KAFKA_SASL_PASSWORD_FILE: one is required with KAFKA_SASL_MECHANISM=${e.KAFKA_SASL_MECHANISM}`);
    }
    if (e.KAFKA_SASL_USERNAME !== undefined && password) sasl = { mechanism: e.KAFKA_SASL_MECHANISM, username: e.KAFKA_SASL_USERNAME, password };
  }
  if (!e.KAFKA_SSL && !e.KAFKA_ALLOW_PLAINTEXT) {
    const remote = e.KAFKA_BROKERS.filter((b) => !isLoopbackHost(b.slice(0, b.lastIndexOf(':'))));
    if (remote.length > 0) {
      issues.push(`KAFKA_BROKERS: ${remote.join(', ')} ${remote.length === 1 ? 'is' : 'are'} not on this machine and KAFKA_SSL is off: claims${e.KAFKA_SASL_MECHANISM ? ' and the SASL password' : ''} would cross the network in clear; set KAFKA_SSL=on, or KAFKA_ALLOW_PLAINTEXT=1 on a private network`);
    }
  }
  return { ssl, sasl };
}

/**
 * Parses `env` into a frozen Config. Throws ConfigError listing every bad variable.
 * A `.env` file in the working directory is loaded first; real environment variables win.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const issues: string[] = [];
  let signerKey = e.SIGNER_PRIVATE_KEY;
  if (!signerKey && e.SIGNER_KEY_FILE) {
    try {
      signerKey = readFileSync(e.SIGNER_KEY_FILE, 'utf8').trim();
      if (!/^0x[0-9a-fA-F]{64}$/.test(signerKey)) issues.push(`SIGNER_KEY_FILE: ${e.SIGNER_KEY_FILE} does not hold 0x + 64 hex digits`);
    } catch (error) {
      issues.push(`SIGNER_KEY_FILE: cannot read ${e.SIGNER_KEY_FILE} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  let registrarKey = e.MODEL_REGISTRAR_PRIVATE_KEY;
  if (registrarKey && e.MODEL_REGISTRAR_KEY_FILE) {
    issues.push('MODEL_REGISTRAR_KEY_FILE: set MODEL_REGISTRAR_PRIVATE_KEY or MODEL_REGISTRAR_KEY_FILE, not both');
  } else if (e.MODEL_REGISTRAR_KEY_FILE) {
    try {
      registrarKey = readFileSync(e.MODEL_REGISTRAR_KEY_FILE, 'utf8').trim();
      if (!/^0x[0-9a-fA-F]{64}$/.test(registrarKey)) issues.push(`MODEL_REGISTRAR_KEY_FILE: ${e.MODEL_REGISTRAR_KEY_FILE} does not hold 0x + 64 hex digits`);
    } catch (error) {
      issues.push(`MODEL_REGISTRAR_KEY_FILE: cannot read ${e.MODEL_REGISTRAR_KEY_FILE} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  let masterKey = e.PHI_MASTER_KEY === undefined ? undefined : decodeMasterKey(e.PHI_MASTER_KEY) ?? undefined;
  if (e.PHI_MASTER_KEY !== undefined && e.PHI_MASTER_KEY_FILE) {
    issues.push('PHI_MASTER_KEY_FILE: set PHI_MASTER_KEY or PHI_MASTER_KEY_FILE, not both');
  } else if (e.PHI_MASTER_KEY_FILE) {
    try {
      masterKey = decodeMasterKey(readFileSync(e.PHI_MASTER_KEY_FILE, 'utf8')) ?? undefined;
      if (!masterKey) issues.push(`PHI_MASTER_KEY_FILE: ${e.PHI_MASTER_KEY_FILE} does not hold a key: ${MASTER_KEY_FORMAT}`);
    } catch (error) {
      issues.push(`PHI_MASTER_KEY_FILE: cannot read ${e.PHI_MASTER_KEY_FILE} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  const { ssl, sasl } = kafkaSecurity(e, issues);
  const aggregateKey = readKey(e.AGGREGATE_KEY_SECRET, e.AGGREGATE_KEY_SECRET_FILE, 'AGGREGATE_KEY_SECRET', issues);
  if (issues.length > 0) throw new ConfigError(issues);
  return deepFreeze({
    kafka: {
      brokers: e.KAFKA_BROKERS,
      clientId: e.KAFKA_CLIENT_ID,
      topics: { claims: e.CLAIMS_TOPIC, dlq: e.DLQ_TOPIC, decisions: e.DECISIONS_TOPIC, shadow: e.SHADOW_TOPIC, acks: e.ACKS_TOPIC, interchanges: e.INTERCHANGES_TOPIC },
      partitions: e.TOPIC_PARTITIONS,
      scoringGroupId: e.SCORING_GROUP_ID,
      ingestGroupId: e.INGEST_GROUP_ID,
      batchingGroupId: e.BATCHING_GROUP_ID,
      scoringInstanceId: e.SCORING_INSTANCE_ID,
      scoringConcurrency: e.SCORING_CONCURRENCY,
      yieldTo: e.SCORING_YIELD_TO_GROUP ? { groupId: e.SCORING_YIELD_TO_GROUP, maxLag: e.SCORING_YIELD_MAX_LAG } : undefined,
      ssl,
      sasl,
    },
    scoringRunId: e.SCORING_RUN_ID,
    redisUrl: e.REDIS_URL,
    metrics: { host: e.METRICS_HOST, port: e.METRICS_PORT, token: e.METRICS_TOKEN },
    database: { url: e.DATABASE_URL, schema: e.DATABASE_SCHEMA },
    chain: {
      rpcUrl: e.CHAIN_RPC_URL,
      signerKey,
      contractAddress: e.DECISION_ANCHOR_ADDRESS,
      contractV2Address: e.DECISION_ANCHOR_V2_ADDRESS,
      anchorerAddress: e.DECISION_ANCHOR_V2_ANCHORER,
      registrarKey,
      confirmations: e.CONFIRMATIONS,
      trustFile: e.TRUST_FILE,
    },
    anchor: { queue: e.ANCHOR_QUEUE, batchMaxSize: e.BATCH_MAX_SIZE, batchMaxAgeMs: e.BATCH_MAX_AGE_MS, epochSeconds: e.ANCHOR_EPOCH_SECONDS },
    modelDir: e.MODEL_DIR,
    challengerModelDir: e.CHALLENGER_MODEL_DIR,
    aggregates: { keyPrefix: e.AGGREGATE_KEY_PREFIX ?? `claimtrail:agg:${e.SCORING_GROUP_ID}`, ttlDays: e.AGGREGATE_TTL_DAYS, keySecretHex: aggregateKey?.toString('hex') },
    exclusionLists: e.EXCLUSION_LISTS,
    stateDir: e.STATE_DIR,
    logLevel: e.LOG_LEVEL,
    logFile: e.LOG_FILE,
    devKeys: e.CLAIMTRAIL_DEV_KEYS === '1',
    monitoring: { accessTopic: e.ACCESS_EVENTS_TOPIC, accessDlqTopic: e.ACCESS_EVENTS_DLQ_TOPIC, groupId: e.MONITOR_GROUP_ID, maxClockSkewSeconds: e.MONITOR_MAX_CLOCK_SKEW_SECONDS, relayPollMs: e.ACCESS_RELAY_POLL_MS, chainPollMs: e.MONITOR_CHAIN_POLL_MS, scoreSeconds: e.MONITOR_SCORE_SECONDS },
    privacy: { kms: e.PHI_KMS, masterKeyHex: masterKey?.toString('hex') },
  });
}

/**
 * A 32-byte key given as `<name>` (the value) or `<name>_FILE` (a file holding it), decoded like
 * the PHI master key; problems are pushed onto `issues`, naming the variable, never the value.
 */
function readKey(value: string | undefined, file: string | undefined, name: string, issues: string[]): Buffer | undefined {
  if (value !== undefined && file) {
    issues.push(`${name}_FILE: set ${name} or ${name}_FILE, not both`);
    return undefined;
  }
  if (value !== undefined) return decodeMasterKey(value) ?? undefined;
  if (!file) return undefined;
  try {
    const key = decodeMasterKey(readFileSync(file, 'utf8'));
    if (!key) issues.push(`${name}_FILE: ${file} does not hold a key: ${MASTER_KEY_FORMAT}`);
    return key ?? undefined;
  } catch (error) {
    issues.push(`${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}

/**
 * Environment variables that give one run its own Kafka topics, consumer groups, transactional
 * id, anchor queue and PostgreSQL schema, all named after `id` (a lower-case SQL identifier):
 * tests, benchmarks and fault trials use it to share one stack without seeing each other's data.
 */
export function isolatedEnv(id: string): Record<string, string> {
  return {
    CLAIMS_TOPIC: `${id}.claims`,
    DLQ_TOPIC: `${id}.claims.dlq`,
    DECISIONS_TOPIC: `${id}.decisions`,
    SHADOW_TOPIC: `${id}.decisions.shadow`,
    ACKS_TOPIC: `${id}.claims.acks`,
    INTERCHANGES_TOPIC: `${id}.claims.interchanges`,
    INGEST_GROUP_ID: `${id}-ingest`,
    SCORING_GROUP_ID: `${id}-scoring`,
    BATCHING_GROUP_ID: `${id}-batching`,
    ACCESS_EVENTS_TOPIC: `${id}.access-events`,
    ACCESS_EVENTS_DLQ_TOPIC: `${id}.access-events.dlq`,
    MONITOR_GROUP_ID: `${id}-monitor`,
    SCORING_INSTANCE_ID: id,
    ANCHOR_QUEUE: `${id}-anchor`,
    DATABASE_SCHEMA: id,
  };
}

/** Loads `.env` from the working directory into process.env when the file exists. */
export function loadDotEnv(path = '.env'): void {
  try {
    process.loadEnvFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
