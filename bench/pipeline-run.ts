import { Session } from 'node:inspector/promises';
import { JsonRpcProvider } from 'ethers';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { createKafka, ensureTopics } from '../infra/kafka/kafka.ts';
import { devKeySources } from '../cli/dev-sources.ts';
import { type PipelineRole, type RunningPipeline, startPipeline } from '../pipeline/runtime.ts';
import { type EncodedClaim, openLoop, type OpenLoopResult } from './claims-feed.ts';
import { summariseProfile, type ProfileSummary } from './profile.ts';
import { RoleProcess } from './role-process.ts';
import { cpuBetween, readMachineCpu } from './machine-cpu.ts';
import { FootprintSampler, groupLag, type Percentiles, percentiles, progress, retryWhileMigrating, sleep } from './support.ts';

/** One second of a run, for the timeline plot. */
export interface TimelinePoint {
  t: number;
  /** Decisions seen committed in this second. */
  decisionsPerSecond: number;
  /** Latency (produce -> decision committed) of the decisions seen in this second, ms; 0 when none or not measured. */
  p50Ms: number;
  p99Ms: number;
  /** Scoring group lag on the claims topic (end offset - committed offset, all partitions). */
  lag: number;
  rssMb: number;
  cpuPct: number;
}

export interface PipelineRunSpec {
  label: string;
  config: Readonly<Config>;
  roles: readonly PipelineRole[];
  /** 'drain': the claims topic already holds `expected` claims. 'open': offer `claims` at `rate` for `durationS`. */
  mode: { kind: 'drain'; expected: number } | { kind: 'open'; rate: number | 'max'; durationS: number; claims: readonly EncodedClaim[] };
  /** Wait until every batch is anchored too (needs role 'anchoring'). */
  anchored?: boolean;
  profile?: boolean;
  timeoutMs: number;
  /**
   * Run the roles as child processes (`claimtrail run --roles <role>`, bench/role-process.ts), the
   * way a deployment runs them, instead of in this process: `scoring` scoring processes in the one
   * consumer group, one process for each other role. `env` must be the environment `config` was
   * loaded from (bench/support.ts benchEnv), so every child loads the same configuration; child
   * logs go to `logDir`.
   */
  processes?: { scoring: number; env: NodeJS.ProcessEnv; nodeFlags: readonly string[]; logDir: string };
}

/** One role process of a multi-process run: CPU seconds while the run was measured (and while deciding, see `machineCpu`), peak RSS. */
export interface RoleProcessFootprint {
  name: string;
  cpuSeconds: number;
  cpuSecondsDeciding: number;
  peakRssMb: number;
}

export interface PipelineRunResult {
  label: string;
  roles: readonly PipelineRole[];
  partitions: number;
  batchMaxSize: number;
  decisions: number;
  /** Decisions/s from the first to the last decision seen committed (exactly-once output rate). */
  decisionsPerSecond: number;
  /** Claims/s until the last decision is in a PostgreSQL batch, from the first decision seen. */
  indexedPerSecond: number;
  /** Seconds from pipeline start (topics joined) to the first decision seen. */
  firstDecisionS: number;
  latencyMs?: Percentiles;
  offered?: OpenLoopResult;
  maxLag: number;
  /** This process (pipeline + observer + feed): peak RSS, average CPU in % of one core, CPU seconds. */
  footprint: { peakRssMb: number; avgCpuPct: number; cpuSeconds: number };
  /** Multi-process runs: each role process (this process's own footprint is in `footprint`). */
  processes?: RoleProcessFootprint[];
  /**
   * The whole machine while deciding (from the start of the measurement to the last decision
   * indexed: what the rates measure, not the wait for anchoring after it; /proc,
   * bench/machine-cpu.ts): wall seconds, CPU seconds busy (all cores), cores, this process's CPU
   * seconds and those of the local services (kafka, postgres, redis, anvil) that ran throughout.
   */
  machineCpu?: { wallSeconds: number; busySeconds: number; cores: number; ownSeconds: number; services: Record<string, number> };
  timeline: TimelinePoint[];
  anchoring?: {
    batches: number;
    batchesPerSecond: number;
    lagMs: Percentiles;
    gasPerDecision: Array<{ leafCount: number; gasUsed: number; gasPerDecision: number }>;
    /** The anchor worker's completed jobs by name (batch roots, flagged leaves): processing time from BullMQ. */
    jobs: Array<{ name: string; count: number; p50Ms: number; maxMs: number; attempts: number }>;
  };
  profile?: ProfileSummary;
}

