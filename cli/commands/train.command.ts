import { availableParallelism, cpus, loadavg } from 'node:os';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Command } from 'commander';
import { Presets, SingleBar } from 'cli-progress';
import { InvalidArgumentError } from '../../core/errors.ts';
import { createLogger } from '../../core/logger.ts';
import type { Claim } from '../../domain/claim.schema.ts';
import { generateClaims, type ClaimLabel } from '../../fixtures/generator.ts';
import { readLabelsNdjson } from '../../fixtures/io.ts';
import { readValidClaims } from '../../ingest/claim-sources.ts';
import { crossValidate, networkName, TABLE_BOOSTER_CANDIDATES, TABLE_FOREST_CANDIDATES, TABLE_NETWORK_CANDIDATES, type CrossValidation, type FinalModel } from '../../training/cross-validate.ts';
import { writeEvaluationReport } from '../../training/evaluation/evaluation-report.ts';
import { parseFeatureSpec } from '../../training/tables/feature-spec.ts';
import { saveTableBundle } from '../../training/tables/table-bundle.ts';
import { readLabels, readTable } from '../../training/tables/table-reader.ts';
import { trainModel, type TrainMetrics, type TrainPhase } from '../../training/train.ts';
import { ClaimPayloadRepository } from '../../privacy/claim-payload.repository.ts';
import { createPool } from '../../infra/db/pool.ts';
import { createKafka } from '../../infra/kafka/kafka.ts';
import { openMemberKeys } from '../../privacy/master-key.ts';
import { loadReviewConfig } from '../../review/config.ts';
import { describeLabels, joinClaimPayloads, readVerdictLabels } from '../../training/labels/verdict-labels.ts';
import { commandContext, positiveInt } from '../context.ts';
import { offlineRulesConfig } from '../exclusion-lists.ts';
import { devMasterKeySource } from '../dev-sources.ts';
import { seedArg } from './fixtures.command.ts';

interface TrainFlags {
  data?: string;
  labels?: string;
  labelsFrom?: string;
  labelsFromTopic?: string;
  spec?: string;
  label?: string;
  folds: number;
  innerFolds: number;
  cvSeeds: number;
  workers: number;
  report?: string;
  generate?: number;
  seed: number;
  out?: string;
  trees: number;
  epochs: number;
  progress: boolean;
  /** false with --no-aggregates. */
  aggregates: boolean;
  verbose: boolean;
}

const PHASE_TITLES: Record<TrainPhase, string> = {
  features: 'features',
  forest: 'random forest',
  booster: 'gradient-boosted trees',
  network: 'network',
  evaluate: 'validation',
  save: 'saving',
};

