import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { BundleFormatError } from '../../anchoring/errors.ts';
import { loadProofBundle, type ProofBundle } from '../../anchoring/proof-bundle.ts';
import { verifyProofBundle } from '../../anchoring/verify-proof.ts';
import { connectProvider } from '../../chain/provider.ts';
import { ClaimtrailError, InvalidArgumentError } from '../../core/errors.ts';
import { DecisionIndexRepository } from '../../db/decision-index.repository.ts';
import { createPool } from '../../db/pool.ts';
import { ProofService, verifyBundleOnChain } from '../../proofs/proof.service.ts';
import { commandContext, positiveInt } from '../context.ts';

/** A verification that ran and said FAIL: exit code 1. */
export class CheckFailedError extends ClaimtrailError {
  constructor(message: string) {
    super('CHECK_FAILED', message);
  }
}

interface VerifyOptions {
  bundle?: string;
  rpc?: string;
  decisionId?: string;
  confirmations?: number;
  json: boolean;
}

function readBundle(path: string): ProofBundle {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidArgumentError(`cannot read bundle ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError(`${path} is not JSON: ${(error as Error).message}`);
  }
  return loadProofBundle(json);
}

function report(result: { ok: boolean; code?: string; message?: string; [k: string]: unknown }, json: boolean): void {
  if (json) process.stdout.write(`${JSON.stringify({ result: result.ok ? 'PASS' : 'FAIL', ...result })}\n`);
  else if (result.ok) process.stdout.write(`PASS  decision ${String(result.decisionId)} of claim ${String(result.claimId)} is in batch ${String(result.batchId)}, anchored in tx ${String(result.txHash)} (${String(result.confirmations)} confirmations)\n`);
  else process.stdout.write(`FAIL  ${result.code}: ${result.message}\n`);
  if (!result.ok) throw new CheckFailedError(`verification failed: ${result.code}`);
}

export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description('Verify a decision: leaf recomputation, Merkle proof, root on chain under its batch id, block inclusion and confirmations. Prints PASS or FAIL with the reason; exit 0 on PASS, 1 on FAIL.')
    .argument('[claim-id]', 'verify the newest decision about this claim, from PostgreSQL and the chain')
    .option('--decision-id <id>', 'verify this decision instead of the newest for the claim')
    .option('--bundle <file>', 'verify a proof bundle file (exported by `claimtrail proof`); needs only --rpc')
    .option('--rpc <url>', 'EVM JSON-RPC URL (default: CHAIN_RPC_URL)')
    .option('--confirmations <n>', 'confirmations required (default: CONFIRMATIONS)', positiveInt)
    .option('--json', 'print one JSON object', false)
    .addHelpText('after', '\nExamples:\n  claimtrail verify CLM-000123\n  claimtrail proof CLM-000123 > proof.json && claimtrail verify --bundle proof.json --rpc http://127.0.0.1:8545')
    .action(async (claimId: string | undefined, opts: VerifyOptions) => {
      if (Boolean(claimId) === Boolean(opts.bundle) && !opts.decisionId) throw new InvalidArgumentError('give a claim id, --decision-id or --bundle (one of them)');
      if (opts.bundle) {
        // Bundle mode: nothing but the file and an RPC URL; no database, no claimtrail config needed.
        let bundle: ProofBundle;
        try {
          bundle = readBundle(opts.bundle);
        } catch (error) {
          if (error instanceof BundleFormatError) return report({ ok: false, code: 'FORMAT_INVALID', message: error.message }, opts.json);
          throw error;
        }
        const rpc = opts.rpc ?? process.env.CHAIN_RPC_URL;
        if (!rpc) throw new InvalidArgumentError('--rpc <url> is required with --bundle (or set CHAIN_RPC_URL)');
        const pure = verifyProofBundle(bundle);
        const ids = { claimId: bundle.decision.claimId, decisionId: bundle.decision.decisionId, batchId: bundle.batch.batchId, txHash: bundle.anchor?.txHash ?? null };
        if (!pure.ok) return report({ ...ids, ...pure }, opts.json);
        const provider = await connectProvider(rpc);
        try {
          const result = await verifyBundleOnChain(bundle, provider, opts.confirmations ?? 1);
          return report({ ...ids, ...(result.ok ? { ok: true, confirmations: result.confirmations.toString() } : result) }, opts.json);
        } finally {
          provider.destroy();
        }
      }
      const { config } = commandContext();
      const pool = createPool(config.database.url, config.database.schema, 2);
      const provider = await connectProvider(opts.rpc ?? config.chain.rpcUrl);
      try {
        const service = new ProofService({ index: new DecisionIndexRepository(pool), provider });
        const decision = await service.findDecision({ ...(claimId ? { claimId } : {}), ...(opts.decisionId ? { decisionId: opts.decisionId } : {}) });
        report(await service.verify(decision, opts.confirmations ?? config.chain.confirmations), opts.json);
      } finally {
        provider.destroy();
        await pool.end();
      }
    });
}

export function registerProofCommand(program: Command): void {
  program
    .command('proof')
    .description('Export the proof bundle (claimtrail-proof-v1 JSON) of a decision to stdout.')
    .argument('[claim-id]', 'the newest decision about this claim')
    .option('--decision-id <id>', 'this decision instead of the newest for the claim')
    .option('--include-salt', 'include the commitment salt (only for someone entitled to the claim data)', false)
    .addHelpText('after', '\nExample: claimtrail proof CLM-000123 > proof.json')
    .action(async (claimId: string | undefined, opts: { decisionId?: string; includeSalt: boolean }) => {
      if (!claimId && !opts.decisionId) throw new InvalidArgumentError('give a claim id or --decision-id');
      const { config } = commandContext();
      const pool = createPool(config.database.url, config.database.schema, 2);
      const provider = await connectProvider(config.chain.rpcUrl);
      try {
        const service = new ProofService({ index: new DecisionIndexRepository(pool), provider });
        const decision = await service.findDecision({ ...(claimId ? { claimId } : {}), ...(opts.decisionId ? { decisionId: opts.decisionId } : {}) });
        const bundle = await service.bundle(decision, { includeSalt: opts.includeSalt });
        process.stdout.write(`${JSON.stringify(bundle, null, 2)}\n`);
      } finally {
        provider.destroy();
        await pool.end();
      }
    });
}
