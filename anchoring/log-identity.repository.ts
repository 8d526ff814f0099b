import type { Pool } from 'pg';

/** The fingerprint of one partition of the decisions topic: its first retained record when first seen. */
export interface PartitionFingerprint {
  partition: number;
  /** Offset of that record, decimal. */
  firstOffset: string;
  /** `0x` + SHA-256 of the record (see pipeline/log-identity.ts, `recordFingerprint`). */
  sha256: string;
}

/** What this schema knows of the Kafka log its batches describe. */
export interface StoredLogIdentity {
  clusterId: string | null;
  partitions: PartitionFingerprint[];
  /** Highest stored batch offset per partition of the topic (partitions with batches only). */
  lastBatched: Map<number, bigint>;
}

/**
 * The Kafka cluster id and the per-partition fingerprints of the decisions topic this schema's
 * batches belong to (`kafka_cluster_identity`, `kafka_partition_identity`).
 */
export class LogIdentityRepository {
  readonly #pool: Pool;
  constructor(pool: Pool) {
    this.#pool = pool;
  }

  async load(topic: string): Promise<StoredLogIdentity> {
    const cluster = await this.#pool.query<{ cluster_id: string }>('SELECT cluster_id FROM kafka_cluster_identity');
    const parts = await this.#pool.query<{ partition: number; first_offset: string; first_record_sha256: string }>(
      'SELECT partition, first_offset::text, first_record_sha256 FROM kafka_partition_identity WHERE topic = $1 ORDER BY partition',
      [topic],
    );
    const batched = await this.#pool.query<{ partition: number; last: string }>(
      'SELECT partition, max(last_offset)::text AS last FROM batches WHERE topic = $1 GROUP BY partition',
      [topic],
    );
    return {
      clusterId: cluster.rows[0]?.cluster_id ?? null,
      partitions: parts.rows.map((r) => ({ partition: r.partition, firstOffset: r.first_offset, sha256: r.first_record_sha256 })),
      lastBatched: new Map(batched.rows.map((r) => [r.partition, BigInt(r.last)])),
    };
  }

  /** Records the cluster id when none is stored yet; `replace` overwrites (rebaseline only). */
  async saveClusterId(clusterId: string, replace = false): Promise<void> {
    await this.#pool.query(
      `INSERT INTO kafka_cluster_identity (singleton, cluster_id) VALUES (true, $1)
       ON CONFLICT (singleton) DO ${replace ? 'UPDATE SET cluster_id = EXCLUDED.cluster_id, recorded_at = now()' : 'NOTHING'}`,
      [clusterId],
    );
  }

  /** Records fingerprints of partitions that have none; `replace` overwrites (rebaseline only). */
  async saveFingerprints(topic: string, fingerprints: readonly PartitionFingerprint[], replace = false): Promise<void> {
    for (const f of fingerprints) {
      await this.#pool.query(
        `INSERT INTO kafka_partition_identity (topic, partition, first_offset, first_record_sha256) VALUES ($1, $2, $3, $4)
         ON CONFLICT (topic, partition) DO ${replace ? 'UPDATE SET first_offset = EXCLUDED.first_offset, first_record_sha256 = EXCLUDED.first_record_sha256, recorded_at = now()' : 'NOTHING'}`,
        [topic, f.partition, f.firstOffset, f.sha256],
      );
    }
  }

  /** Forgets the fingerprints of partitions the topic no longer has (rebaseline only). */
  async deleteFingerprintsExcept(topic: string, partitions: readonly number[]): Promise<void> {
    await this.#pool.query('DELETE FROM kafka_partition_identity WHERE topic = $1 AND NOT (partition = ANY($2::int[]))', [topic, partitions]);
  }
}