/** `claimtrail train`: trains the RF + tfjs ensemble and writes a model bundle. */
export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description('Train the fraud model (random forest + TensorFlow.js network) and write a verified model bundle.')
    .option('--data <file>', 'claims NDJSON file (invalid lines are skipped and counted)')
    .option('--labels <file>', 'labels NDJSON file for --data ({claimId, fraud, pattern} per line)')
    .option('--labels-from <source>', 'train on the claims investigators labelled: "verdicts" (the VERDICTS_TOPIC topic) joined with claim_payloads in PostgreSQL')
    .option('--labels-from-topic <topic>', 'like --labels-from verdicts, from this Kafka topic of claimtrail-verdict-v1 records')
    .option('--spec <file>', 'feature spec (JSON, docs/feature-spec.md): train on any CSV / NDJSON table given with --data')
    .option('--label <column>', 'with --spec: the label column (1/0, Y/N, yes/no, true/false)')
    .option('--folds <n>', 'with --spec: stratified (outer) cross-validation folds', positiveInt, 5)
    .option('--inner-folds <n>', 'with --spec: inner folds of each training part, for the forest setting, network shape and epochs, booster, stacker, calibration and thresholds', positiveInt, 3)
    .option('--cv-seeds <n>', 'with --spec: repeat the cross-validation with seeds seed..seed+n-1 and report mean ± sd over folds x seeds', positiveInt, 1)
    .option('--workers <n>', 'with --spec: worker threads for the outer folds (same results for any number)', positiveInt, Math.min(2, availableParallelism()))
    .option('--report <dir>', 'with --spec: evaluation report directory (default: <out>/report)')
    .option('--generate <n>', 'train on N freshly generated synthetic claims instead of files', positiveInt)
    .option('--seed <n>', 'seed for the split, the models (and the generator with --generate)', seedArg, 1)
    .option('--out <dir>', 'bundle directory to write, replaced if present (default: MODEL_DIR, models/current)')
    .option('--trees <n>', 'trees in the random forest', positiveInt, 80)
    .option('--no-aggregates', 'claims models: claim features only, without the entity aggregates (provider / member volumes, peers, duplicates; computed point-in-time over the claims in file order)')
    .option('--epochs <n>', 'training epochs of the network (with --spec: the most epochs; the inner CV chooses 1..n)', positiveInt, 12)
    .option('--no-progress', 'no progress bar')
    .option('--verbose', 'also print JSON log lines (LOG_LEVEL) while training', false)
    .addHelpText(
      'after',
      `
Exactly one of --data (with --labels), --generate or --labels-from verdicts (--labels-from-topic).
--labels-from reads every verdict (deduplicated on dispositionId; the latest disposition of a
claim wins: confirmed_fraud = fraud, false_positive = not, others leave the claim unlabelled) and
trains on the claim payloads of those claims stored in PostgreSQL. 20% of the claims, stratified by label, are
held out to choose the ensemble weights, calibrate, set the review/flag thresholds and report
ROC-AUC / PR-AUC. The bundle's model hash (0x + sha256 of manifest.json) is printed at the end.

With --spec, --data is any claim-like table (CSV with a header, or .ndjson) and --label names
its label column: the spec is fitted and the RF + network + boosted trees ensemble cross-validated, nested
(--folds outer folds, stratified, seeded; inside each training part an --inner-folds CV chooses
the forest setting, the network's shape (the MLP or a logistic regression) and epochs, the
booster's setting and rounds, the stacker's ensemble weights, the calibration and the thresholds; balanced bootstraps and class weights for the imbalance). A report with ROC-AUC,
PR-AUC and F1 per fold (mean ± sd over folds x --cv-seeds), top-k precision/recall, Brier and
plots is written, and the final model is fitted on all rows into a table model bundle.

Examples:
  claimtrail train --generate 20000 --seed 7
  claimtrail train --data ../shared/datasets/healthcare-provider-fraud/provider_features_70col.csv --spec fixtures/specs/provider-fraud.spec.json --label PotentialFraud --out models/provider
  claimtrail train --data data/claims.ndjson --labels data/labels.ndjson --out models/2024-06
  claimtrail train --labels-from verdicts --out models/retrained
`,
    )
    .action(async (flags: TrainFlags) => {
      if (flags.spec || flags.label) return trainTable(flags);
      const fromVerdicts = flags.labelsFrom !== undefined || flags.labelsFromTopic !== undefined;
      if (fromVerdicts) {
        if (flags.labelsFrom !== undefined && flags.labelsFrom !== 'verdicts') throw new InvalidArgumentError(`--labels-from knows only "verdicts", not "${flags.labelsFrom}"`);
        if (flags.labelsFrom !== undefined && flags.labelsFromTopic !== undefined) throw new InvalidArgumentError('give one of --labels-from verdicts or --labels-from-topic <topic>');
        if (flags.data || flags.labels || flags.generate) throw new InvalidArgumentError('--labels-from takes claims and labels from the verdicts and PostgreSQL: no --data, --labels or --generate');
      } else if (Boolean(flags.data) === Boolean(flags.generate)) throw new InvalidArgumentError('give exactly one of --data <file>, --generate <n> or --labels-from verdicts');
      if (flags.data && !flags.labels) throw new InvalidArgumentError('--data needs --labels <file>');
      if (flags.generate && flags.labels) throw new InvalidArgumentError('--labels goes with --data, not with --generate');
      const { config } = commandContext();
      const log = createLogger(flags.verbose ? config.logLevel : 'warn');
      const outDir = flags.out ?? config.modelDir;
      const { rules } = await offlineRulesConfig(config);

      let claims: Claim[];
      let labels: ClaimLabel[];
      if (fromVerdicts) {
        const topic = flags.labelsFromTopic ?? loadReviewConfig().verdictsTopic;
        const { labels: verdictLabels, stats } = await readVerdictLabels(createKafka(config, log, '-train'), topic);
        const pool = createPool(config.database.url, config.database.schema, 2);
        const joined = await openMemberKeys(pool, devMasterKeySource(config), log)
          .then((keys) => joinClaimPayloads(new ClaimPayloadRepository(pool, keys), verdictLabels))
          .finally(() => pool.end());
        process.stderr.write(`${describeLabels(topic, stats, joined)}\n`);
        const frauds = joined.labels.filter((l) => l.fraud).length;
        if (frauds === 0 || frauds === joined.labels.length) throw new InvalidArgumentError(`${topic} gives ${frauds} fraud and ${joined.labels.length - frauds} legitimate labelled claims with a payload: training needs both`);
        claims = joined.claims;
        labels = joined.labels;
      } else if (flags.data) {
        const read = await readValidClaims(flags.data);
        if (read.rejected.length > 0) process.stderr.write(`skipped ${read.rejected.length} invalid lines of ${flags.data} (first: line ${read.rejected[0]?.line}: ${read.rejected[0]?.reason} ${read.rejected[0]?.errors[0]?.path} ${read.rejected[0]?.errors[0]?.message})\n`);
        if (read.claims.length === 0) throw new InvalidArgumentError(`${flags.data} holds no valid claim`);
        claims = read.claims;
        labels = await readLabelsNdjson(flags.labels as string);
      } else {
        ({ claims, labels } = generateClaims({ count: flags.generate as number, seed: flags.seed }));
      }

      const bar = flags.progress && process.stderr.isTTY ? new SingleBar({ format: '{phase} [{bar}] {value}/{total}', hideCursor: true }, Presets.shades_classic) : null;
      let current: TrainPhase | undefined;
      const result = await (async () => {
        try {
          return await trainModel({
            claims,
            labels,
            outDir,
            seed: flags.seed,
            log,
            forest: { nTrees: flags.trees },
            network: { epochs: flags.epochs },
            ...(flags.aggregates === false ? { aggregates: null } : {}),
            // Reported as "with rules": every rule, as the Scorer applies them.
            rules,
            onProgress: (phase, done, total) => {
              if (!bar) return;
              if (phase !== current) {
                if (current === undefined) bar.start(total, done, { phase: PHASE_TITLES[phase].padEnd(13) });
                else {
                  bar.setTotal(total);
                  bar.update(done, { phase: PHASE_TITLES[phase].padEnd(13) });
                }
                current = phase;
              } else bar.update(done);
            },
          });
        } finally {
          bar?.stop();
        }
      })();
      process.stdout.write(formatMetrics(result.metrics, claims.length));
      process.stdout.write(`\nmodel bundle: ${result.dir}\nmodel hash:   ${result.modelHash}\n`);
    });
}

