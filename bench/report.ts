import { type AnchorCeiling, gasAtRate, OPERATING_POINT } from './anchoring.ts';
import type { CpuCeiling } from './ceilings.ts';
import type { BenchOptions } from './options.ts';
import type { PipelineRunResult } from './pipeline-run.ts';
import type { StageTimings } from './stage-timings.ts';

/** Everything one bench run measured (written as `<date>.json`; `format` versions the shape). */
export interface BenchResult {
  format: 'claimtrail-bench-v1';
  startedAt: string;
  durationS: number;
  options: BenchOptions;
  machine: { nproc: number; cpuModel: string; memGb: number; node: string; loadAvgStart: number[]; loadAvgEnd: number[] };
  /** HEAD and uncommitted files at start: modules are loaded then, later edits are not measured. */
  code?: { commit: string; dirty: string[] };
  ceilings: {
    decode: CpuCeiling;
    scoring: { features: CpuCeiling; scoreBatch: CpuCeiling; backend: string };
    merkle: Array<{ size: number; builder: 'fast' | 'openzeppelin'; leavesPerSecond: number; leavesPerCpuSecond: number; msPerBatch: number }>;
    kafka: Array<{
      partitions: number;
      messages: number;
      preloadPerSecond: number;
      kafkajs: { perSecond: number; mbPerSecond: number; seconds: number; messages: number };
      java: { perSecond: number; fetchPerSecond: number; mbPerSecond: number; raw: string } | null;
    }>;
  };
  endToEnd: { main: PipelineRunResult; drains: PipelineRunResult[]; fixedRate: PipelineRunResult; saturation: PipelineRunResult; batchSizes: PipelineRunResult[] };
  /**
   * `pipeline`: all three roles with anchoring at the main run's partition count;
   * `atDefaultPartitions`: the same at the deployment's default TOPIC_PARTITIONS, when that differs;
   * `asProcesses`: the deployment's shape, each role its own process, at the default partitions.
   */
  anchoring: { direct: AnchorCeiling; pipeline: PipelineRunResult; atDefaultPartitions?: PipelineRunResult; asProcesses?: PipelineRunResult };
  /** Wall ms of each step of one fetch-sized batch, outside the consumer loop. */
  stageTimings: StageTimings;
  targets: TargetResult[];
}

export interface TargetResult {
  target: string;
  measured: string;
  met: boolean;
  /** When not met: the stage that holds it back, from the stage budget / profile. */
  heldBackBy?: string;
}

