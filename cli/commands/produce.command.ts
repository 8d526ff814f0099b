import { type Command, InvalidArgumentError as FlagError } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { InvalidArgumentError } from '../../core/errors.ts';
import { generateClaims, generateMalformed } from '../../fixtures/generator.ts';
import { type OutgoingClaim, memberKey, readClaimsFile } from '../../ingest/claim-sources.ts';
import { ClaimsProducer } from '../../ingest/claims.producer.ts';
import { isFhirFileName, isX12FileName, readInsurerFile } from '../../ingest/insurer-files.ts';
import { sendInterchangeFile } from '../../ingest/interchanges.producer.ts';
import { createKafka, ensureTopics } from '../../infra/kafka/kafka.ts';
import { commandContext, nonNegativeInt, positiveInt } from '../context.ts';

/** Generated claims (and malformed messages mixed in at fixed positions) as outgoing messages. */
export function* generatedMessages(count: number, seed: number, malformed: number): Generator<OutgoingClaim> {
  const { claims } = generateClaims({ count, seed });
  const bad = generateMalformed(malformed, seed);
  const every = malformed > 0 ? Math.max(1, Math.floor(count / malformed)) : Infinity;
  let b = 0;
  for (let i = 0; i < claims.length; i++) {
    if (i % every === 0 && b < bad.length) {
      const text = typeof bad[b] === 'string' ? (bad[b] as string) : JSON.stringify(bad[b]);
      b++;
      yield { key: memberKey(text), value: Buffer.from(text, 'utf8') };
    }
    const claim = claims[i]!;
    yield { key: claim.memberId, value: Buffer.from(JSON.stringify(claim), 'utf8') };
  }
  for (; b < bad.length; b++) {
    const text = typeof bad[b] === 'string' ? (bad[b] as string) : JSON.stringify(bad[b]);
    yield { key: memberKey(text), value: Buffer.from(text, 'utf8') };
  }
}

/** `produce --file F --via-interchange-topic`: the whole file as one message for the ingest role. */
async function produceInterchange(file: string | undefined): Promise<void> {
  if (!file || !(isX12FileName(file) || isFhirFileName(file))) throw new FlagError('--via-interchange-topic goes with --file of an X12 (.837/.x12/.edi/.txt) or FHIR (.json) file');
  const { config, log } = commandContext();
  const kafka = createKafka(config, log);
  await ensureTopics(kafka, config);
  const bytes = await sendInterchangeFile(kafka, config.kafka.topics.interchanges, file);
  process.stdout.write(`produced ${file} (${bytes} bytes) to ${config.kafka.topics.interchanges} as one interchange\n`);
}

export function registerProduceCommand(program: Command): void {
  program
    .command('produce')
    .description('Send claims to the claims topic, keyed by member id: from a file (NDJSON or CSV) or from the synthetic generator.')
    .option('--file <path>', 'claims file: .ndjson/.jsonl (one JSON claim per line), .csv (see README for columns), X12 837 (.837/.x12/.edi/.txt) or FHIR JSON (.json: a Claim, an ExplanationOfBenefit or a Bundle); docs/formats.md')
    .option('--generate <n>', 'generate N synthetic claims instead of reading a file', positiveInt)
    .option('--seed <n>', 'generator seed', nonNegativeInt, 1)
    .option('--malformed <n>', 'with --generate: also mix in N malformed messages (they end in the DLQ)', nonNegativeInt, 0)
    .option('--topic <name>', 'topic to send to (default: CLAIMS_TOPIC)')
    .option('--via-interchange-topic', 'with --file (X12 or FHIR): send the whole file as one message to INTERCHANGES_TOPIC; the ingest role (`claimtrail run --roles ingest`) splits it', false)
    .option('--no-progress', 'no progress bar')
    .action(async (opts: { file?: string; generate?: number; seed: number; malformed: number; topic?: string; progress: boolean; viaInterchangeTopic: boolean }) => {
      if (Boolean(opts.file) === Boolean(opts.generate)) throw new InvalidArgumentError('give exactly one of --file or --generate');
      if (opts.viaInterchangeTopic) return produceInterchange(opts.file);
      if (opts.malformed > 0 && !opts.generate) throw new FlagError('--malformed goes with --generate');
      const { config, log } = commandContext();
      // Insurer formats are split here (envelope checks, one message per claim, DLQ for rejected
      // envelopes, X12 acknowledgements); own-JSON files stream as before.
      const insurer = opts.file !== undefined && (isX12FileName(opts.file) || isFhirFileName(opts.file));
      const source = opts.file ? (insurer ? readInsurerFile(opts.file) : readClaimsFile(opts.file)) : generatedMessages(opts.generate!, opts.seed, opts.malformed);
      const kafka = createKafka(config, log);
      await ensureTopics(kafka, config);
      const topic = opts.topic ?? config.kafka.topics.claims;
      // The producer retries until the broker answers (idempotence); a missing topic would wait forever.
      const admin = kafka.admin();
      await admin.connect();
      const exists = (await admin.listTopics()).includes(topic);
      await admin.disconnect();
      if (!exists) throw new InvalidArgumentError(`topic ${topic} does not exist (claimtrail creates ${config.kafka.topics.claims}; create others first)`);
      const producer = new ClaimsProducer(kafka);
      await producer.connect();
      const total = opts.generate ? opts.generate + opts.malformed : 0;
      const bar = opts.progress && process.stderr.isTTY ? new SingleBar({ format: 'producing [{bar}] {value}/{total} claims  {eta}s left', etaBuffer: 20 }, Presets.shades_classic) : null;
      bar?.start(total || 1, 0);
      const started = performance.now();
      try {
        const sent = await producer.produce(source, {
          topic,
          routes: { dlq: config.kafka.topics.dlq, acks: config.kafka.topics.acks },
          onProgress: (n) => {
            if (bar) {
              if (!total) bar.setTotal(n);
              bar.update(n);
            }
          },
        });
        bar?.stop();
        const seconds = (performance.now() - started) / 1000;
        process.stdout.write(`produced ${sent} claims to ${topic} in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)}/s)\n`);
      } finally {
        bar?.stop();
        await producer.disconnect();
      }
    });
}
