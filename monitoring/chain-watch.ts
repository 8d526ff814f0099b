import { Interface, type JsonRpcProvider, type Log } from 'ethers';
import type { Pool } from 'pg';
import { loadDecisionAnchorV2Artifact } from '../contracts/artifacts.ts';
import type { Logger } from '../core/logger.ts';
import { metrics } from '../infra/metrics/registry.ts';
import type { AlertReason, AlertRepository } from './alert.repository.ts';

/**
 * What should never happen on the anchoring contract or with our signer; each is a high-severity
 * chain alert:
 * - `C_UNKNOWN_ANCHORER`: an epoch or flagged root anchored by an account that is not our anchorer;
 * - `C_UNKNOWN_EPOCH`: our anchorer anchored an epoch id we did not produce (or another root under it);
 * - `C_UNKNOWN_FLAGGED_ROOT`: our anchorer anchored a flagged root we did not produce;
 * - `C_ROLE_CHANGE`: a role granted or revoked on the contract;
 * - `C_PAUSED`: the contract paused or unpaused;
 * - `C_UNKNOWN_MODEL`: a model registered by a transaction none of our keys' managers sent;
 * - `C_SIGNER_TX_UNKNOWN`: a transaction from our anchoring signer that its transaction manager did not send (the key is used elsewhere).
 */
export const CHAIN_ALERT_CODES = ['C_UNKNOWN_ANCHORER', 'C_UNKNOWN_EPOCH', 'C_UNKNOWN_FLAGGED_ROOT', 'C_ROLE_CHANGE', 'C_PAUSED', 'C_UNKNOWN_MODEL', 'C_SIGNER_TX_UNKNOWN'] as const;
export type ChainAlertCode = (typeof CHAIN_ALERT_CODES)[number];

/** A finding of one scan. */
export interface ChainFinding {
  code: ChainAlertCode;
  txHash: string;
  blockNumber: number;
  /** Position of the log in its block, -1 for a transaction finding. */
  logIndex: number;
  /** Non-identifying chain coordinates: addresses, ids, roots. */
  evidence: Record<string, string>;
}

export interface ChainWatchOptions {
  provider: JsonRpcProvider;
  pool: Pool;
  alerts: AlertRepository;
  /** The DecisionAnchorV2 this installation anchors to (configuration, never a stored row). */
  contract: string;
  /** Our anchoring account(s), from the trust anchor (DECISION_ANCHOR_V2_ANCHORER or the signer key). */
  anchorers: readonly string[];
  log: Logger;
  /** Blocks read per scan at most. Default 500. */
  maxBlocks?: number;
  /** Where a first scan starts when no cursor is stored: default the chain head at that moment (history before the monitor existed is not judged). */
  fromBlock?: number;
}

/**
 * Scans the anchoring contract's events and every transaction of our signer, block by block from
 * a cursor stored in PostgreSQL, against what this installation produced (epochs, flagged roots,
 * the transactions its managers sent, all in PostgreSQL), and raises a high-severity chain alert
 * for each finding (alert.repository.ts: sealed into the audit log). Reorgs: a finding is keyed
 * by transaction hash and log index, so a rescan raises nothing twice.
 *
 * WARNING: the anchorer and the contract come from configuration. The chain tells what happened,
 * never who we are.
 */
export class ChainWatch {
  readonly #o: Required<Omit<ChainWatchOptions, 'fromBlock'>> & { fromBlock: number | undefined };
  readonly #iface: Interface;
  readonly #anchorers: Set<string>;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<ChainFinding[]> | null = null;

  constructor(options: ChainWatchOptions) {
    this.#o = { maxBlocks: 500, ...options, fromBlock: options.fromBlock };
    this.#iface = new Interface(loadDecisionAnchorV2Artifact().abi);
    this.#anchorers = new Set(options.anchorers.map((a) => a.toLowerCase()));
  }

  /** Scans from the cursor to the head (at most maxBlocks) and raises alerts; returns the findings (new or not). */
  scan(): Promise<ChainFinding[]> {
    this.#running ??= this.#scan().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  /** Scans every `pollMs` until stop(). */
  start(pollMs: number): void {
    const tick = () => {
      this.#timer = setTimeout(() => {
        this.scan()
          .catch((error: unknown) => this.#o.log.error({ err: error }, 'chain watch scan failed; retried next time'))
          .finally(() => {
            if (this.#timer) tick();
          });
      }, pollMs);
    };
    tick();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => undefined);
  }