const n0 = (v: number) => Math.round(v).toLocaleString('en-US');
const n1 = (v: number) => v.toLocaleString('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });
const n2 = (v: number) => v.toLocaleString('en-US', { maximumFractionDigits: 2, minimumFractionDigits: 2 });

/** CPU microseconds per claim spent in each stage, from the ceilings, against what the whole process spent end to end. */
export function stageBudget(r: BenchResult): Array<{ stage: string; usPerClaim: number; share: number }> {
  const main = r.endToEnd.main;
  const kafka = r.ceilings.kafka.find((k) => k.partitions === main.partitions);
  const merkle = r.ceilings.merkle.filter((m) => m.builder === 'fast').sort((a, b) => Math.abs(a.size - main.batchMaxSize) - Math.abs(b.size - main.batchMaxSize))[0];
  const total = (main.footprint.cpuSeconds * 1e6) / Math.max(1, main.decisions);
  const rows = [
    { stage: 'JSON decode + zod (decodeClaim)', usPerClaim: 1e6 / r.ceilings.decode.perCpuSecond },
    { stage: 'scoring (features + RF + MLP + reasons)', usPerClaim: 1e6 / r.ceilings.scoring.scoreBatch.perCpuSecond },
    { stage: `Merkle leaf + tree (fast, ${merkle?.size ?? '?'} leaves)`, usPerClaim: merkle ? 1e6 / (merkle.leavesPerCpuSecond ?? merkle.leavesPerSecond) : 0 },
    // Wall time of the raw consume: an upper bound of its CPU (the consumer also waits on the broker).
    { stage: 'kafkajs fetch + decode of claims (raw consume)', usPerClaim: kafka ? 1e6 / kafka.kafkajs.perSecond : 0 },
  ];
  const known = rows.reduce((s, x) => s + x.usPerClaim, 0);
  rows.push({ stage: 'rest: decision build + JSON, commitments, PG inserts, kafkajs produce/txn, batching consume, observer', usPerClaim: Math.max(0, total - known) });
  return [...rows.map((x) => ({ ...x, share: total > 0 ? x.usPerClaim / total : 0 })), { stage: 'TOTAL this process, end to end (CPU per claim)', usPerClaim: total, share: 1 }];
}

function biggestStage(r: BenchResult): string {
  const st = r.stageTimings;
  const steps: Array<[string, number]> = [
    ['scoreBatch', st.scoreMs],
    ['batch close (leaf hashing + Merkle + PG recordBatch)', st.batchCloseMs],
    ['Kafka transaction', st.transactionMs],
    ['PG payload insert', st.payloadInsertMs],
    ['decode + zod', st.decodeMs],
    ['entity aggregates (Redis Lua, pipelined)', st.aggregatesMs],
    ['decision build (ids, commitments, JSON)', Math.max(0, st.handleMs - st.scoreMs - st.payloadInsertMs - st.decodeMs - st.aggregatesMs)],
  ];
  steps.sort((a, b) => b[1] - a[1]);
  const serial = st.handleMs + st.transactionMs + st.batchCloseMs;
  const stepText = `one ${n0(st.batchSize)}-claim batch costs ${n0(serial)} ms on one thread: ${steps.slice(0, 3).map(([name, ms]) => `${name} ${n0(ms)} ms`).join(', ')}`;
  const budget = stageBudget(r).slice(0, -1).sort((a, b) => b.usPerClaim - a.usPerClaim)[0];
  const profile = r.endToEnd.main.profile?.byGroup.filter((g) => !g.group.startsWith('(idle')).slice(0, 3).map((g) => `${g.group} ${(g.share * 100).toFixed(0)}%`).join(', ');
  return `${stepText}; largest CPU share: ${budget?.stage ?? '?'} (${n1(budget?.usPerClaim ?? 0)} us/claim)${profile ? `; profile self time: ${profile}` : ''}`;
}

/** The runs with anchoring: in one process at the main run's and the default partition count, then as role processes. */
function anchoringRuns(a: BenchResult['anchoring']): PipelineRunResult[] {
  return [a.pipeline, ...(a.atDefaultPartitions ? [a.atDefaultPartitions] : []), ...(a.asProcesses ? [a.asProcesses] : [])];
}

/** The run with anchoring the target is judged on: the deployment's shape when measured. */
function judgedAnchoringRun(a: BenchResult['anchoring']): PipelineRunResult {
  return a.asProcesses ?? a.atDefaultPartitions ?? a.pipeline;
}

/** How a run with anchoring is named in the table: its partitions, and whether its roles ran as processes. */
function anchoringRunName(run: PipelineRunResult): string {
  return run.processes ? `roles as processes p=${run.partitions}` : `one process p=${run.partitions}`;
}

/**
 * Where the machine's CPU went per claim while a run decided (microseconds per decision): claimtrail's own
 * processes (the bench process, which is the pipeline itself in a one-process run, and each role
 * process), the local services, and the rest of the machine's busy time.
 */
export function cpuPerClaim(run: PipelineRunResult): Array<{ name: string; usPerClaim: number }> {
  if (!run.machineCpu || run.decisions === 0) return [];
  const us = (seconds: number) => (seconds * 1e6) / run.decisions;
  const own = [{ name: run.processes ? 'bench process (observer)' : 'bench process (pipeline + observer)', seconds: run.machineCpu.ownSeconds }, ...(run.processes ?? []).map((p) => ({ name: p.name, seconds: p.cpuSecondsDeciding }))];
  const services = Object.entries(run.machineCpu.services).map(([name, seconds]) => ({ name, seconds }));
  const parts = [...own, ...services];
  const busy = run.machineCpu.busySeconds;
  const rest = busy - parts.reduce((sum, p) => sum + p.seconds, 0);
  return [...parts.map((p) => ({ name: p.name, usPerClaim: us(p.seconds) })), ...(busy > 0 ? [{ name: 'rest of the machine (kernel, other processes)', usPerClaim: us(Math.max(0, rest)) }, { name: 'machine busy, all cores', usPerClaim: us(busy) }] : [])];
}

/** Checks the issue's targets against what was measured. */
export function evaluateTargets(r: BenchResult): TargetResult[] {
  const main = r.endToEnd.main;
  const raw = r.ceilings.kafka.find((k) => k.partitions === main.partitions)?.kafkajs.perSecond ?? 0;
  const ratio = raw > 0 ? main.indexedPerSecond / raw : 0;
  const p99 = r.endToEnd.fixedRate.latencyMs?.p99 ?? Infinity;
  const offered = r.endToEnd.fixedRate.offered?.offeredPerSecond ?? 0;
  const gas = gasAtRate(r.anchoring.direct);
  const l2 = gas.gasPerFlagged[0]!;
  // The target is judged where an installation runs: the default partition count when measured.
  const anchorRuns = anchoringRuns(r.anchoring);
  const judged = judgedAnchoringRun(r.anchoring);
  const withAnchoring = judged.indexedPerSecond;
  const perCore = r.ceilings.scoring.scoreBatch.perCpuSecond;
  const held = biggestStage(r);
  const out: TargetResult[] = [
    { target: 'end to end >= 10,000 claims/s sustained', measured: `${n0(main.indexedPerSecond)} claims/s (p=${main.partitions})`, met: main.indexedPerSecond >= 10_000 },
    { target: 'end to end >= 0.5x raw kafkajs consume', measured: `${n2(ratio)}x of ${n0(raw)} msg/s`, met: ratio >= 0.5 },
    {
      target: `end to end with anchoring (three roles) >= 5,000 claims/s, judged on ${anchoringRunName(judged)}`,
      measured: anchorRuns.map((x) => `${n0(x.indexedPerSecond)} claims/s (${anchoringRunName(x)})`).join(', '),
      met: withAnchoring >= 5_000,
    },
    { target: `p99 <= 100 ms at 2,000 claims/s offered`, measured: `p99 ${n1(p99)} ms at ${n0(offered)}/s offered${r.options.rate !== 2_000 ? ' (not the target rate)' : ''}`, met: p99 <= 100 && r.options.rate >= 2_000 },
    { target: '<= 0.1 gas per decision at 10,000 claims/s, 60 s epochs', measured: `${gas.gasPerDecision.toFixed(3)} gas/decision (${n0(gas.epochGas)} gas per anchorEpoch / 600,000)`, met: gas.epochGas > 0 && gas.gasPerDecision <= 0.1 },
    { target: '<= 100 gas per flagged decision (7 % at 10,000/s, one root per 2 s block)', measured: `${n1(l2.gasPerFlagged)} gas (${n0(gas.flaggedRootGas)} gas per root / ${n0(l2.flaggedPerRoot)})`, met: gas.flaggedRootGas > 0 && l2.gasPerFlagged <= 100 },
    { target: 'scoring >= 100,000 claims/s per core (batched)', measured: `${n0(perCore)} claims per CPU-second (${r.ceilings.scoring.backend})`, met: perCore >= 100_000 },
  ];
  const cores = judged.machineCpu;
  const judgedCpu = cpuPerClaim(judged);
  for (const t of out) {
    if (t.met) continue;
    if (t.target.startsWith('end to end with anchoring') && cores && judgedCpu.length > 0) {
      const parts = judgedCpu.filter((p) => !p.name.startsWith('machine busy')).sort((x, y) => y.usPerClaim - x.usPerClaim);
      t.heldBackBy = `the machine's CPU: ${n1(cores.busySeconds / cores.wallSeconds)} of ${n1(cores.cores)} cores busy, ${n0(judgedCpu.at(-1)!.usPerClaim)} us CPU per claim in all: ${parts.slice(0, 5).map((p) => `${p.name} ${n0(p.usPerClaim)}`).join(', ')}`;
    } else if (t.target.startsWith('end to end') || t.target.startsWith('p99')) t.heldBackBy = held;
    else if (t.target.startsWith('scoring')) t.heldBackBy = `features alone run at ${n0(r.ceilings.scoring.features.perCpuSecond)}/CPU-s; forest + network + reasons take the rest (profile with --cpu-prof)`;
    else if (t.target.includes('gas per decision')) {
      t.heldBackBy = `the fixed ${n0(gas.epochGas)} gas of one anchorEpoch (21,000 base + two new storage slots + event): 60 s epochs commit 600,000 decisions; ANCHOR_EPOCH_SECONDS=${Math.ceil(gas.epochGas / (0.1 * OPERATING_POINT.claimsPerSecond))} meets 0.1`;
    } else if (t.target.includes('flagged')) t.heldBackBy = `one ${n0(gas.flaggedRootGas)}-gas anchorFlaggedRoot per block`;
  }
  return out;
}

function pad(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd()).join('\n');
}

