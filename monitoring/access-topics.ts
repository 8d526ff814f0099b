import type { Kafka } from 'kafkajs';
import type { Config } from '../core/config.ts';

/**
 * Creates the access-events topic (partitions as configured, kept for good: the accounting of
 * disclosures may reach back years) and its dead-letter topic when missing.
 */
export async function ensureAccessTopics(kafka: Kafka, config: Readonly<Config>): Promise<void> {
  const { accessTopic, accessDlqTopic } = config.monitoring;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = [
      { topic: accessTopic, numPartitions: config.kafka.partitions, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '-1' }] },
      { topic: accessDlqTopic, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: String(30 * 24 * 3600 * 1000) }] },
    ].filter((t) => !existing.has(t.topic));
    if (wanted.length > 0) await admin.createTopics({ topics: wanted, waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}
