import type { Command } from 'commander';
import { InvalidArgumentError } from '../../core/errors.ts';
import { readLabelsNdjson } from '../../fixtures/io.ts';
import { createKafka } from '../../infra/kafka/kafka.ts';
import { KafkaDecisionLog } from '../../proofs/decision-log.reader.ts';
import { ShadowRecordSchema, type ShadowRecord } from '../../scoring/shadow.ts';
import { compareShadow, formatShadowComparison } from '../../training/evaluation/shadow-report.ts';
import { commandContext } from '../context.ts';

interface ShadowReportOptions {
  topic?: string;
  labels?: string;
  json: boolean;
}

/** `claimtrail shadow report`: champion vs challenger over the shadow topic. */
export function registerShadowCommand(program: Command): void {
  const shadow = program.command('shadow').description('Champion / challenger: compare the challenger model (CHALLENGER_MODEL_DIR) scored in shadow with the champion.');
  shadow
    .command('report')
    .description(
      'Read every claimtrail-shadow-v1 record of the shadow topic (read_committed) and compare champion and challenger: outcome agreement matrix, ' +
        'flag and review shares, score differences and correlation, and with --labels ROC-AUC / PR-AUC of both on the labeled claims.',
    )
    .option('--topic <topic>', 'shadow topic (default: SHADOW_TOPIC, decisions.shadow)')
    .option('--labels <file>', 'labels NDJSON ({claimId, fraud} per line) to rank both models on the labeled claims')
    .option('--json', 'print one JSON object', false)
    .addHelpText('after', '\nExamples:\n  CHALLENGER_MODEL_DIR=models/challenger npm start   # scores in shadow\n  claimtrail shadow report --labels fixtures/labels.ndjson')
    .action(async (opts: ShadowReportOptions) => {
      const { config, log } = commandContext();
      const labels = opts.labels ? new Map((await readLabelsNdjson(opts.labels)).map((l) => [l.claimId, l.fraud])) : undefined;
      const topic = opts.topic ?? config.kafka.topics.shadow;
      const reader = new KafkaDecisionLog(createKafka(config, log, '-shadow'), topic);
      const partitions = await reader.partitions().catch((error: unknown) => {
        throw new InvalidArgumentError(`cannot read topic ${topic}: ${error instanceof Error ? error.message : String(error)} (is a challenger configured and has the pipeline run?)`);
      });
      const ranges = partitions.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => ({ partition: p.partition, from: p.low, to: (BigInt(p.high) - 1n).toString() }));
      const records: ShadowRecord[] = [];
      let invalid = 0;
      for (const record of await reader.read(ranges)) {
        const parsed = ShadowRecordSchema.safeParse(record.value ? safeJson(record.value.toString('utf8')) : null);
        if (parsed.success) records.push(parsed.data);
        else invalid++;
      }
      const comparison = compareShadow(records, labels);
      if (opts.json) process.stdout.write(`${JSON.stringify({ topic, invalid, ...comparison })}\n`);
      else process.stdout.write(`topic ${topic}${invalid ? ` (${invalid} record(s) not claimtrail-shadow-v1, skipped)` : ''}\n${formatShadowComparison(comparison)}`);
    });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
