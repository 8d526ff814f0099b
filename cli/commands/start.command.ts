import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import type { Logger } from '../../core/logger.ts';
import type { Config } from '../../core/config.ts';
import { redactUrl } from '../../core/redact.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { SAMPLE_EXCLUSION_LIST } from '../../fixtures/samples.ts';
import { ClaimsProducer } from '../../ingest/claims.producer.ts';
import { EpochRepository } from '../../anchoring/epoch.repository.ts';
import { FlaggedRootRepository } from '../../anchoring/flagged-root.repository.ts';
import { ProofService } from '../../proofs/proof.service.ts';
import { startPipeline, type RunningPipeline } from '../../pipeline/runtime.ts';
import { trainModel } from '../../training/train.ts';
import { stackUp } from '../../stack/stack.ts';
import { commandContext, displayPath, earlyCommandLog, nonNegativeInt, positiveInt, untilSignal } from '../context.ts';
import { devKeySources } from '../dev-sources.ts';
import { generatedMessages } from './produce.command.ts';

interface StartOptions {
  stack: boolean;
  claims: number;
  malformed: number;
  seed?: number;
  keepRunning: boolean;
  timeout: number;
}


const line = (text = '') => process.stdout.write(`${text}\n`);

async function ensureModel(config: Readonly<Config>, log: Logger): Promise<void> {
  if (existsSync(join(config.modelDir, 'manifest.json'))) return;
  line(`no model bundle in ${config.modelDir}: training a demo model on 8,000 generated claims (seed 7) ...`);
  const { claims, labels } = generateClaims({ count: 8000, seed: 7 });
  const { modelHash, metrics } = await trainModel({ claims, labels, outDir: config.modelDir, seed: 7, log });
  line(`trained model ${modelHash}: ${JSON.stringify(metrics)}`);
}