const pct = (x: number): string => (Number.isNaN(x) ? '  n/a' : `${(100 * x).toFixed(1).padStart(5)}%`);
const num = (x: number): string => (Number.isNaN(x) ? '  n/a' : x.toFixed(4));

/** The end-of-training report: per-model AUCs, thresholds, per-pattern recall, timings. */
export function formatMetrics(m: TrainMetrics, total: number): string {
  const lines: string[] = [];
  lines.push(`trained on ${m.train.claims} claims (${m.train.frauds} fraudulent), validated on ${m.validation.claims} (${m.validation.frauds}); ${total} claims in all; tf backend: ${m.backend}`);
  lines.push('');
  lines.push('model      ROC-AUC  PR-AUC');
  lines.push(`forest     ${num(m.rf.rocAuc)}   ${num(m.rf.prAuc)}`);
  lines.push(`network    ${num(m.nn.rocAuc)}   ${num(m.nn.prAuc)}`);
  if (m.gb) lines.push(`boosted    ${num(m.gb.rocAuc)}   ${num(m.gb.prAuc)}`);
  const gbWeight = m.weights.gb === undefined ? '' : ` / gb ${m.weights.gb.toFixed(3)}`;
  lines.push(`ensemble   ${num(m.ensemble.rocAuc)}   ${num(m.ensemble.prAuc)}   (weights rf ${Number(m.weights.rf.toFixed(3))} / nn ${Number(m.weights.nn.toFixed(3))}${gbWeight})`);
  lines.push('');
  lines.push('threshold  score    share   precision  recall');
  lines.push(`flag       ${m.thresholds.flag.toFixed(4)}  ${pct(m.atFlag.share)}  ${pct(m.atFlag.precision)}     ${pct(m.atFlag.recall)}`);
  lines.push(`review     ${m.thresholds.review.toFixed(4)}  ${pct(m.atReview.share)}  ${pct(m.atReview.precision)}     ${pct(m.atReview.recall)}`);
  if (m.withRules) lines.push(`with rules: flagged ${pct(m.withRules.flaggedShare)}, precision ${pct(m.withRules.flagPrecision)}, recall ${pct(m.withRules.flagRecall)} (flag) / ${pct(m.withRules.reviewOrFlagRecall)} (review or flag)`);
  const patterns = Object.entries(m.byPattern);
  if (patterns.length > 0) {
    lines.push('');
    lines.push('pattern              count  recall@review  recall@flag   (model score only)');
    for (const [p, s] of patterns.sort((a, b) => a[0].localeCompare(b[0]))) lines.push(`${p.padEnd(20)} ${String(s.count).padStart(5)}  ${pct(s.recallAtReview).padStart(13)}  ${pct(s.recallAtFlag).padStart(11)}`);
  }
  lines.push('');
  lines.push(`time: features ${(m.durationsMs.features / 1000).toFixed(1)} s, forest ${(m.durationsMs.forest / 1000).toFixed(1)} s, network ${(m.durationsMs.network / 1000).toFixed(1)} s, total ${(m.durationsMs.total / 1000).toFixed(1)} s`);
  return `${lines.join('\n')}\n`;
}

