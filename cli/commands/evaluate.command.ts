import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Command } from 'commander';
import { InvalidArgumentError } from '../../core/errors.ts';
import type { Claim } from '../../domain/claim.schema.ts';
import { generateClaims, type ClaimLabel } from '../../fixtures/generator.ts';
import { readLabelsNdjson } from '../../fixtures/io.ts';
import { readValidClaims } from '../../ingest/claim-sources.ts';
import { writeEvaluationReport, type EvaluationMetrics } from '../../training/evaluation/evaluation-report.ts';
import { MODEL_FORMAT } from '../../scoring/model-bundle.ts';
import { Scorer } from '../../scoring/scorer.ts';
import { loadTableBundle, TABLE_MODEL_FORMAT } from '../../training/tables/table-bundle.ts';
import { readLabels, readTable } from '../../training/tables/table-reader.ts';
import { initTf } from '../../scoring/tf.ts';
import type { Config } from '../../core/config.ts';
import { commandContext, positiveInt } from '../context.ts';
import { offlineRulesConfig } from '../exclusion-lists.ts';
import { seedArg } from './fixtures.command.ts';

interface EvaluateFlags {
  bundle?: string;
  data?: string;
  labels?: string;
  label?: string;
  generate?: number;
  seed: number;
  report?: string;
}

/**
 * `claimtrail evaluate`: scores labeled data with a model bundle and writes the evaluation
 * report (report.md, metrics.json, SVG plots). Claims bundles (`claimtrail train`) take claims
 * with labels or freshly generated fixtures (per-pattern recall); table bundles (`train --spec`)
 * take a table with its label column.
 */
export function registerEvaluateCommand(program: Command): void {
  program
    .command('evaluate')
    .description('Score labeled data with a model bundle and write an evaluation report (markdown + SVG plots).')
    .option('--bundle <dir>', 'model bundle (default: MODEL_DIR, models/current)')
    .option('--data <file>', 'claims NDJSON (with --labels) for a claims bundle, or a CSV / NDJSON table (with --label) for a table bundle')
    .option('--labels <file>', 'labels NDJSON for claims ({claimId, fraud, pattern} per line)')
    .option('--label <column>', 'label column of a table')
    .option('--generate <n>', 'claims bundle: evaluate on N freshly generated fixture claims', positiveInt)
    .option('--seed <n>', 'generator seed with --generate (use one the model was not trained with)', seedArg, 99)
    .option('--report <dir>', 'report directory (default: <bundle>-evaluation)')
    .addHelpText(
      'after',
      `
Examples:
  claimtrail evaluate --generate 20000 --seed 99 --report docs/evaluation/fixtures
  claimtrail evaluate --bundle models/provider --data provider_features_70col.csv --label PotentialFraud
`,
    )
    .action(async (flags: EvaluateFlags) => {
      const { config } = commandContext();
      const bundle = flags.bundle ?? config.modelDir;
      const reportDir = flags.report ?? `${path.resolve(bundle)}-evaluation`;
      let format: unknown;
      try {
        format = (JSON.parse(await readFile(path.join(bundle, 'manifest.json'), 'utf8')) as { format?: unknown }).format;
      } catch (error) {
        throw new InvalidArgumentError(`${bundle} is not a model bundle (no readable manifest.json)`, { cause: error });
      }
      await initTf();
      let metrics: EvaluationMetrics;
      if (format === TABLE_MODEL_FORMAT) metrics = await evaluateTable(bundle, flags, reportDir);
      else if (format === MODEL_FORMAT) metrics = await evaluateClaims(bundle, flags, reportDir, config);
      else throw new InvalidArgumentError(`${bundle}: unknown bundle format ${JSON.stringify(format)}`);
      const e = metrics.components.ensemble;
      process.stdout.write(`${metrics.rows} rows (${metrics.frauds} fraudulent): ROC-AUC ${e?.rocAuc.toFixed(4)}, PR-AUC ${e?.prAuc.toFixed(4)}, best F1 ${e?.bestF1.f1.toFixed(4)}, Brier ${metrics.brier.toFixed(4)}\nreport: ${path.join(reportDir, 'report.md')}\n`);
    });
}

async function evaluateTable(bundle: string, flags: EvaluateFlags, reportDir: string): Promise<EvaluationMetrics> {
  if (!flags.data || !flags.label) throw new InvalidArgumentError('a table bundle is evaluated on --data <table> --label <column>');
  const model = await loadTableBundle(bundle);
  try {
    const table = await readTable(flags.data);
    const labels = readLabels(table.rows, flags.label);
    const { rf, nn, score } = model.score(table.rows);
    return await writeEvaluationReport(reportDir, {
      title: `Evaluation of ${model.modelHash.slice(0, 18)}… on ${path.basename(flags.data)}`,
      notes: [`table model bundle ${bundle}, label ${flags.label}`, 'scores by the final model: rows it was trained on score optimistically; the cross-validated report written by train is the honest estimate'],
      labels,
      components: [
        { name: 'random forest', scores: rf },
        { name: 'network', scores: nn },
        { name: 'ensemble', scores: score },
      ],
      probabilities: score,
    });
  } finally {
    model.dispose();
  }
}

async function evaluateClaims(bundle: string, flags: EvaluateFlags, reportDir: string, config: Readonly<Config>): Promise<EvaluationMetrics> {
  let claims: Claim[];
  let labels: ClaimLabel[];
  let source: string;
  if (flags.generate) {
    ({ claims, labels } = generateClaims({ count: flags.generate, seed: flags.seed }));
    source = `${flags.generate} generated fixture claims, seed ${flags.seed}`;
  } else if (flags.data && flags.labels) {
    claims = (await readValidClaims(flags.data)).claims;
    labels = await readLabelsNdjson(flags.labels);
    source = `${path.basename(flags.data)} with ${path.basename(flags.labels)}`;
  } else throw new InvalidArgumentError('a claims bundle is evaluated on --generate <n> or --data <claims.ndjson> --labels <labels.ndjson>');
  const byId = new Map(labels.map((l) => [l.claimId, l]));
  const labeled = claims.filter((c) => byId.has(c.claimId));
  if (labeled.length === 0) throw new InvalidArgumentError('no claim has a label');
  const { rules } = await offlineRulesConfig(config);
  const scorer = await Scorer.load(bundle, { rules });
  try {
    // All claims in file order (entity aggregates see every earlier claim), metrics on the labeled.
    const results = scorer.scoreInOrder(claims).filter((_, i) => byId.has((claims[i] as Claim).claimId));
    const rf = Float64Array.from(results, (r) => r.components.rf);
    const nn = Float64Array.from(results, (r) => r.components.nn);
    const score = Float64Array.from(results, (r) => r.score);
    const y = Uint8Array.from(labeled, (c) => (byId.get(c.claimId)?.fraud ? 1 : 0));
    return await writeEvaluationReport(reportDir, {
      title: `Evaluation of claims model ${scorer.modelHash.slice(0, 18)}…`,
      notes: [`bundle ${bundle}`, `data: ${source}`, 'per-pattern recall: share of each fraud pattern\'s claims among the top k % of scores (model score only, rules excluded)'],
      labels: y,
      components: [
        { name: 'random forest', scores: rf },
        { name: 'MLP', scores: nn },
        { name: 'ensemble', scores: score },
      ],
      probabilities: score,
      patterns: labeled.map((c) => byId.get(c.claimId)?.pattern ?? null),
      thresholds: { review: scorer.manifest.thresholds.review, flag: scorer.manifest.thresholds.flag },
    });
  } finally {
    scorer.dispose();
  }
}