function lat(r: PipelineRunResult): string[] {
  const l = r.latencyMs;
  return l ? [n1(l.p50), n1(l.p95), n1(l.p99), n1(l.max)] : ['-', '-', '-', '-'];
}

/** The plain-text table printed at the end of a run (also pasted in the markdown). */
export function renderTable(r: BenchResult): string {
  const m = r.machine;
  const head = `claimtrail bench ${r.startedAt}${r.options.quick ? ' (--quick)' : ''}: ${m.nproc} cores (${m.cpuModel}), ${n1(m.memGb)} GiB, Node ${m.node}; load avg ${m.loadAvgStart.map(n2).join('/')} -> ${m.loadAvgEnd.map(n2).join('/')}\nshared machine: other engineers' tests run at the same time; single runs, treat differences under ~20% as noise.${r.code ? `\ncode: ${r.code.commit}${r.code.dirty.length > 0 ? ` + uncommitted: ${r.code.dirty.join(', ')}` : ' (clean)'}` : ''}`;
  const c = r.ceilings;
  const ceil: string[][] = [
    ['CEILINGS (same claim bytes)', 'wall /s', 'per CPU-s', 'note'],
    ['decode + zod (decodeClaim)', n0(c.decode.perSecond), n0(c.decode.perCpuSecond), 'claims'],
    ['features only (extractFeatures)', n0(c.scoring.features.perSecond), n0(c.scoring.features.perCpuSecond), 'claims'],
    [`scoring (scoreBatch x500, tfjs ${c.scoring.backend})`, n0(c.scoring.scoreBatch.perSecond), n0(c.scoring.scoreBatch.perCpuSecond), 'claims'],
    ...c.merkle.map((x) => [`Merkle ${x.builder} ${n0(x.size)} leaves`, n0(x.leavesPerSecond), x.leavesPerCpuSecond ? n0(x.leavesPerCpuSecond) : '', `leaves; ${n2(x.msPerBatch)} ms/batch`]),
    ...c.kafka.flatMap((k) => [
      [`kafkajs raw consume, ${k.partitions} partition(s)`, n0(k.kafkajs.perSecond), '', `msg; ${n1(k.kafkajs.mbPerSecond)} MB/s; ${n0(k.messages)} msgs`],
      [`ConsumerPerformance (java), ${k.partitions} partition(s)`, k.java ? n0(k.java.fetchPerSecond) : 'failed', '', k.java ? `msg; ${n1(k.java.mbPerSecond)} MB/s; ${n0(k.java.perSecond)}/s incl. group join` : ''],
    ]),
  ];
  const e = r.endToEnd;
  const rawOf = (p: number) => c.kafka.find((k) => k.partitions === p)?.kafkajs.perSecond ?? 0;
  const e2e: string[][] = [
    ['END TO END (EOS decisions + PG index + batches)', 'decisions/s', 'indexed/s', 'x kafkajs', 'max lag', 'peak RSS MB', 'CPU % (1 core=100)'],
    ...[...e.drains, ...e.batchSizes].map((d) => [
      `${d.label} (batch ${n0(d.batchMaxSize)}, ${n0(d.decisions)} claims)`,
      n0(d.decisionsPerSecond),
      n0(d.indexedPerSecond),
      rawOf(d.partitions) > 0 ? n2(d.indexedPerSecond / rawOf(d.partitions)) : '-',
      n0(d.maxLag),
      n0(d.footprint.peakRssMb),
      n0(d.footprint.avgCpuPct),
    ]),
  ];
  const latency: string[][] = [
    ['LATENCY sent -> decision committed (ms)', 'offered/s', 'p50', 'p95', 'p99', 'max', 'max lag'],
    ...[e.fixedRate, e.saturation].map((x) => [`${x.label}, ${x.partitions} partition(s), ${n0(x.decisions)} claims`, n0(x.offered?.offeredPerSecond ?? 0), ...lat(x), n0(x.maxLag)]),
  ];
  const a = r.anchoring;
  const gasRate = gasAtRate(a.direct);
  const anchor: string[][] = [
    ['ANCHORING', 'value', 'note'],
    ...a.direct.gas.map((g) => [`${g.method}, ${n0(g.leafCount)} decisions`, n0(g.gasUsed), `gas (receipt), ${n0(g.txMs)} ms to receipt`]),
    ['at 10,000 claims/s, 60 s epochs: gas per decision', gasRate.gasPerDecision.toFixed(3), `${n0(gasRate.epochGas)} gas / 600,000 decisions`],
    ...gasRate.gasPerFlagged.map((f) => [`at 10,000 claims/s, 7 % flagged, ${f.blockSeconds} s blocks: gas per flagged decision`, n1(f.gasPerFlagged), `one root per block of ${n0(f.flaggedPerRoot)}; ${(f.gasPerDay / 1e6).toFixed(1)}M gas per day in all`]),
    ['anchorEpoch sequential, epochs/s (direct)', n1(a.direct.epochsPerSecond), `chain ${a.direct.chainId}, anvil automine`],
    ['runs below: the chain', r.options.blockTime > 0 ? `block every ${r.options.blockTime} s` : 'automine', r.options.blockTime > 0 ? "the bench's own anvil (--block-time): at most one epoch and one flagged root per block" : "the stack's anvil: a block per transaction"],
    ...anchoringRuns(a).flatMap((run) => {
      const at = anchoringRunName(run);
      return [
        ...(run.anchoring?.jobs ?? []).map((j) => [`${at}, anchor worker: ${j.name} jobs`, `${j.count} x ${n0(j.p50Ms)} ms`, `median processing time (max ${n0(j.maxMs)} ms), ${j.attempts} attempts in all`]),
        [`${at}: batches anchored/s`, n2(run.anchoring?.batchesPerSecond ?? 0), `${run.anchoring?.batches ?? 0} batches of <= ${n0(run.batchMaxSize)}; paced by batching`],
        ...(run.anchoring ? [[`${at}: anchor lag committed -> root anchored, p50/p95/p99/max ms`, `${n0(run.anchoring.lagMs.p50)}/${n0(run.anchoring.lagMs.p95)}/${n0(run.anchoring.lagMs.p99)}/${n0(run.anchoring.lagMs.max)}`, `${n0(run.decisions)} decisions; end to end incl. anchoring ${n0(run.indexedPerSecond)} claims/s`]] : []),
      ];
    }),
  ];
  const coreRuns = [e.main, ...anchoringRuns(a)].filter((run) => run.machineCpu);
  // Rows in one order for every run: claimtrail's processes, the services, the rest, the total.
  const rank = (name: string) => (name.startsWith('bench') ? 0 : ['scoring', 'batching', 'anchoring'].includes(name) ? 1 : name.startsWith('rest') ? 3 : name.startsWith('machine') ? 4 : 2);
  const coreNames = [...new Set(coreRuns.flatMap((run) => cpuPerClaim(run).map((p) => p.name)))].sort((x, y) => rank(x) - rank(y));
  const coresTable: string[][] = [
    ['WHERE THE CORES WENT while deciding (us CPU per claim)', ...coreRuns.map((run) => (run === e.main ? `drain p=${run.partitions}` : anchoringRunName(run)))],
    ...coreNames.map((name) => [name, ...coreRuns.map((run) => {
      const part = cpuPerClaim(run).find((p) => p.name === name);
      return part ? n0(part.usPerClaim) : '-';
    })]),
    ['cores busy (of all)', ...coreRuns.map((run) => `${n1(run.machineCpu!.busySeconds / run.machineCpu!.wallSeconds)} of ${n1(run.machineCpu!.cores)}`)],
  ];
  const st = r.stageTimings;
  const stepRows: Array<[string, number]> = [
    ['  decode + zod', st.decodeMs],
    ['  entity aggregates (Redis Lua per run of 256 claims, one pipeline)', st.aggregatesMs],
    ['  scoreBatch', st.scoreMs],
    ['  PG payload insertMany', st.payloadInsertMs],
    ['ScoringStage.handle total (decode, aggregates, score, build decisions, PG insert)', st.handleMs],
    ['Kafka transaction (sendBatch decisions + sendOffsets + commit)', st.transactionMs],
    ['batch close (leaf tuples + Merkle + PG recordBatch)', st.batchCloseMs],
  ];
  const perBatch = st.handleMs + st.transactionMs + st.batchCloseMs;
  const steps: string[][] = [
    [`STAGE TIMINGS, one ${n0(st.batchSize)}-claim batch (= one 1 MiB fetch), median of ${st.rounds}`, 'ms wall', 'claims/s if alone'],
    ...stepRows.map(([name, ms]) => [name, n1(ms), n0((st.batchSize / ms) * 1000)]),
    ['serial sum handle + transaction + batch close', n1(perBatch), n0((st.batchSize / perBatch) * 1000)],
  ];
  const budget: string[][] = [['STAGE BUDGET (main drain)', 'us CPU/claim', 'share'], ...stageBudget(r).map((s) => [s.stage, n1(s.usPerClaim), `${(s.share * 100).toFixed(0)}%`])];
  const targets: string[][] = [['TARGETS', 'measured', 'met'], ...r.targets.map((t) => [t.target, t.measured, t.met ? 'yes' : 'NO'])];
  const held = r.targets.filter((t) => !t.met && t.heldBackBy).map((t) => `  ${t.target}: held back by ${t.heldBackBy}`);
  const prof = r.endToEnd.main.profile;
  const profile = prof
    ? [pad([['PROFILE separate profiled drain, same settings (self time)', 'ms', 'share'], ...prof.byGroup.map((g) => [g.group, n0(g.amount), `${(g.share * 100).toFixed(1)}%`])]), pad([['hottest functions', 'ms', 'share'], ...prof.topFunctions.slice(0, 10).map((f) => [`${f.fn} ${f.where}`, n0(f.amount), `${(f.share * 100).toFixed(1)}%`])])]
    : [];
  return [head, pad(ceil), pad(e2e), pad(latency), pad(anchor), ...(coreRuns.length > 0 ? [pad(coresTable)] : []), pad(steps), pad(budget), pad(targets), ...(held.length > 0 ? [held.join('\n')] : []), ...profile].join('\n\n');
}