/** `train --spec`: cross-validated training on a table, report, final table bundle. */
async function trainTable(flags: TrainFlags): Promise<void> {
  if (!flags.spec || !flags.label || !flags.data) throw new InvalidArgumentError('--spec needs --data <file> and --label <column> (and --label needs --spec)');
  if (flags.labels || flags.generate) throw new InvalidArgumentError('--spec trains on --data with --label; --labels and --generate are for claims');
  const { config } = commandContext();
  const outDir = flags.out ?? config.modelDir;
  let specJson: unknown;
  try {
    specJson = JSON.parse(await readFile(flags.spec, 'utf8'));
  } catch (error) {
    throw new InvalidArgumentError(`cannot read feature spec ${flags.spec}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const spec = parseFeatureSpec(specJson);
  const table = await readTable(flags.data);
  if (!table.columns.includes(flags.label) && !table.rows.some((r) => flags.label as string in r)) throw new InvalidArgumentError(`${flags.data} has no column ${flags.label}`);
  const labels = readLabels(table.rows, flags.label);
  const bar = flags.progress && process.stderr.isTTY ? new SingleBar({ format: '{what} [{bar}] {value}/{total}', hideCursor: true }, Presets.shades_classic) : null;
  const started = performance.now();
  // The first seed's run also fits the final model; the others only repeat the CV with another
  // fold assignment (and model seeds), for the spread of the figures.
  const runs: CrossValidation[] = [];
  try {
    for (let r = 0; r < flags.cvSeeds; r++) {
      const seed = flags.seed + r;
      runs.push(
        await crossValidate({
          rows: table.rows,
          labels,
          spec,
          folds: flags.folds,
          innerFolds: flags.innerFolds,
          workers: flags.workers,
          seed,
          trees: flags.trees,
          epochs: flags.epochs,
          fitFinal: r === 0,
          onProgress: (done, total, what) => {
            if (!bar) return;
            const label = `seed ${seed} ${what}`.padEnd(34);
            if (done === 0) bar.start(total, 0, { what: label });
            else bar.update(done, { what: label });
          },
        }),
      );
    }
  } finally {
    bar?.stop();
  }
  const cv = runs[0] as CrossValidation;
  const final = cv.final as FinalModel;
  const seconds = (performance.now() - started) / 1000;
  const reportDir = flags.report ?? path.join(outDir, 'report');
  const positives = labels.reduce((s, v) => s + v, 0);
  const seeds = runs.map((r) => r.seed);
  const folds = runs.flatMap((r) => r.folds);
  const count = (values: readonly string[]): string => [...new Set(values)].map((v) => `${v} x${values.filter((w) => w === v).length}`).join(', ');
  const range = (values: readonly number[]): string => `${Math.min(...values).toFixed(2)}-${Math.max(...values).toFixed(2)}`;
  const metrics = await writeEvaluationReport(reportDir, {
    title: `Evaluation: ${path.basename(flags.data)} (label ${flags.label})`,
    notes: [
      `nested cross-validation: ${flags.folds} stratified outer folds, repeated for fold-assignment seed${seeds.length > 1 ? 's' : ''} ${seeds.join(', ')}; every score is out-of-fold, and every choice below was made on the outer training part only (an inner ${flags.innerFolds}-fold CV of it), never on the held-out fold`,
      `feature spec ${path.basename(flags.spec)}: ${cv.featureNames.length} features; random forest ${flags.trees} trees on balanced bootstraps, network on standardised inputs with balanced class weights`,
      `forest setting chosen per outer fold by inner ROC-AUC among ${TABLE_FOREST_CANDIDATES.map((c, i) => `#${i} ${JSON.stringify(c)}`).join(', ')}: ${count(folds.map((f) => `#${f.combination.forestIndex}`))}`,
      `network shape and epochs chosen per outer fold by inner ROC-AUC among ${TABLE_NETWORK_CANDIDATES.map(networkName).join(' and ')} x 1..${flags.epochs} epochs: ${folds.map((f) => `${networkName(f.combination.network)}/${f.combination.epochs}`).join(', ')}`,
      `gradient-boosted trees (our histogram booster, eta 0.05) setting and rounds chosen per outer fold by inner ROC-AUC among ${TABLE_BOOSTER_CANDIDATES.map((c, i) => `#${i} ${JSON.stringify(c)}`).join(', ')} x every 25 rounds up to 400: ${count(folds.map((f) => (f.combination.booster ? `#${f.combination.booster.index}/${f.combination.booster.rounds}` : 'none')))}`,
      `ensemble = Platt(w_rf x forest + w_nn x network + w_gb x booster): w from a logistic-regression stacker on the inner out-of-fold scores (non-negative coefficients, a member that does not raise the stacker's held-out ROC-AUC + PR-AUC gets weight 0; its ranking is the weighted mix), Platt and the F1 thresholds fitted on the same inner scores; per outer fold w_rf ${range(folds.map((f) => f.combination.weights.rf))}, w_nn ${range(folds.map((f) => f.combination.weights.nn))}, w_gb ${range(folds.map((f) => f.combination.weights.gb))}`,
      `final model (all rows, the same inner procedure): forest #${final.combination.forestIndex}, network ${networkName(final.combination.network)} ${final.combination.epochs} epochs, booster ${final.booster ? `#${final.combination.booster?.index}, ${final.combination.booster?.rounds} rounds` : 'left out (weight 0)'}, weights rf ${final.weights.rf.toFixed(3)} / nn ${final.weights.nn.toFixed(3)} / gb ${(final.weights.gb ?? 0).toFixed(3)}, ensemble threshold ${final.combination.thresholds.ensemble.toFixed(4)}`,
      `plots and the pooled tables: seed ${cv.seed}; training time: nested CV ${(runs.reduce((s, r) => s + r.durationsMs.cv, 0) / 1000).toFixed(1)} s for ${runs.length} seed${runs.length > 1 ? 's' : ''}, final model ${(cv.durationsMs.final / 1000).toFixed(1)} s (${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)} at the end)`,
    ],
    labels,
    components: [
      { name: 'random forest', scores: cv.rf },
      { name: 'network', scores: cv.nn },
      { name: 'boosted trees', scores: cv.gb },
      { name: 'ensemble', scores: cv.ensemble },
    ],
    probabilities: cv.ensemble,
    perFold: {
      protocol: `${flags.folds} outer folds x ${seeds.length} seed${seeds.length > 1 ? 's' : ''}`,
      components: [
        { name: 'random forest', folds: folds.map((f) => f.metrics.rf) },
        { name: 'network', folds: folds.map((f) => f.metrics.nn) },
        { name: 'boosted trees', folds: folds.map((f) => f.metrics.gb) },
        { name: 'ensemble', folds: folds.map((f) => f.metrics.ensemble) },
      ],
    },
  });
  const ensemble = metrics.components.ensemble;
  const { modelHash, dir } = await saveTableBundle(outDir, final, flags.label, {
    seed: flags.seed,
    rows: table.rows.length,
    frauds: positives,
    folds: flags.folds,
    innerFolds: flags.innerFolds,
    cvSeeds: seeds,
    trees: flags.trees,
    epochs: final.combination.epochs,
    network: final.combination.network,
    forest: final.combination.forest,
    booster: final.combination.booster,
    stacker: final.combination.coefficients,
    threshold: final.combination.thresholds.ensemble,
    cv: metrics.perFold?.components,
    brier: metrics.brier,
  });
  const lines = [
    `${table.rows.length} rows (${positives} fraudulent), ${cv.featureNames.length} features, nested ${flags.folds}-fold CV x ${seeds.length} seeds + final model in ${seconds.toFixed(1)} s`,
    '',
    `per outer fold, mean±sd over ${folds.length} (${flags.folds} folds x ${seeds.length} seeds); F1 at the inner-chosen threshold`,
    'model          ROC-AUC          PR-AUC           F1',
    ...Object.entries(metrics.perFold?.components ?? {}).map(([k, v]) => `${k.padEnd(14)} ${v.rocAuc.mean.toFixed(4)}±${v.rocAuc.sd.toFixed(4)}  ${v.prAuc.mean.toFixed(4)}±${v.prAuc.sd.toFixed(4)}  ${v.f1.mean.toFixed(4)}±${v.f1.sd.toFixed(4)}`),
    `Brier score (ensemble) ${metrics.brier.toFixed(4)}; top 10%: precision ${(100 * (ensemble?.topK[2]?.precision ?? NaN)).toFixed(1)}%, recall ${(100 * (ensemble?.topK[2]?.recall ?? NaN)).toFixed(1)}%`,
    '',
    `report:       ${path.join(reportDir, 'report.md')}`,
    `model bundle: ${dir}`,
    `model hash:   ${modelHash}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
