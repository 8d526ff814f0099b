/**
 * claimtrail's nested-CV ensemble beside the peers a data scientist would reach for first, on the
 * same outer folds, in the same run:
 *
 *   npm run bench:models -- --data FILE --spec SPEC.json --label COLUMN [--seeds 3] [--seed 1]
 *     [--folds 5] [--inner-folds 3] [--trees 100] [--epochs 30] [--workers 1] [--report FILE.md]
 *
 * For every fold-assignment seed (seed, seed + 1, ...) claimtrail's `crossValidate` runs with
 * `fitFinal: false` (every choice on inner folds of the outer training part). The peers get the
 * same outer folds (`stratifiedFolds` with the same seed) and the same features: the feature
 * spec fitted on the outer training part exactly as the CV fits it (same encoder seed, out-of-fold
 * target statistics), then scikit-learn's logistic regression (standardised) and random forest
 * (500 trees) and XGBoost (400 rounds, depth 5, `hist`) with their defaults otherwise, run by
 * Debian's `/usr/bin/python3` (bench/peers.py) in a child process while claimtrail's CV runs, so
 * the two use both cores. When scikit-learn or XGBoost cannot be imported there, Debian's
 * `python3-sklearn` and `python3-xgboost` are installed with apt-get (as root, from the
 * machine's configured sources); when that cannot be done either, the peers are skipped with
 * one line and only claimtrail's figures are written.
 *
 * Per outer fold: ROC-AUC, PR-AUC (average precision), precision among the top 1 % and 5 % of
 * the fold by score. The report gives mean ± sd over folds x seeds, and the paired differences
 * ensemble - XGBoost (mean, worst fold).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { Rng } from '../core/random.ts';
import { crossValidate, networkName, stratifiedFolds, TABLE_BOOSTER_CANDIDATES, TABLE_FOREST_CANDIDATES, TABLE_NETWORK_CANDIDATES } from '../training/cross-validate.ts';
import { prAuc, precisionAtTop, rocAuc } from '../training/evaluation/metrics.ts';
import { parseFeatureSpec, TableEncoder } from '../training/tables/feature-spec.ts';
import { readLabels, readTable, type TableRow } from '../training/tables/table-reader.ts';

const PYTHON = '/usr/bin/python3';
const run = promisify(execFile);

const { values: args } = parseArgs({
  options: {
    data: { type: 'string' },
    spec: { type: 'string' },
    label: { type: 'string' },
    seeds: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
    folds: { type: 'string', default: '5' },
    'inner-folds': { type: 'string', default: '3' },
    trees: { type: 'string', default: '100' },
    epochs: { type: 'string', default: '30' },
    report: { type: 'string' },
    workers: { type: 'string', default: '1' },
  },
});
if (!args.data || !args.spec || !args.label) {
  process.stderr.write('usage: npm run bench:models -- --data FILE --spec SPEC.json --label COLUMN [--seeds 3] [--report FILE.md]\n');
  process.exit(2);
}
const SEEDS = Number(args.seeds);
const SEED = Number(args.seed);
const FOLDS = Number(args.folds);
const INNER = Number(args['inner-folds']);
const TREES = Number(args.trees);
const EPOCHS = Number(args.epochs);
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
const loadAtStart = load();
const started = performance.now();
const cpu0 = process.cpuUsage();

const spec = parseFeatureSpec(JSON.parse(await readFile(args.spec, 'utf8')));
const table = await readTable(args.data);
const labels = readLabels(table.rows, args.label);
const rows = table.rows;

/** One model's figures on one outer fold. */
interface FoldFigures {
  rocAuc: number;
  prAuc: number;
  top1: number;
  top5: number;
}
const MODELS = ['claimtrail ensemble', 'claimtrail forest', 'claimtrail network', 'claimtrail boosted trees', 'scikit-learn RF, 500 trees', 'XGBoost, 400 rounds depth 5', 'logistic regression'] as const;
type Model = (typeof MODELS)[number];
const figures = new Map<Model, FoldFigures[]>(MODELS.map((m) => [m, []]));
const measure = (scores: ArrayLike<number>, y: ArrayLike<number>): FoldFigures => ({ rocAuc: rocAuc(scores, y), prAuc: prAuc(scores, y), top1: precisionAtTop(scores, y, 0.01), top5: precisionAtTop(scores, y, 0.05) });