async function waitStable(admin: Admin, groups: readonly string[], timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { groups: described } = await admin.describeGroups([...groups]);
    if (described.every((g) => g.state === 'Stable' && g.members.length > 0)) return;
    if (Date.now() > until) throw new Error(`consumer groups not stable after ${timeoutMs} ms: ${described.map((g) => `${g.groupId}=${g.state}`).join(', ')}`);
    await sleep(200);
  }
}

/**
 * Runs the pipeline in this process (pipeline/runtime.ts startPipeline, nothing hooked inside)
 * and measures it from outside: a read_committed consumer of `decisions` stamps each decision
 * when it becomes visible (= committed), the decision's key (claim id) gives the claim's send
 * time, kafkajs admin gives the scoring group's lag, PostgreSQL gives what is batched and
 * anchored. The observer and the feed run in the same process and take CPU from the pipeline on
 * this 2-core machine; they are far lighter than the stages (no decode, no scoring).
 */
export async function runPipeline(spec: PipelineRunSpec, log: Logger): Promise<PipelineRunResult> {
  const { config } = spec;
  const kafka: Kafka = createKafka(config, log, '-bench');
  await ensureTopics(kafka, config);
  const admin = kafka.admin();
  await admin.connect();
  const observerGroup = `${config.kafka.scoringGroupId}-observer`;
  const observer: Consumer = kafka.consumer({ groupId: observerGroup, readUncommitted: false, maxWaitTimeInMs: 100 });
  const sentAt = new Map<string, number>();
  const seenAt = new Map<string, number>(); // `${partition}:${offset}` of decisions -> ms, for anchor lag
  const latencies: number[] = [];
  let seen = 0;
  let firstSeen = 0;
  let lastSeen = 0;
  let bucket: number[] = [];
  let bucketCount = 0;
  await observer.connect();
  await observer.subscribe({ topic: config.kafka.topics.decisions, fromBeginning: true });
  await observer.run({
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      if (firstSeen === 0) firstSeen = performance.now();
      lastSeen = performance.now();
      for (const m of batch.messages) {
        const sent = m.key ? sentAt.get(m.key.toString('utf8')) : undefined;
        if (sent !== undefined) {
          latencies.push(now - sent);
          bucket.push(now - sent);
        }
        if (spec.anchored) seenAt.set(`${batch.partition}:${m.offset}`, now);
      }
      seen += batch.messages.length;
      bucketCount += batch.messages.length;
    },
  });

  let pipeline: RunningPipeline | undefined;
  const children = spec.processes ? roleProcesses(spec.roles, spec.processes) : [];
  const peakRss = children.map(() => 0);
  let session: Session | undefined;
  let sampler: FootprintSampler | undefined;
  const timeline: TimelinePoint[] = [];
  let ticker: NodeJS.Timeout | undefined;
  try {
    // In process: the roles run here. Multi-process: this process only observes, and has migrated
    // the schema before the children start (so they never race to migrate it).
    pipeline = await retryWhileMigrating(spec.label, () => startPipeline(config, log, devKeySources(config), spec.processes ? [] : spec.roles));
    if (spec.processes) {
      // The children use the local stack's dev keys, as this process does (cli/dev-sources.ts);
      // no metrics endpoint (they would all bind one port); info level: RoleProcess waits for "pipeline running".
      const env = { ...spec.processes.env, CLAIMTRAIL_DEV_KEYS: '1', METRICS_PORT: '0', LOG_LEVEL: 'info' };
      for (const child of children) await child.start(env, spec.processes.nodeFlags);
    }
    await waitStable(admin, [config.kafka.scoringGroupId, config.kafka.batchingGroupId, observerGroup], 60_000);
    // Footprint from here: the pipeline's work, not its start-up (migrations, model load, group joins).
    const activeSampler = new FootprintSampler(1000);
    sampler = activeSampler;
    const started = performance.now();
    const childCpuAtStart = children.map((c) => c.cpuSeconds());
    const machineAtStart = readMachineCpu();
    const ownCpuAtStart = process.cpuUsage();
    let maxLag = 0;
    let ticking = false;
    ticker = setInterval(() => {
      if (ticking) return;
      ticking = true;
      children.forEach((c, i) => {
        peakRss[i] = Math.max(peakRss[i] as number, c.rssMiB());
      });
      void groupLag(admin, config.kafka.scoringGroupId, config.kafka.topics.claims)
        .then((lag) => {
          maxLag = Math.max(maxLag, lag);
          const p = percentiles(bucket);
          const last = activeSampler.samples.at(-1);
          timeline.push({ t: (performance.now() - started) / 1000, decisionsPerSecond: bucketCount, p50Ms: p.p50, p99Ms: p.p99, lag, rssMb: last?.rssMb ?? 0, cpuPct: last?.cpuPct ?? 0 });
          progress(`${spec.label}: ${seen} decisions, ${bucketCount}/s, lag ${lag}${p.count > 0 ? `, p99 ${p.p99.toFixed(0)} ms` : ''}`);
          bucket = [];
          bucketCount = 0;
        })
        .catch((error: unknown) => log.warn({ err: error }, 'bench: lag sample failed'))
        .finally(() => {
          ticking = false;
        });
    }, 1000);
    if (spec.profile) {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 500 });
      await session.post('Profiler.start');
    }

    let expected: number;
    let offered: OpenLoopResult | undefined;
    if (spec.mode.kind === 'open') {
      offered = await openLoop(kafka, config.kafka.topics.claims, spec.mode.claims, { rate: spec.mode.rate, durationS: spec.mode.durationS, sentAt });
      expected = offered.sent;
    } else {
      expected = spec.mode.expected;
    }
    const deadline = Date.now() + spec.timeoutMs;
    while (seen < expected) {
      if (Date.now() > deadline) throw new Error(`${spec.label}: ${seen} of ${expected} decisions within ${spec.timeoutMs} ms`);
      await sleep(50);
    }
    let indexedAt = performance.now();
    for (;;) {
      const counts = await pipeline.index.counts();
      indexedAt = performance.now();
      if (counts.decisions >= expected) break;
      if (Date.now() > deadline) throw new Error(`${spec.label}: ${counts.decisions} of ${expected} decisions indexed within ${spec.timeoutMs} ms`);
      await sleep(50);
    }
    // CPU while deciding (up to the last decision indexed, what the rates measure), not the wait for anchoring after it.
    const machineUsed = cpuBetween(machineAtStart, readMachineCpu());
    const own = process.cpuUsage(ownCpuAtStart);
    const childCpu = children.map((c, i) => c.cpuSeconds() - (childCpuAtStart[i] as number));
    const wallS = (indexedAt - started) / 1000;
    const machineCpu = { wallSeconds: wallS, busySeconds: machineUsed.busySeconds, cores: wallS > 0 ? machineUsed.totalSeconds / wallS : 0, ownSeconds: (own.user + own.system) / 1e6, services: machineUsed.services };
    const profile = session ? summariseProfile((await session.post('Profiler.stop')).profile) : undefined;

    let anchoring: PipelineRunResult['anchoring'];
    if (spec.anchored) anchoring = await measureAnchoring(pipeline, config, seenAt, deadline);
    const processes = children.map((c, i) => ({ name: c.name, cpuSeconds: c.cpuSeconds() - (childCpuAtStart[i] as number), cpuSecondsDeciding: childCpu[i] as number, peakRssMb: Math.max(peakRss[i] as number, c.rssMiB()) }));
    clearInterval(ticker);
    // The last partial second (a run shorter than a second has no other point): the plot and
    // the per-second rates must not lose what came after the last tick.
    if (bucketCount > 0 || timeline.length === 0) {
      const p = percentiles(bucket);
      const last = activeSampler.samples.at(-1);
      timeline.push({ t: (performance.now() - started) / 1000, decisionsPerSecond: bucketCount, p50Ms: p.p50, p99Ms: p.p99, lag: 0, rssMb: last?.rssMb ?? 0, cpuPct: last?.cpuPct ?? 0 });
    }
    const footprint = activeSampler.stop();
    const span = (lastSeen - firstSeen) / 1000;
    return {
      label: spec.label,
      roles: spec.roles,
      partitions: config.kafka.partitions,
      batchMaxSize: config.anchor.batchMaxSize,
      decisions: seen,
      decisionsPerSecond: span > 0 ? seen / span : 0,
      indexedPerSecond: seen / ((indexedAt - firstSeen) / 1000),
      firstDecisionS: (firstSeen - started) / 1000,
      ...(latencies.length > 0 ? { latencyMs: percentiles(latencies) } : {}),
      ...(offered ? { offered } : {}),
      maxLag,
      footprint: { peakRssMb: footprint.peakRssMb, avgCpuPct: footprint.avgCpuPct, cpuSeconds: footprint.cpuSeconds },
      ...(spec.processes ? { processes } : {}),
      machineCpu,
      timeline,
      ...(anchoring ? { anchoring } : {}),
      ...(profile ? { profile } : {}),
    };
  } finally {
    if (ticker) clearInterval(ticker);
    sampler?.stop();
    if (session) session.disconnect();
    for (const child of children) await child.stop();
    await pipeline?.stop().catch((error: unknown) => log.warn({ err: error }, 'bench: stopping the pipeline failed'));
    await observer.disconnect();
    await admin.disconnect();
  }
}