/** The markdown summary kept in git next to the (ignored) JSON. */
export function renderMarkdown(r: BenchResult, table: string, svgName: string): string {
  return [
    `# claimtrail bench, ${r.startedAt}${r.options.quick ? ' (--quick)' : ''}`,
    '',
    `Command: \`node bench/run.ts ${r.options.quick ? '--quick ' : ''}--claims ${r.options.claims} --duration ${r.options.durationS} --partitions ${r.options.partitions.join(',')} --rate ${r.options.rate}${r.options.blockTime !== 2 ? ` --block-time ${r.options.blockTime}` : ''}${r.options.cpuProf ? ' --cpu-prof' : ''}\`, ${n0(r.durationS)} s.`,
    `Machine: ${r.machine.nproc} cores, ${n1(r.machine.memGb)} GiB, shared with other engineers' test runs (load average ${r.machine.loadAvgStart.map(n2).join('/')} at start): single-run figures, noisy.`,
    'Every run but one has the pipeline stages, observer and feed in one Node process; Kafka, PostgreSQL, Redis and anvil are separate processes on the same cores,',
    'so more partitions add fetch concurrency, not CPU: a single kafkajs consumer runs eachBatch for one partition at a time.',
    'The run "roles as processes" starts each role as its own `claimtrail run --roles <role>` process, as a deployment does; the bench process only observes.',
    '',
    '```',
    table,
    '```',
    '',
    `![throughput, latency and lag over time](${svgName})`,
    '',
  ].join('\n');
}