  async #scan(): Promise<ChainFinding[]> {
    const contract = this.#o.contract.toLowerCase();
    const head = await this.#o.provider.getBlockNumber();
    const { rows } = await this.#o.pool.query<{ last_block: string }>('SELECT last_block::text FROM chain_watch_cursor WHERE contract = $1', [contract]);
    if (rows.length === 0) {
      // Without fromBlock the head block itself is history: the cursor starts on it.
      const last = this.#o.fromBlock === undefined ? head : Math.max(0, this.#o.fromBlock - 1);
      await this.#o.pool.query('INSERT INTO chain_watch_cursor (contract, last_block) VALUES ($1, $2) ON CONFLICT DO NOTHING', [contract, last]);
      if (this.#o.fromBlock === undefined) return [];
      return this.#scan();
    }
    const from = Number(rows[0]!.last_block) + 1;
    const to = Math.min(head, from + this.#o.maxBlocks - 1);
    if (from > to) return [];
    const findings = [...(await this.#contractFindings(from, to)), ...(await this.#signerFindings(from, to))];
    for (const f of findings) {
      const id = await this.#o.alerts.raise({
        kind: 'chain',
        severity: 'high',
        reasons: [{ code: f.code, note: describe(f) } satisfies AlertReason],
        evidence: { contract, txHash: f.txHash, blockNumber: f.blockNumber, ...f.evidence },
        dedupeKey: `chain:${contract}:${f.txHash}:${f.logIndex}:${f.code}`,
      });
      if (id !== null) {
        metrics.monitorAlerts.inc({ kind: 'chain', severity: 'high' });
        this.#o.log.warn({ alertId: id, code: f.code, txHash: f.txHash, blockNumber: f.blockNumber }, 'chain alert raised');
      }
    }
    await this.#o.pool.query('UPDATE chain_watch_cursor SET last_block = $2, updated_at = now() WHERE contract = $1', [contract, to]);
    return findings;
  }

  async #contractFindings(from: number, to: number): Promise<ChainFinding[]> {
    const logs = await this.#o.provider.getLogs({ address: this.#o.contract, fromBlock: from, toBlock: to });
    const out: ChainFinding[] = [];
    for (const log of logs) {
      const parsed = this.#iface.parseLog({ topics: [...log.topics], data: log.data });
      if (!parsed) continue;
      const at = (code: ChainAlertCode, evidence: Record<string, string>) => out.push({ code, txHash: log.transactionHash, blockNumber: log.blockNumber, logIndex: log.index, evidence });
      const args = parsed.args;
      switch (parsed.name) {
        case 'EpochAnchored': {
          const anchorer = String(args.anchorer).toLowerCase();
          const epochId = String(args.epochId);
          const root = String(args.root);
          if (!this.#anchorers.has(anchorer)) at('C_UNKNOWN_ANCHORER', { anchorer, epochId, event: 'EpochAnchored' });
          else if (!(await this.#ourEpoch(epochId, root))) at('C_UNKNOWN_EPOCH', { anchorer, epochId, root });
          break;
        }
        case 'FlaggedRootAnchored': {
          const anchorer = String(args.anchorer).toLowerCase();
          const root = String(args.root);
          if (!this.#anchorers.has(anchorer)) at('C_UNKNOWN_ANCHORER', { anchorer, root, event: 'FlaggedRootAnchored' });
          else if (!(await this.#ourFlaggedRoot(root))) at('C_UNKNOWN_FLAGGED_ROOT', { anchorer, root });
          break;
        }
        case 'RoleGranted':
        case 'RoleRevoked':
          at('C_ROLE_CHANGE', { event: parsed.name, role: String(args.role), account: String(args.account).toLowerCase(), sender: String(args.sender).toLowerCase() });
          break;
        case 'Paused':
        case 'Unpaused':
          at('C_PAUSED', { event: parsed.name, account: String(args.account).toLowerCase() });
          break;
        case 'ModelRegistered':
          if (!(await this.#ourTransaction(log))) at('C_UNKNOWN_MODEL', { modelHash: String(args.modelHash), registrant: String(args.registrant).toLowerCase() });
          break;
        default:
          break;
      }
    }
    return out;
  }

  /** Transactions of our anchorer(s) that no transaction manager of ours recorded. */
  async #signerFindings(from: number, to: number): Promise<ChainFinding[]> {
    const out: ChainFinding[] = [];
    for (let n = from; n <= to; n++) {
      const block = await this.#o.provider.getBlock(n, true);
      if (!block) continue;
      for (const tx of block.prefetchedTransactions) {
        const sender = tx.from.toLowerCase();
        if (!this.#anchorers.has(sender)) continue;
        const { rows } = await this.#o.pool.query('SELECT 1 FROM anchor_transactions WHERE lower(tx_hash) = lower($1)', [tx.hash]);
        if (rows.length === 0) out.push({ code: 'C_SIGNER_TX_UNKNOWN', txHash: tx.hash, blockNumber: n, logIndex: -1, evidence: { from: sender, to: (tx.to ?? '').toLowerCase(), nonce: String(tx.nonce) } });
      }
    }
    return out;
  }

  async #ourEpoch(epochId: string, root: string): Promise<boolean> {
    const { rows } = await this.#o.pool.query('SELECT 1 FROM epochs WHERE epoch_id = lower($1) AND root = lower($2)', [epochId, root]);
    return rows.length > 0;
  }

  async #ourFlaggedRoot(root: string): Promise<boolean> {
    const { rows } = await this.#o.pool.query('SELECT 1 FROM flagged_roots WHERE root = lower($1)', [root]);
    return rows.length > 0;
  }

  async #ourTransaction(log: Log): Promise<boolean> {
    const { rows } = await this.#o.pool.query('SELECT 1 FROM anchor_transactions WHERE lower(tx_hash) = lower($1)', [log.transactionHash]);
    return rows.length > 0;
  }
}

/** A one-line, non-identifying note on a finding. */
function describe(f: ChainFinding): string {
  switch (f.code) {
    case 'C_UNKNOWN_ANCHORER': return `${f.evidence.event} by ${f.evidence.anchorer}, not our anchorer`;
    case 'C_UNKNOWN_EPOCH': return `epoch ${f.evidence.epochId} anchored by our anchorer but not produced here`;
    case 'C_UNKNOWN_FLAGGED_ROOT': return `flagged root ${f.evidence.root} anchored by our anchorer but not produced here`;
    case 'C_ROLE_CHANGE': return `${f.evidence.event} ${f.evidence.role} to ${f.evidence.account} by ${f.evidence.sender}`;
    case 'C_PAUSED': return `${f.evidence.event} by ${f.evidence.account}`;
    case 'C_UNKNOWN_MODEL': return `model ${f.evidence.modelHash} registered by ${f.evidence.registrant} in a transaction we did not send`;
    case 'C_SIGNER_TX_UNKNOWN': return `transaction from our signer ${f.evidence.from} (nonce ${f.evidence.nonce}) not sent by its transaction manager`;
  }
}