/**
 * The role processes of a multi-process run: one per role, `scoring` of the scoring role (each
 * its own SCORING_INSTANCE_ID, hence its own transactional id), batching first as in a deployment.
 */
function roleProcesses(roles: readonly PipelineRole[], processes: NonNullable<PipelineRunSpec['processes']>): RoleProcess[] {
  const unsupported = roles.filter((r) => r !== 'scoring' && r !== 'batching' && r !== 'anchoring');
  if (unsupported.length > 0) throw new Error(`multi-process bench runs support the scoring, batching and anchoring roles, not ${unsupported.join(', ')}`);
  const others = roles.filter((r): r is 'batching' | 'anchoring' => r === 'batching' || r === 'anchoring');
  const instance = processes.env.SCORING_INSTANCE_ID ?? 'bench';
  const scoring = roles.includes('scoring')
    ? Array.from({ length: processes.scoring }, (_, k) => (k === 0 ? new RoleProcess('scoring', processes.logDir) : new RoleProcess('scoring', processes.logDir, `scoring-${k + 1}`, { SCORING_INSTANCE_ID: `${instance}-${k + 1}` })))
    : [];
  return [...others.map((r) => new RoleProcess(r, processes.logDir)), ...scoring];
}

/** Waits until every stored batch is anchored; anchor lag = batch anchored_at - each decision's commit time. */
async function measureAnchoring(pipeline: RunningPipeline, config: Readonly<Config>, seenAt: Map<string, number>, deadline: number): Promise<NonNullable<PipelineRunResult['anchoring']>> {
  for (;;) {
    const counts = await pipeline.index.counts();
    if (counts.batches > 0 && counts.anchored >= counts.batches) break;
    if (Date.now() > deadline) throw new Error(`anchoring: ${counts.anchored} of ${counts.batches} batches anchored in time`);
    progress(`anchoring: ${counts.anchored} of ${counts.batches} batches anchored`);
    await sleep(500);
  }
  const batches = await pipeline.index.listBatches({ status: 'anchored' });
  const lags: number[] = [];
  for (const b of batches) {
    const anchoredAt = b.anchoredAt?.getTime() ?? 0;
    for (let o = BigInt(b.firstOffset); o <= BigInt(b.lastOffset); o++) {
      const seen = seenAt.get(`${b.partition}:${o}`);
      if (seen !== undefined) lags.push(anchoredAt - seen);
    }
  }
  const times = batches.map((b) => b.anchoredAt?.getTime() ?? 0).sort((a, b) => a - b);
  const spanS = ((times.at(-1) ?? 0) - (times[0] ?? 0)) / 1000;
  const gasPerDecision = [];
  // The anchoring role's own provider when it runs here; a multi-process run reads the chain itself.
  const own = pipeline.anchor ? undefined : new JsonRpcProvider(config.chain.rpcUrl);
  const provider = pipeline.anchor?.v2.provider ?? own;
  try {
    for (const b of batches.slice(0, 20)) {
      const receipt = b.anchor && provider ? await provider.getTransactionReceipt(b.anchor.txHash) : null;
      if (receipt) gasPerDecision.push({ leafCount: b.leafCount, gasUsed: Number(receipt.gasUsed), gasPerDecision: Number(receipt.gasUsed) / b.leafCount });
    }
  } finally {
    own?.destroy();
  }
  const byName = new Map<string, { ms: number[]; attempts: number }>();
  for (const job of await pipeline.queue.queue.getJobs(['completed'], 0, 10_000)) {
    const entry = byName.get(job.name) ?? { ms: [], attempts: 0 };
    if (job.processedOn && job.finishedOn) entry.ms.push(job.finishedOn - job.processedOn);
    entry.attempts += job.attemptsMade;
    byName.set(job.name, entry);
  }
  const jobs = [...byName].map(([name, e]) => {
    const p = percentiles(e.ms);
    return { name, count: p.count, p50Ms: p.p50, maxMs: p.max, attempts: e.attempts };
  });
  return { batches: batches.length, batchesPerSecond: spanS > 0 ? (batches.length - 1) / spanS : 0, lagMs: percentiles(lags), gasPerDecision, jobs };
}