// --- the peers' jobs: same folds, same fitted encoding -----------------------------------------
interface Job {
  id: string;
  width: number;
  trainX: number[];
  trainY: number[];
  testX: number[];
  seed: number;
}
const jobs: Job[] = [];
const testRowsOf = new Map<string, number[]>();
for (let s = 0; s < SEEDS; s++) {
  const seed = SEED + s;
  // crossValidate deals its outer folds with this very call.
  const foldOf = stratifiedFolds(labels, FOLDS, new Rng(seed));
  for (let f = 0; f < FOLDS; f++) {
    const trainIdx: number[] = [];
    const testIdx: number[] = [];
    for (let i = 0; i < rows.length; i++) (foldOf[i] === f ? testIdx : trainIdx).push(i);
    const trainY = Uint8Array.from(trainIdx, (i) => labels[i] as number);
    // The encoder seed crossValidate's fold model uses (seed + fold).
    const { encoder, matrix } = TableEncoder.fit(spec, trainIdx.map((i) => rows[i] as TableRow), trainY, { seed: seed + f });
    const test = encoder.transform(testIdx.map((i) => rows[i] as TableRow));
    const id = `${seed}/${f}`;
    jobs.push({ id, width: encoder.names.length, trainX: Array.from(matrix), trainY: Array.from(trainY), testX: Array.from(test), seed });
    testRowsOf.set(id, testIdx);
  }
}

