import type { Command } from 'commander';
import { recordedDecisionAnchor } from '../../anchoring/chain/deployment.ts';
import { connectProvider } from '../../anchoring/chain/provider.ts';
import { ClaimtrailError, InvalidArgumentError } from '../../core/errors.ts';
import { DecisionIndexRepository } from '../../anchoring/decision-index.repository.ts';
import { createPool } from '../../infra/db/pool.ts';
import { createKafka } from '../../infra/kafka/kafka.ts';
import { createAnchorReader } from '../../proofs/anchor-reader.ts';
import { createAnchorReaderV2 } from '../../proofs/anchor-reader-v2.ts';
import { configuredTrustAnchor } from '../../proofs/configured-trust.ts';
import type { TrustedDeployment } from '../../anchoring/core/trust.ts';
import { EpochRepository } from '../../anchoring/epoch.repository.ts';
import { FlaggedRootRepository } from '../../anchoring/flagged-root.repository.ts';
import { AuditService, type AuditReport } from '../../proofs/audit.service.ts';
import { KafkaDecisionLog } from '../../proofs/decision-log.reader.ts';
import { commandContext } from '../context.ts';

/** The audit found a discrepancy: exit code 1 (cli/main.ts). */
export class AuditFailedError extends ClaimtrailError {
  constructor(message: string) {
    super('CHECK_FAILED', message);
  }
}

interface AuditOptions {
  batch?: string;
  all: boolean;
  contract?: string;
  json: boolean;
}

function print(report: AuditReport, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ result: report.ok ? 'CLEAN' : 'DISCREPANCIES', ...report })}\n`);
    return;
  }
  const byKind = Map.groupBy(report.findings, (f) => f.kind);
  const summary = [...byKind].map(([kind, list]) => `${list.length} ${kind}`).join(', ');
  process.stdout.write(`audit of ${report.topic}: ${report.batches.length} batch(es), ${report.logDecisions} decision(s) read from the log: ${report.ok ? 'CLEAN' : `DISCREPANCIES (${summary})`}\n`);
  for (const f of report.findings) process.stdout.write(`  ${f.kind.padEnd(13)} ${f.message}\n`);
}

/** `claimtrail audit --batch ID | --all`: the log against PostgreSQL and the chain. */
export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description(
      'Re-read batches from the decisions log (read_committed), recompute every leaf and root (v1 or v2 leaves), and compare with PostgreSQL and the chain ' +
        '(v1 batches: batchOf on the v1 contract; v2 batches: the epoch root recomputed from its entries, against PostgreSQL and epochOf(our anchorer) on DecisionAnchorV2; with --all, every flagged root too). ' +
        'Reports missing, extra, altered, unanchored or re-orged decisions and batches, and (with --all) decisions in no batch. Exit 0 when clean, 1 on any discrepancy.',
    )
    .option('--batch <id>', 'audit this batch')
    .option('--all', 'audit every batch, and every decision of the log', false)
    .option('--contract <address>', 'v1 DecisionAnchor address for v1-leaf batches (default: DECISION_ANCHOR_ADDRESS, else the one the local stack deployed); v2 uses DECISION_ANCHOR_V2_ADDRESS and DECISION_ANCHOR_V2_ANCHORER')
    .option('--json', 'print one JSON object', false)
    .addHelpText('after', '\nExamples:\n  claimtrail audit --all\n  claimtrail audit --batch 0x5c1e... --json')
    .action(async (opts: AuditOptions) => {
      if (Boolean(opts.batch) === opts.all) throw new InvalidArgumentError('give --batch <id> or --all (one of them)');
      const { config, log } = commandContext();
      const provider = await connectProvider(config.chain.rpcUrl);
      const pool = createPool(config.database.url, config.database.schema, 2);
      try {
        const chainId = (await provider.getNetwork()).chainId;
        // The configured deployments, never the contract or anchorer a row names: v1 for v1-leaf
        // batches, DecisionAnchorV2 in our anchorer's namespace for epochs and flagged roots.
        const contract = opts.contract ?? config.chain.contractAddress ?? recordedDecisionAnchor(config.stateDir, chainId);
        const trust = await configuredTrustAnchor(config, provider).catch((error: unknown) => {
          // Neither deployment configured: reported just below, with what to set.
          if (error instanceof InvalidArgumentError) return { deployments: [] as TrustedDeployment[] };
          throw error;
        });
        const v2 = trust.deployments.find((d) => d.version === 'v2' && d.anchorers?.length);
        if (!contract && !v2) throw new InvalidArgumentError(`no DecisionAnchor known on chain ${chainId}: set DECISION_ANCHOR_V2_ADDRESS (and DECISION_ANCHOR_ADDRESS, or --contract, for v1 batches)`);
        const audit = new AuditService({
          index: new DecisionIndexRepository(pool),
          log: new KafkaDecisionLog(createKafka(config, log, '-audit'), config.kafka.topics.decisions),
          ...(contract ? { chain: createAnchorReader(provider, contract) } : {}),
          ...(v2
            ? { v2: { epochs: new EpochRepository(pool), flaggedRoots: new FlaggedRootRepository(pool), chain: createAnchorReaderV2(provider, v2.contract), anchorer: v2.anchorers![0]! } }
            : {}),
        });
        const report = opts.all ? await audit.auditAll() : await audit.auditBatch(opts.batch!);
        print(report, opts.json);
        if (!report.ok) throw new AuditFailedError(`audit found ${report.findings.length} discrepancy(ies)`);
      } finally {
        provider.destroy();
        await pool.end();
      }
    });
}
