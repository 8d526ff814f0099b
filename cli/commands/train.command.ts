import { type Command } from 'commander';
import { Presets, SingleBar } from 'cli-progress';
import { InvalidArgumentError } from '../../core/errors.ts';
import { createLogger } from '../../core/logger.ts';
import type { Claim } from '../../domain/claim.schema.ts';
import { EXCLUDED_NPIS, generateClaims, type ClaimLabel } from '../../fixtures/generator.ts';
import { readClaimsNdjson, readLabelsNdjson } from '../../fixtures/io.ts';
import { createRulesConfig } from '../../scoring/rules.ts';
import { trainModel, type TrainMetrics, type TrainPhase } from '../../scoring/train.ts';
import { commandContext, positiveInt } from '../context.ts';
import { seedArg } from './fixtures.command.ts';

interface TrainFlags {
  data?: string;
  labels?: string;
  generate?: number;
  seed: number;
  out?: string;
  trees: number;
  epochs: number;
  progress: boolean;
  verbose: boolean;
}

const PHASE_TITLES: Record<TrainPhase, string> = {
  features: 'features',
  forest: 'random forest',
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
    .option('--generate <n>', 'train on N freshly generated synthetic claims instead of files', positiveInt)
    .option('--seed <n>', 'seed for the split, the models (and the generator with --generate)', seedArg, 1)
    .option('--out <dir>', 'bundle directory to write, replaced if present (default: MODEL_DIR, models/current)')
    .option('--trees <n>', 'trees in the random forest', positiveInt, 80)
    .option('--epochs <n>', 'training epochs of the network', positiveInt, 12)
    .option('--no-progress', 'no progress bar')
    .option('--verbose', 'also print JSON log lines (LOG_LEVEL) while training', false)
    .addHelpText(
      'after',
      `
Exactly one of --data (with --labels) or --generate. 20% of the claims, stratified by label, are
held out to choose the ensemble weights, calibrate, set the review/flag thresholds and report
ROC-AUC / PR-AUC. The bundle's model hash (0x + sha256 of manifest.json) is printed at the end.

Examples:
  claimtrail train --generate 20000 --seed 7
  claimtrail train --data data/claims.ndjson --labels data/labels.ndjson --out models/2024-06
`,
    )
    .action(async (flags: TrainFlags) => {
      if (Boolean(flags.data) === Boolean(flags.generate)) throw new InvalidArgumentError('give exactly one of --data <file> or --generate <n>');
      if (flags.data && !flags.labels) throw new InvalidArgumentError('--data needs --labels <file>');
      if (flags.generate && flags.labels) throw new InvalidArgumentError('--labels goes with --data, not with --generate');
      const { config } = commandContext();
      const log = createLogger(flags.verbose ? config.logLevel : 'warn');
      const outDir = flags.out ?? config.modelDir;

      let claims: Claim[];
      let labels: ClaimLabel[];
      if (flags.data) {
        const read = await readClaimsNdjson(flags.data);
        if (read.rejected.length > 0) process.stderr.write(`skipped ${read.rejected.length} invalid lines of ${flags.data} (first: line ${read.rejected[0]?.line}: ${read.rejected[0]?.errors[0]?.path} ${read.rejected[0]?.errors[0]?.message})\n`);
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
            // Demo exclusion list until a real LEIE loader exists: reported as "with rules".
            rules: createRulesConfig({ excludedNpis: EXCLUDED_NPIS }),
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
  lines.push(`ensemble   ${num(m.ensemble.rocAuc)}   ${num(m.ensemble.prAuc)}   (weights rf ${m.weights.rf} / nn ${m.weights.nn})`);
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
