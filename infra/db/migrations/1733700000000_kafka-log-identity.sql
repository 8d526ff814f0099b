-- Up Migration

-- The Kafka log this schema's batches describe (pipeline/log-identity.ts, docs/runbooks.md
-- "Kafka log identity"). Batches name (topic, partition, offset); pointed at another cluster or a
-- recreated `decisions` topic those offsets mean other records, or none. The batching stage
-- checks both tables before it subscribes and refuses to start when they disagree with the
-- brokers; only `claimtrail rebaseline --confirm` overwrites them.
CREATE TABLE kafka_cluster_identity (
  singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  cluster_id  text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);

-- Per partition of the decisions topic: the offset and SHA-256 of the first record retained when
-- the partition was first seen (key and value). A live topic never moves its low watermark back,
-- and keeps that record until retention removes it.
CREATE TABLE kafka_partition_identity (
  topic               text NOT NULL,
  partition           integer NOT NULL,
  first_offset        bigint NOT NULL CHECK (first_offset >= 0),
  first_record_sha256 text NOT NULL,
  recorded_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (topic, partition)
);

-- Down Migration
DROP TABLE kafka_partition_identity;
DROP TABLE kafka_cluster_identity;