/** Waits for the sample to be decided, indexed and anchored; returns when each was reached (ms). */
async function waitUntilDone(pipeline: RunningPipeline, target: { decisions: number; deadLettered: number }, timeoutMs: number): Promise<{ indexedAt: number; anchoredAt: number }> {
  const deadline = Date.now() + timeoutMs;
  let indexedAt = 0;
  for (;;) {
    const counts = await pipeline.index.counts();
    const pendingFlagged = await pipeline.index.pendingFlagged(1);
    const dlq = pipeline.scoring?.counters.deadLettered ?? 0;
    if (!indexedAt && counts.decisions >= target.decisions) indexedAt = performance.now();
    if (indexedAt && counts.anchored === counts.batches && pendingFlagged.length === 0 && dlq >= target.deadLettered) return { indexedAt, anchoredAt: performance.now() };
    // On a terminal, one self-rewriting progress line (the JSON logs are in the log file then).
    if (process.stdout.isTTY) process.stdout.write(`\r  ${counts.decisions}/${target.decisions} decided, ${counts.anchored}/${counts.batches} batches anchored, ${dlq}/${target.deadLettered} dead-lettered   `);
    if (Date.now() > deadline) {
      throw new Error(`timed out: ${counts.decisions}/${target.decisions} decisions indexed, ${counts.anchored}/${counts.batches} batches anchored, ${dlq}/${target.deadLettered} dead-lettered`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * The main job: local stack up, contract deployed if needed, a demo model trained if none exists,
 * a sample of generated claims (with malformed ones) through ingest, scoring, batching and
 * anchoring, then a summary with one verification that must PASS.
 */
export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('Main job: bring up the local stack, deploy the contract and train a demo model if needed, stream sample claims through the whole pipeline and print a summary with a verify command that passes.')
    .option('--no-stack', 'use already running services (KAFKA_BROKERS, REDIS_URL, DATABASE_URL, CHAIN_RPC_URL) instead of starting the local stack')
    .option('--claims <n>', 'generated claims to send', positiveInt, 2000)
    .option('--malformed <n>', 'malformed messages mixed in (they end in the DLQ)', nonNegativeInt, 20)
    .option('--seed <n>', 'generator seed (default: a new one each run, printed)', nonNegativeInt)
    .option('--keep-running', 'keep the pipeline running after the summary until Ctrl-C', false)
    .option('--timeout <seconds>', 'give up waiting for the sample after this long', positiveInt, 300)
    .action(async (opts: StartOptions) => {
      if (opts.stack) {
        // The demo on the local stack: its generated dev keys may stand in for unset keys
        // (cli/dev-sources.ts). `--no-stack` needs the opt-in (or real keys) from the caller.
        process.env.CLAIMTRAIL_DEV_KEYS ??= '1';
        const up = await stackUp({ log: earlyCommandLog() });
        line(`stack: ${up.services.map((s) => `${s.service} ${s.state}`).join(', ')} (${(up.elapsedMs / 1000).toFixed(1)} s)`);
      }
      if (!process.env.EXCLUSION_LISTS) {
        // Demo only: the generator's excluded providers, in the real LEIE format.
        process.env.EXCLUSION_LISTS = SAMPLE_EXCLUSION_LIST;
        line(`exclusion list: ${relative(process.cwd(), SAMPLE_EXCLUSION_LIST)} (demo; set EXCLUSION_LISTS to OIG LEIE files)`);
      }
      const { config, log, logFile } = commandContext();
      if (logFile !== undefined) line(`logs (JSON): ${displayPath(logFile)}`);
      await ensureModel(config, log);
      const pipeline = await startPipeline(config, log, devKeySources(config));
      try {
        const before = await pipeline.index.counts();
        const seed = opts.seed ?? Math.floor(Date.now() / 1000) % 1_000_000;
        const kafka = pipeline.kafka;
        const producer = new ClaimsProducer(kafka);
        await producer.connect();
        const started = performance.now();
        const runStartedAt = Date.now();
        const sent = await producer.produce(generatedMessages(opts.claims, seed, opts.malformed), { topic: config.kafka.topics.claims });
        await producer.disconnect();
        line(`produced ${sent} messages (${opts.claims} claims, ${opts.malformed} malformed, seed ${seed}); waiting for decisions and anchors ...`);
        const producedAt = performance.now();
        const { indexedAt, anchoredAt } = await waitUntilDone(pipeline, { decisions: before.decisions + opts.claims, deadLettered: opts.malformed }, opts.timeout * 1000);
        const seconds = (anchoredAt - started) / 1000;
        const after = await pipeline.index.counts();
        const batches = (await pipeline.index.listBatches({ status: 'anchored' })).filter((b) => b.createdAt.getTime() >= runStartedAt);
        const claimsDecided = after.decisions - before.decisions;
        line('');
        line('claimtrail summary');
        line(`  claims scored        ${claimsDecided}  (${Math.round(claimsDecided / seconds)} claims/s end to end, produce -> anchored, ${seconds.toFixed(1)} s)`);
        line(`    timeline           produced ${((producedAt - started) / 1000).toFixed(1)} s, all decisions indexed ${((indexedAt - started) / 1000).toFixed(1)} s, all anchored ${seconds.toFixed(1)} s`);
        line(`  flagged              ${after.flagged - before.flagged}`);
        line(`  review               ${after.review - before.review}`);
        line(`  dead-lettered (DLQ)  ${pipeline.scoring?.counters.deadLettered ?? 0}  (topic ${config.kafka.topics.dlq})`);
        line(`  batches anchored     ${batches.length}  on chain ${batches[0]?.anchor?.chainId ?? '?'}, contract ${pipeline.anchor?.v2.address} (v1: ${pipeline.anchor?.client?.address ?? "none"})`);
        for (const batch of batches.slice(0, 5)) line(`    ${batch.batchId.slice(0, 18)}…  ${String(batch.leafCount).padStart(5)} decisions  tx ${batch.anchor?.txHash}`);
        if (batches.length > 5) line(`    … and ${batches.length - 5} more`);
        const sample = batches.at(-1);
        if (sample) {
          // One decision of this run, flagged if any: the verification a compliance team would run.
          const decision = (await pipeline.index.sampleDecision(sample.batchId, 'flag'))!;
          const { v2 } = pipeline.anchor!;
          const proofs = new ProofService({ index: pipeline.index, provider: v2.provider, v2: { epochs: new EpochRepository(pipeline.pool), flaggedRoots: new FlaggedRootRepository(pipeline.pool) } });
          // Pinned to the deployments this run anchored to (v2: DecisionAnchorV2 and our anchorer; v1 leftovers: the v1 contract).
          const chainId = Number((await v2.provider.getNetwork()).chainId);
          const v1 = pipeline.anchor!.client;
          const trust = { deployments: [{ chainId, contract: v2.address, version: 'v2' as const, anchorers: [pipeline.anchor!.tx.address] }, ...(v1 ? [{ chainId, contract: v1.address, version: 'v1' as const }] : [])] };
          const result = await proofs.verify(decision, { minConfirmations: config.chain.confirmations, trust });
          line('');
          line(`verify: ${result.ok ? 'PASS' : `FAIL ${result.code}`}  claim ${decision.claimId} (${decision.outcome}, score ${decision.score.toFixed(3)})`);
          line(`  npx claimtrail verify ${decision.claimId}`);
          line(`  npx claimtrail proof ${decision.claimId} > proof.json && npx claimtrail verify --bundle proof.json --rpc ${redactUrl(config.chain.rpcUrl)} --contract ${v2.address} --anchorer ${pipeline.anchor!.tx.address}`);
          if (!result.ok) process.exitCode = 1;
        }
        if (opts.keepRunning) {
          line('\npipeline running; Ctrl-C to stop');
          await untilSignal();
        }
      } finally {
        await pipeline.stop();
      }
    });
}