const work = await mkdtemp(path.join(tmpdir(), 'claimtrail-peers-'));
let peerNote: string;
let peers: Promise<{ versions: Record<string, string>; results: { id: string; lr: number[]; rf: number[]; xgb: number[]; seconds: Record<string, number> }[] } | null>;
/** The peers' versions line, installing Debian's packages when they are missing; throws when it cannot. */
async function peerVersions(): Promise<string> {
  const check = async (): Promise<string> => (await run(PYTHON, [path.join(import.meta.dirname, 'peers.py'), '--check'])).stdout.trim();
  try {
    return await check();
  } catch {
    process.stderr.write(`${PYTHON} cannot import sklearn and xgboost: installing python3-sklearn python3-xgboost with apt-get\n`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await run('apt-get', ['update', '-qq'], { env, maxBuffer: 1 << 24 });
    await run('apt-get', ['install', '-y', '-qq', 'python3-sklearn', 'python3-xgboost'], { env, maxBuffer: 1 << 24 });
    return await check();
  }
}

try {
  peerNote = await peerVersions();
  const jobsFile = path.join(work, 'jobs.json');
  const outFile = path.join(work, 'out.json');
  await writeFile(jobsFile, JSON.stringify({ jobs }));
  peers = run(PYTHON, [path.join(import.meta.dirname, 'peers.py'), jobsFile, outFile], { maxBuffer: 1 << 24 }).then(async () => JSON.parse(await readFile(outFile, 'utf8')));
} catch {
  peerNote = `peers skipped: ${PYTHON} cannot import sklearn and xgboost, and apt-get could not install python3-sklearn python3-xgboost here`;
  process.stderr.write(`${peerNote}\n`);
  peers = Promise.resolve(null);
}

// --- claimtrail: nested CV per seed ----------------------------------------------------------
const cvSeconds: number[] = [];
/** The network shape the inner folds chose, per outer fold. */
const shapes: string[] = [];
const foldLabels = new Map<string, Uint8Array>();
for (let s = 0; s < SEEDS; s++) {
  const seed = SEED + s;
  const cv = await crossValidate({
    rows,
    labels,
    spec,
    folds: FOLDS,
    innerFolds: INNER,
    seed,
    trees: TREES,
    epochs: EPOCHS,
    fitFinal: false,
    workers: Number(args.workers),
    onProgress: (done, total, what) => process.stderr.write(`\rseed ${seed} ${what} ${done}/${total}          `),
  });
  cvSeconds.push(cv.durationsMs.cv / 1000);
  for (let f = 0; f < FOLDS; f++) {
    const id = `${seed}/${f}`;
    const idx = testRowsOf.get(id) as number[];
    // Same folds as the peers: checked, not assumed.
    const cvIdx = Array.from(cv.foldOf.keys()).filter((i) => cv.foldOf[i] === f);
    if (cvIdx.join() !== idx.join()) throw new Error(`fold ${id}: claimtrail and the peers do not hold out the same rows`);
    const y = Uint8Array.from(idx, (i) => labels[i] as number);
    foldLabels.set(id, y);
    const pick = (scores: Float64Array): Float64Array => Float64Array.from(idx, (i) => scores[i] as number);
    figures.get('claimtrail ensemble')!.push(measure(pick(cv.ensemble), y));
    figures.get('claimtrail forest')!.push(measure(pick(cv.rf), y));
    figures.get('claimtrail network')!.push(measure(pick(cv.nn), y));
    figures.get('claimtrail boosted trees')!.push(measure(pick(cv.gb), y));
  }
  shapes.push(...cv.folds.map((f) => networkName(f.combination.network)));
  process.stderr.write(`\rseed ${seed}: nested CV ${(cv.durationsMs.cv / 1000).toFixed(1)} s; weights per fold ${cv.folds.map((f) => `${f.combination.weights.rf.toFixed(2)}/${f.combination.weights.nn.toFixed(2)}/${f.combination.weights.gb.toFixed(2)}`).join(' ')}\n`);
}

const peerOut = await peers;
await rm(work, { recursive: true, force: true });
let peerCpu = 0;
if (peerOut) {
  for (const job of jobs) {
    const r = peerOut.results.find((x) => x.id === job.id);
    if (!r) throw new Error(`peers: no result for fold ${job.id}`);
    const y = foldLabels.get(job.id) as Uint8Array;
    figures.get('scikit-learn RF, 500 trees')!.push(measure(r.rf, y));
    figures.get('XGBoost, 400 rounds depth 5')!.push(measure(r.xgb, y));
    figures.get('logistic regression')!.push(measure(r.lr, y));
    peerCpu += Object.values(r.seconds).reduce((a, b) => a + b, 0);
  }
}

// --- report ----------------------------------------------------------------------------------
const mean = (v: readonly number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
const sd = (v: readonly number[]): number => {
  const m = mean(v);
  return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, v.length - 1));
};
const count = (values: readonly string[]): string => [...new Set(values)].map((v) => `${v} x${values.filter((w) => w === v).length}`).join(', ');
const cell = (v: readonly number[], digits = 4): string => `${mean(v).toFixed(digits)} ± ${sd(v).toFixed(digits)}`;
const cpu = process.cpuUsage(cpu0);
const lines: string[] = [];
const command = `npm run bench:models -- ${process.argv.slice(2).join(' ')}`;
lines.push(`# claimtrail vs peers: ${path.basename(args.data)} (label ${args.label})`);
lines.push('');
lines.push(`- command: \`${command}\``);
lines.push(`- ${rows.length} rows, ${labels.reduce((a, b) => a + b, 0)} fraudulent; ${FOLDS} stratified outer folds x seeds ${Array.from({ length: SEEDS }, (_, s) => SEED + s).join(', ')} (${FOLDS * SEEDS} folds), the same held-out rows for every model (checked per fold)`);
lines.push(`- claimtrail: nested CV (inner ${INNER}-fold on each outer training part chooses the forest setting among ${TABLE_FOREST_CANDIDATES.length}, the network among ${TABLE_NETWORK_CANDIDATES.map(networkName).join(' and ')} with its epochs 1..${EPOCHS} (chosen per fold: ${count(shapes)}), the booster setting among ${TABLE_BOOSTER_CANDIDATES.length} and its rounds (every 25 up to 400), the stacker's weights); forest ${TREES} trees`);
lines.push(`- peers: ${peerNote}; the feature spec fitted on each outer training part as claimtrail fits it; defaults otherwise (logistic regression on standardised features, max_iter 5000)`);
lines.push(`- time: claimtrail nested CV ${cvSeconds.map((s) => `${s.toFixed(0)} s`).join(' + ')} (wall, peers running beside it); peers ${peerCpu.toFixed(0)} CPU-s; this process ${((cpu.user + cpu.system) / 1e6).toFixed(0)} CPU-s; total wall ${((performance.now() - started) / 1000).toFixed(0)} s on ${cpus().length} CPUs; load average ${loadAtStart} at the start, ${load()} at the end`);
lines.push('');
lines.push(`## Per outer fold (mean ± sd over ${FOLDS * SEEDS} folds)`);
lines.push('');
lines.push('| model | ROC-AUC | PR-AUC | precision @ top 1 % | precision @ top 5 % |');
lines.push('|---|---|---|---|---|');
for (const m of MODELS) {
  const f = figures.get(m)!;
  if (f.length === 0) continue;
  lines.push(`| ${m} | ${cell(f.map((x) => x.rocAuc))} | ${cell(f.map((x) => x.prAuc), 3)} | ${cell(f.map((x) => x.top1), 3)} | ${cell(f.map((x) => x.top5), 3)} |`);
}
const xgb = figures.get('XGBoost, 400 rounds depth 5')!;
if (xgb.length > 0) {
  const ens = figures.get('claimtrail ensemble')!;
  const dRoc = ens.map((e, i) => e.rocAuc - (xgb[i] as FoldFigures).rocAuc);
  const dPr = ens.map((e, i) => e.prAuc - (xgb[i] as FoldFigures).prAuc);
  lines.push('');
  lines.push('## Paired: claimtrail ensemble - XGBoost, same folds');
  lines.push('');
  lines.push('| metric | mean difference | sd | worst fold | folds worse by > 0.02 |');
  lines.push('|---|---|---|---|---|');
  const signed = (v: number): string => `${v >= 0 ? '+' : ''}${v.toFixed(4)}`;
  for (const [name, d] of [['ROC-AUC', dRoc], ['PR-AUC', dPr]] as const) lines.push(`| ${name} | ${signed(mean(d))} | ${sd(d).toFixed(4)} | ${signed(Math.min(...d))} | ${d.filter((x) => x < -0.02).length} of ${d.length} |`);
}
const text = `${lines.join('\n')}\n`;
process.stdout.write(text);
if (args.report) await writeFile(args.report, text);
