import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { CompressionTypes, type Kafka, Partitioners } from 'kafkajs';
import { InvalidArgumentError } from '../core/errors.ts';
import { CORRELATION_HEADER } from '../domain/decision-codec.ts';
import { INTERCHANGES_TOPIC_MAX_MESSAGE_BYTES, RECORD_OVERHEAD_BYTES } from '../infra/kafka/kafka.ts';
import { CONTENT_TYPE_HEADER } from './claim-decoder.ts';
import { FHIR_CONTENT_TYPE } from './fhir/fhir-claim.ts';
import { SOURCE_NAME_HEADER, isX12FileName } from './insurer-files.ts';
import { X12_CONTENT_TYPE } from './x12/x12-slice.ts';

/** Largest file `sendInterchangeFile` sends: the interchanges topic's limit less a record's overhead. */
export const MAX_INTERCHANGE_BYTES = INTERCHANGES_TOPIC_MAX_MESSAGE_BYTES - RECORD_OVERHEAD_BYTES;

/**
 * Sends a whole insurer file as ONE message to the interchanges topic (the `ingest` role splits it
 * into claims, DLQ entries and acknowledgements in one transaction): key and `x-source-name` = the
 * file name, `content-type` from the extension (.837/.x12/.edi/.txt X12, otherwise FHIR JSON), a
 * fresh correlation id. Idempotent producer, acks from all in-sync replicas.
 * @returns the bytes sent.
 * @throws InvalidArgumentError when the file cannot be read or exceeds {@link MAX_INTERCHANGE_BYTES}.
 */
export async function sendInterchangeFile(kafka: Kafka, topic: string, path: string): Promise<number> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new InvalidArgumentError(`cannot read claims file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (bytes.length > MAX_INTERCHANGE_BYTES) throw new InvalidArgumentError(`${path} is ${bytes.length} bytes; the interchanges topic takes at most ${MAX_INTERCHANGE_BYTES}: split the file, or produce it without --via-interchange-topic`);
  const name = basename(path);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 10_000 } });
  await producer.connect();
  try {
    await producer.send({
      topic,
      acks: -1,
      compression: CompressionTypes.None,
      messages: [{ key: name, value: bytes, headers: { [CONTENT_TYPE_HEADER]: isX12FileName(path) ? X12_CONTENT_TYPE : FHIR_CONTENT_TYPE, [SOURCE_NAME_HEADER]: name, [CORRELATION_HEADER]: randomUUID() } }],
    });
  } finally {
    await producer.disconnect();
  }
  return bytes.length;
}
