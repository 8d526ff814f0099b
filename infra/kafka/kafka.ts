import { type ConfigResourceTypes, Kafka, logLevel as KafkaLogLevel, type ITopicConfig } from 'kafkajs';
import { MAX_CLAIM_BYTES } from '../../domain/claim.schema.ts';
import type { Config } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
import { checkKafkaAccess } from './kafka-access.ts';
import { kafkaConnectionOptions } from './connection-options.ts';
import { kafkajsLogCreator } from './kafkajs-log.ts';

/**
 * A kafkajs client whose log lines go through pino (namespace kept as `kafkajs`; retriable
 * coordinator answers at debug until they persist, see kafkajs-log.ts).
 */
export function createKafka(config: Readonly<Config>, log: Logger, clientIdSuffix = ''): Kafka {
  return new Kafka({
    ...kafkaConnectionOptions(config, clientIdSuffix),
    logLevel: KafkaLogLevel.WARN,
    retry: { initialRetryTime: 200, retries: 10 },
    logCreator: kafkajsLogCreator(log),
  });
}

/**
 * `ConfigResourceTypes.TOPIC` (2 in the Kafka protocol). kafkajs is CommonJS and Node's ESM loader
 * cannot see that enum as a named export, so the value is spelled out here.
 */
const TOPIC_RESOURCE = 2 as ConfigResourceTypes;

/**
 * Bytes a claims record may take beyond the claim itself: the record batch header (61 bytes),
 * the record's own varints, the key (member id) and headers such as `x-correlation-id`. 64 KiB
 * leaves room for an insurer's own headers too.
 */
export const RECORD_OVERHEAD_BYTES = 64 * 1024;

/**
 * `max.message.bytes` of the claims topic: a claim of exactly {@link MAX_CLAIM_BYTES} (the
 * documented limit) is accepted by the broker with its key and headers, so the scoring stage, not
 * the broker, decides about size; a bigger one that still fits goes to the DLQ as `TOO_LARGE`.
 * The broker's default (1 MiB + 12 bytes) would refuse claims just under the limit at produce time.
 */
export const CLAIMS_TOPIC_MAX_MESSAGE_BYTES = MAX_CLAIM_BYTES + RECORD_OVERHEAD_BYTES;

/**
 * `max.message.bytes` of the DLQ topic. The limit applies to a whole record BATCH, and the
 * scoring stage writes the DLQ copies of one fetched input batch (up to the stage's 1 MiB
 * `maxBytesPerPartition`, or one oversized record batch, at most
 * {@link CLAIMS_TOPIC_MAX_MESSAGE_BYTES}) as one record batch inside its transaction. Each copy
 * carries the original key, value and headers plus the `x-dlq-*` headers (reason, at most 50
 * field errors, source position, time: about 0.2-3 KiB). Small malformed messages therefore grow
 * several-fold (a 10-byte message becomes ~300 bytes): 16 MiB covers a full fetch of ~70-byte
 * records each gaining ~1 KiB of headers. If a DLQ batch were refused, the scoring transaction
 * would fail and be retried forever: the stage would stall, so the headroom is deliberate.
 */
export const DLQ_TOPIC_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/**
 * `max.message.bytes` of the interchanges topic: a whole insurer file (X12 interchange, FHIR
 * Bundle) of up to 64 MiB is one record there, split into claims by the `ingest` role.
 */
export const INTERCHANGES_TOPIC_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * `max.message.bytes` of the acks topic: one acknowledgement interchange per received interchange,
 * whose 277CA has a status per claim (~130 bytes each): 16 MiB holds that of a 64 MiB interchange.
 */
export const ACKS_TOPIC_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/**
 * Creates the claims, DLQ and decisions topics when missing (idempotent). The DLQ keeps
 * messages for 30 days; the decisions topic is the audit log and is never deleted by time
 * (retention -1): batches are recomputed from it. The claims and DLQ topics get their own
 * `max.message.bytes` ({@link CLAIMS_TOPIC_MAX_MESSAGE_BYTES}, {@link DLQ_TOPIC_MAX_MESSAGE_BYTES}).
 * Existing topics are left as they are (kafkajs only has the non-incremental AlterConfigs, which
 * would reset every other setting an operator made): {@link topicSizeProblems} reports a topic
 * whose limit is too small.
 * @throws KafkaAccessError (exit 3) when the brokers refuse our credentials or TLS fails verification.
 */
export async function ensureTopics(kafka: Kafka, config: Readonly<Config>): Promise<void> {
  // A wrong password or an untrusted certificate fails here at once, not after kafkajs' retries.
  await checkKafkaAccess(config);
  const { claims, dlq, decisions, shadow, acks, interchanges } = config.kafka.topics;
  const partitions = config.kafka.partitions;
  const wanted: ITopicConfig[] = [
    { topic: claims, numPartitions: partitions, replicationFactor: 1, configEntries: [{ name: 'max.message.bytes', value: String(CLAIMS_TOPIC_MAX_MESSAGE_BYTES) }] },
    {
      topic: dlq,
      numPartitions: 1,
      replicationFactor: 1,
      configEntries: [
        { name: 'retention.ms', value: String(30 * 24 * 3600 * 1000) },
        { name: 'max.message.bytes', value: String(DLQ_TOPIC_MAX_MESSAGE_BYTES) },
      ],
    },
    { topic: decisions, numPartitions: partitions, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '-1' }] },
    // Champion / challenger shadow scores (scoring/shadow.ts): default retention.
    { topic: shadow, numPartitions: partitions, replicationFactor: 1 },
    // X12 acknowledgements (TA1 / 999 / 277CA) for the senders: one partition keeps their order.
    { topic: acks, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'max.message.bytes', value: String(ACKS_TOPIC_MAX_MESSAGE_BYTES) }] },
    // Whole insurer files for the ingest role (pipeline/ingest.stage.ts).
    { topic: interchanges, numPartitions: partitions, replicationFactor: 1, configEntries: [{ name: 'max.message.bytes', value: String(INTERCHANGES_TOPIC_MAX_MESSAGE_BYTES) }] },
  ];
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = wanted.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) await admin.createTopics({ topics: missing, waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads `max.message.bytes` of the claims and DLQ topics from the broker and returns one line per
 * topic whose limit is below what {@link ensureTopics} would set (e.g. topics created before this
 * setting existed, or by hand); empty when both are fine.
 */
export async function topicSizeProblems(kafka: Kafka, config: Readonly<Config>): Promise<string[]> {
  const { claims, dlq, interchanges, acks } = config.kafka.topics;
  const wanted = new Map([
    [claims, CLAIMS_TOPIC_MAX_MESSAGE_BYTES],
    [dlq, DLQ_TOPIC_MAX_MESSAGE_BYTES],
    [interchanges, INTERCHANGES_TOPIC_MAX_MESSAGE_BYTES],
    // An acks topic made before it was sized refuses the 277CA of a big interchange (the ingest role would stall).
    [acks, ACKS_TOPIC_MAX_MESSAGE_BYTES],
  ]);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [...wanted.keys()].map((name) => ({ type: TOPIC_RESOURCE, name, configNames: ['max.message.bytes'] })),
    });
    const problems: string[] = [];
    for (const resource of described.resources) {
      const entry = resource.configEntries.find((e) => e.configName === 'max.message.bytes');
      const need = wanted.get(resource.resourceName);
      if (need !== undefined && entry && Number(entry.configValue) < need) {
        problems.push(`topic ${resource.resourceName} has max.message.bytes ${entry.configValue}; claimtrail needs at least ${need}`);
      }
    }
    return problems;
  } finally {
    await admin.disconnect();
  }
}
