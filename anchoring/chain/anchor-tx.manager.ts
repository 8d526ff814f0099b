import { Transaction, Wallet, type JsonRpcProvider } from 'ethers';
import { ClaimtrailError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { incBig, metrics } from '../../infra/metrics/registry.ts';
import type { AnchorTxAttempt, AnchorTxRepository } from './anchor-tx.repository.ts';

/** Options of {@link AnchorTxManager}. */
export interface AnchorTxManagerOptions {
  /**
   * Highest `maxFeePerGas` ever offered, in wei. Bumping stops here: a transaction still not mined
   * at the cap waits at the cap (and the send times out) rather than paying more. Required.
   */
  maxFeeCapWei: bigint;
  /** Milliseconds an attempt may stay unmined before a fee-bumped replacement is sent. Default 30000. */
  bumpAfterMs?: number;
  /**
   * Fee increase per replacement, in percent of the previous attempt's fees, both `maxFeePerGas`
   * and `maxPriorityFeePerGas` (rounded up). At least 12.5: nodes refuse smaller replacements
   * (geth 10 %, others 12.5 %). Default 12.5.
   */
  bumpPercent?: number;
  /**
   * Blocks, counting the mining block, a transaction must have on the canonical chain before it
   * counts as confirmed. Integer >= 1. Default 1 (a dev chain; pick the chain's reorg depth).
   */
  confirmations?: number;
  /** Milliseconds between chain polls. Default 500. */
  pollMs?: number;
  /** Milliseconds a send may take, bumps and confirmations included, before TxTimeoutError. Default 600000. */
  timeoutMs?: number;
}

/** One contract call (or contract creation) to send. */
export interface AnchorTxRequest {
  /** The contract called, or null to create a contract (then `data` is its init code). */
  to: string | null;
  /** ABI-encoded call data (init code + constructor arguments for a creation). */
  data: string;
  /**
   * Function name, stored with each attempt (`anchorBatch`, `anchorBatches`, `anchorFlagged`,
   * `registerModel`, `grantRole`; `deploy` for a creation).
   */
  method: string;
  /** Batch ids the call anchors, stored with each attempt (for operators and audits). */
  batchIds: readonly string[];
}

/** Where a confirmed transaction landed. */
export interface AnchorTxOutcome {
  txHash: string;
  nonce: bigint;
  blockNumber: bigint;
  blockHash: string;
  gasUsed: bigint;
  /** Attempts made for the nonce (1 = no fee bump was needed). */
  attempts: number;
}

/** The call reverts (at estimation, or mined and reverted). `data` is the revert data, for the caller to decode. */
export class TxRevertedError extends ClaimtrailError {
  readonly data: string | undefined;
  constructor(message: string, data: string | undefined, options: { cause?: unknown } = {}) {
    super('TX_REVERTED', message, options);
    this.data = data;
  }
}

/** No attempt was confirmed in time (chain outage, fee cap too low). Retriable. */
export class TxTimeoutError extends ClaimtrailError {
  constructor(message: string) {
    super('TX_TIMEOUT', message, { retriable: true });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The anchor signer's transaction manager and its only sender: deployment, model registration and
 * every anchor go through it, one caller at a time (the anchor worker runs with concurrency 1),
 * every attempt persisted before it is broadcast.
 *
 * For each send: pick the nonce (the chain's pending count, or past the highest stored one),
 * price it EIP-1559 style from the node's fee data under the cap, sign, store (`pending`),
 * broadcast (`sent`). While no attempt is mined, every `bumpAfterMs` a replacement with the same
 * nonce and fees raised by `bumpPercent` is signed, stored and broadcast. Once one attempt is
 * mined (`mined`; the others `replaced`) it must stay in the canonical chain for `confirmations`
 * blocks (`confirmed`). A reorg that drops or moves it sends it back to `sent` and re-broadcasts
 * the stored signed bytes; a mined revert is `failed` and throws TxRevertedError.
 */
export class AnchorTxManager {
  readonly #provider: JsonRpcProvider;
  readonly #wallet: Wallet;
  readonly #repo: AnchorTxRepository;
  readonly #log: Logger;
  readonly #cap: bigint;
  readonly #bumpAfterMs: number;
  readonly #bumpPermille: bigint;
  readonly #confirmations: number;
  /** When each open nonce was first broadcast (performance.now()), for claimtrail_anchor_lag_seconds. */
  readonly #sentAt = new Map<bigint, number>();
  /** Effective gas price of each mined attempt, counted into the fee metric once it is confirmed. */
  readonly #gasPrice = new Map<string, bigint>();
  readonly #pollMs: number;
  readonly #timeoutMs: number;
  /** Sends run one after another: one signer, one nonce sequence. */
  #serial: Promise<unknown> = Promise.resolve();

  constructor(deps: { provider: JsonRpcProvider; signerKey: string; repo: AnchorTxRepository; log: Logger }, options: AnchorTxManagerOptions) {
    const bumpPercent = options.bumpPercent ?? 12.5;
    const confirmations = options.confirmations ?? 1;
    const issues: string[] = [];
    if (typeof options.maxFeeCapWei !== 'bigint' || options.maxFeeCapWei <= 0n) issues.push('maxFeeCapWei must be a positive bigint (wei)');
    if (!(bumpPercent >= 12.5)) issues.push(`bumpPercent must be >= 12.5, got ${bumpPercent}`);
    if (!Number.isInteger(confirmations) || confirmations < 1) issues.push(`confirmations must be an integer >= 1, got ${confirmations}`);
    for (const [name, v] of [['bumpAfterMs', options.bumpAfterMs], ['pollMs', options.pollMs], ['timeoutMs', options.timeoutMs]] as const) {
      if (v !== undefined && !(Number.isFinite(v) && v > 0)) issues.push(`${name} must be a positive number of milliseconds, got ${v}`);
    }
    if (issues.length > 0) throw new ClaimtrailError('INVALID_ARGUMENT', `bad transaction manager options: ${issues.join('; ')}`);
    this.#provider = deps.provider;
    this.#wallet = new Wallet(deps.signerKey, deps.provider);
    this.#repo = deps.repo;
    this.#log = deps.log;
    this.#cap = options.maxFeeCapWei;
    this.#bumpAfterMs = options.bumpAfterMs ?? 30_000;
    this.#bumpPermille = BigInt(Math.ceil(bumpPercent * 10));
    this.#confirmations = confirmations;
    this.#pollMs = options.pollMs ?? 500;
    this.#timeoutMs = options.timeoutMs ?? 600_000;
  }

  /** The signer's address. */
  get address(): string {
    return this.#wallet.address;
  }

  /**
   * Sends a call and returns once one attempt is confirmed.
   * @throws TxRevertedError when the call reverts (at estimation: nothing is sent or stored);
   *   TxTimeoutError when nothing is confirmed within `timeoutMs`; ClaimtrailError
   *   CHAIN_SUBMIT_FAILED (retriable) when the node refuses the broadcast for another reason.
   */
  send(request: AnchorTxRequest): Promise<AnchorTxOutcome> {
    const next = this.#serial.then(() => this.#send(request));
    this.#serial = next.catch(() => undefined);
    return next;
  }

  async #send(request: AnchorTxRequest): Promise<AnchorTxOutcome> {
    const deadline = Date.now() + this.#timeoutMs;
    const open = await this.#repo.openNonces(this.address);
    if (open.length > 0) {
      throw new ClaimtrailError('TX_OPEN', `signer ${this.address} has unfinished nonces ${open.join(', ')}: call resume() first`, { retriable: true });
    }
    let gasLimit: bigint;
    try {
      gasLimit = ((await this.#provider.estimateGas({ from: this.address, to: request.to, data: request.data })) * 12n) / 10n;
    } catch (error) {
      const data = (error as { data?: string }).data;
      if ((error as { code?: string }).code === 'CALL_EXCEPTION') throw new TxRevertedError(`${request.method} reverts: ${(error as Error).message.split('\n')[0]}`, data ?? undefined, { cause: error });
      throw new ClaimtrailError('CHAIN_SUBMIT_FAILED', `estimating ${request.method}: ${(error as Error).message.split('\n')[0]}`, { retriable: true, cause: error });
    }
    // No nonce is open (checked above), so the chain's count is the next nonce. Stored nonces at
    // or above it were confirmed once and then dropped by a reorg deeper than `confirmations`.
    const nonce = BigInt(await this.#provider.getTransactionCount(this.address, 'pending'));
    const stored = await this.#repo.maxNonce(this.address);
    let attempt = 0;
    if (stored !== null && stored >= nonce) {
      for (let n = nonce; n <= stored; n++) {
        for (const a of await this.#repo.attempts(this.address, n)) {
          if (a.state !== 'failed' && a.state !== 'replaced') await this.#repo.setState(a.txHash, 'failed', { error: 'dropped from the chain by a reorg after confirmation' });
        }
      }
      attempt = (await this.#repo.attempts(this.address, nonce)).length;
      this.#log.warn({ nonce: nonce.toString(), storedUpTo: stored.toString() }, 'reorg: confirmed transactions dropped from the chain; reusing their nonces');
    }
    const fees = await this.#initialFees();
    await this.#attempt(request, nonce, attempt, gasLimit, fees);
    return this.#settle(nonce, request, deadline);
  }

  /**
   * Finishes every nonce left open by a crash (attempts stored `pending`, `sent` or `mined`):
   * re-broadcasts the stored bytes, bumps, confirms, exactly as `send` would have.
   * @returns the outcomes, lowest nonce first. Reverted ones are marked failed and skipped.
   */
  async resume(): Promise<AnchorTxOutcome[]> {
    const outcomes: AnchorTxOutcome[] = [];
    for (const nonce of await this.#repo.openNonces(this.address)) {
      const [first] = await this.#repo.attempts(this.address, nonce);
      const signed = Transaction.from(first!.rawTx);
      const request = { to: signed.to, data: signed.data, method: first!.method, batchIds: first!.batchIds };
      try {
        outcomes.push(await this.#settle(nonce, request, Date.now() + this.#timeoutMs));
      } catch (error) {
        if (!(error instanceof TxRevertedError)) throw error;
        this.#log.warn({ nonce: nonce.toString(), err: error }, 'resumed transaction reverted');
      }
    }
    return outcomes;
  }

  /** Waits for one attempt of `nonce` to be confirmed, bumping fees while none is mined. */
  async #settle(nonce: bigint, request: AnchorTxRequest, deadline: number): Promise<AnchorTxOutcome> {
    let lastAttemptAt = Date.now();
    for (;;) {
      if (Date.now() > deadline) throw new TxTimeoutError(`nonce ${nonce} of ${this.address}: no attempt confirmed in ${this.#timeoutMs} ms`);
      const attempts = await this.#repo.attempts(this.address, nonce);
      // Anything stored but not broadcast (a crash in between) goes out first.
      for (const a of attempts.filter((x) => x.state === 'pending')) await this.#broadcast(a);
      const minedOne = await this.#findMined(attempts);
      if (!minedOne && attempts.every((a) => a.state === 'failed')) {
        throw new ClaimtrailError('CHAIN_SUBMIT_FAILED', `nonce ${nonce} of ${this.address}: every attempt failed`, { retriable: true });
      }
      if (minedOne) {
        const confirmed = await this.#confirm(minedOne, attempts, request);
        if (confirmed) return confirmed;
        lastAttemptAt = Date.now(); // reorged out: give the re-broadcast a fresh bump window
        continue;
      }
      if (Date.now() - lastAttemptAt >= this.#bumpAfterMs) {
        const last = attempts.at(-1)!;
        const bumped = this.#bump(last);
        if (bumped) {
          this.#log.info({ nonce: nonce.toString(), attempt: last.attempt + 1, maxFeePerGas: bumped.maxFeePerGas.toString() }, 'fee bump: replacing a transaction that is not mined');
          await this.#attempt(request, nonce, last.attempt + 1, last.gasLimit, bumped);
        } else {
          this.#log.warn({ nonce: nonce.toString(), maxFeePerGas: last.maxFeePerGas.toString() }, 'transaction not mined and fees at the cap: waiting');
        }
        lastAttemptAt = Date.now();
      }
      await sleep(this.#pollMs);
    }
  }

  /** The attempt the chain mined, recorded as `mined` (the others `replaced`), or null. */
  async #findMined(attempts: readonly AnchorTxAttempt[]): Promise<{ attempt: AnchorTxAttempt; blockNumber: bigint; blockHash: string; gasUsed: bigint; status: number | null } | null> {
    for (const a of attempts) {
      if (a.state === 'failed' || a.state === 'pending') continue;
      const receipt = await this.#provider.getTransactionReceipt(a.txHash);
      if (!receipt) continue;
      const mined = { attempt: a, blockNumber: BigInt(receipt.blockNumber), blockHash: receipt.blockHash, gasUsed: receipt.gasUsed, status: receipt.status };
      if (a.state !== 'mined' || a.blockHash !== receipt.blockHash) {
        await this.#repo.setState(a.txHash, 'mined', { blockNumber: mined.blockNumber, blockHash: mined.blockHash, gasUsed: mined.gasUsed });
        metrics.anchorTransactions.inc({ state: 'mined' });
        const sentAt = this.#sentAt.get(a.nonce);
        if (sentAt !== undefined) metrics.anchorLag.observe({ to: 'mined' }, (performance.now() - sentAt) / 1000);
        this.#gasPrice.set(a.txHash, receipt.gasPrice);
      }
      for (const other of attempts) {
        if (other.txHash !== a.txHash && other.state !== 'replaced' && other.state !== 'failed') {
          await this.#repo.setState(other.txHash, 'replaced');
          metrics.anchorTransactions.inc({ state: 'replaced' });
        }
      }
      return mined;
    }
    return null;
  }

  /**
   * Waits until the mined attempt has enough confirmations on the canonical chain.
   * @returns the outcome, or null when a reorg took it out of its block (it is `sent` again and
   *   re-broadcast, and the replaced attempts are reconsidered).
   */
  async #confirm(
    mined: { attempt: AnchorTxAttempt; blockNumber: bigint; blockHash: string; gasUsed: bigint; status: number | null },
    attempts: readonly AnchorTxAttempt[],
    request: AnchorTxRequest,
  ): Promise<AnchorTxOutcome | null> {
    const { attempt } = mined;
    if (mined.status === 0) {
      const data = await this.#revertData(request, mined.blockNumber);
      await this.#repo.setState(attempt.txHash, 'failed', { blockNumber: mined.blockNumber, blockHash: mined.blockHash, gasUsed: mined.gasUsed, error: `reverted${data ? ` with ${data}` : ''}` });
      metrics.anchorTransactions.inc({ state: 'failed' });
      this.#settled(attempt, mined.gasUsed);
      throw new TxRevertedError(`${attempt.method} transaction ${attempt.txHash} reverted in block ${mined.blockNumber}`, data);
    }
    for (;;) {
      const receipt = await this.#provider.getTransactionReceipt(attempt.txHash);
      const canonical = receipt ? (await this.#provider.getBlock(receipt.blockNumber))?.hash : null;
      if (!receipt || receipt.blockHash !== mined.blockHash || canonical !== mined.blockHash) {
        this.#log.warn({ txHash: attempt.txHash, blockNumber: mined.blockNumber.toString(), blockHash: mined.blockHash }, 'reorg: mined transaction left its block; re-broadcasting');
        metrics.chainReorgs.inc();
        metrics.anchorTransactions.inc({ state: 'reorged' });
        for (const a of attempts) {
          if (a.state !== 'failed') {
            await this.#repo.setState(a.txHash, 'sent');
            await this.#broadcast({ ...a, state: 'sent' });
          }
        }
        return null;
      }
      const head = BigInt(await this.#provider.getBlockNumber());
      if (head - mined.blockNumber + 1n >= BigInt(this.#confirmations)) {
        await this.#repo.setState(attempt.txHash, 'confirmed', { blockNumber: mined.blockNumber, blockHash: mined.blockHash, gasUsed: mined.gasUsed });
        metrics.anchorTransactions.inc({ state: 'confirmed' });
        const sentAt = this.#sentAt.get(attempt.nonce);
        if (sentAt !== undefined) metrics.anchorLag.observe({ to: 'confirmed' }, (performance.now() - sentAt) / 1000);
        this.#settled(attempt, mined.gasUsed);
        return { txHash: attempt.txHash, nonce: attempt.nonce, blockNumber: mined.blockNumber, blockHash: mined.blockHash, gasUsed: mined.gasUsed, attempts: attempts.length };
      }
      await sleep(this.#pollMs);
    }
  }

  /** A nonce is done (confirmed or reverted): its gas and fee are counted once, its timers forgotten. */
  #settled(attempt: AnchorTxAttempt, gasUsed: bigint): void {
    incBig(metrics.anchorGasUsed, gasUsed);
    incBig(metrics.anchorFeePaid, gasUsed * (this.#gasPrice.get(attempt.txHash) ?? attempt.maxFeePerGas));
    this.#sentAt.delete(attempt.nonce);
    this.#gasPrice.delete(attempt.txHash);
  }

  async #initialFees(): Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }> {
    const data = await this.#provider.getFeeData();
    const priority = data.maxPriorityFeePerGas ?? 1_000_000_000n;
    const maxFee = data.maxFeePerGas ?? (data.gasPrice ?? 0n) + priority;
    const capped = maxFee > this.#cap ? this.#cap : maxFee;
    return { maxFeePerGas: capped, maxPriorityFeePerGas: priority > capped ? capped : priority };
  }

  /** The next attempt's fees (+bumpPercent, rounded up, under the cap), or null when at the cap. */
  #bump(last: AnchorTxAttempt): { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | null {
    const up = (v: bigint) => (v * (1000n + this.#bumpPermille) + 999n) / 1000n;
    const maxFee = up(last.maxFeePerGas);
    if (maxFee > this.#cap) return null; // a smaller replacement would be refused by nodes anyway
    const priority = up(last.maxPriorityFeePerGas);
    return { maxFeePerGas: maxFee, maxPriorityFeePerGas: priority > maxFee ? maxFee : priority };
  }

  /** Signs, stores (`pending`) and broadcasts (`sent`) one attempt. */
  async #attempt(request: AnchorTxRequest, nonce: bigint, attempt: number, gasLimit: bigint, fees: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }): Promise<void> {
    const chainId = (await this.#provider.getNetwork()).chainId;
    const rawTx = await this.#wallet.signTransaction({ type: 2, chainId, nonce: Number(nonce), to: request.to, data: request.data, gasLimit, ...fees });
    const txHash = Transaction.from(rawTx).hash!;
    const stored: AnchorTxAttempt = {
      txHash, signer: this.address, nonce, attempt, method: request.method, batchIds: [...request.batchIds], rawTx, gasLimit, ...fees,
      state: 'pending', blockNumber: null, blockHash: null, gasUsed: null, error: null,
    };
    await this.#repo.insert(stored);
    await this.#broadcast(stored);
    metrics.anchorTransactions.inc({ state: attempt === 0 ? 'sent' : 'bumped' });
  }

  async #broadcast(a: AnchorTxAttempt): Promise<void> {
    if (!this.#sentAt.has(a.nonce)) this.#sentAt.set(a.nonce, performance.now());
    try {
      await this.#provider.broadcastTransaction(a.rawTx);
    } catch (error) {
      const message = (error as Error).message.split('\n')[0]!;
      const inPool = /already known|already imported|known transaction/i.test(message);
      const nonceUsed = /nonce too low|nonce has already been used/i.test(message);
      const underpriced = /underpriced|fee too low/i.test(message);
      if (inPool) {
        // Already in the pool: nothing to do.
      } else if (a.state === 'pending' && a.attempt === 0 && (nonceUsed || underpriced) && !(await this.#isKnownToChain(a.txHash))) {
        // Never broadcast before (and not on chain or in the pool under its own hash), yet its
        // nonce is used or pooled: another sender uses this account (which the
        // one-signer-one-worker rule forbids). Give the nonce up; retry later.
        await this.#repo.setState(a.txHash, 'failed', { error: `nonce ${a.nonce} taken by another sender: ${message}` });
        throw new ClaimtrailError('NONCE_TAKEN', `nonce ${a.nonce} of ${a.signer} is used by another sender of this account`, { retriable: true, cause: error });
      } else if (a.state === 'pending' && a.attempt === 0) {
        // Our own transaction: a crash between broadcast and recording `sent` left the row
        // pending while the chain already has it. Record it as sent; the receipt poll follows.
      } else if (nonceUsed) {
        // One of our attempts for this nonce was mined: the receipt poll will find it.
      } else if (underpriced) {
        await this.#repo.setState(a.txHash, 'failed', { error: message });
        return;
      } else {
        throw new ClaimtrailError('CHAIN_SUBMIT_FAILED', `broadcasting ${a.txHash}: ${message}`, { retriable: true, cause: error });
      }
    }
    if (a.state === 'pending') await this.#repo.setState(a.txHash, 'sent');
  }

  /** True when the chain has mined this transaction or holds it in its pool. */
  async #isKnownToChain(txHash: string): Promise<boolean> {
    if (await this.#provider.getTransactionReceipt(txHash)) return true;
    return (await this.#provider.getTransaction(txHash)) !== null;
  }

  /** Revert data of the call, replayed at the block it reverted in. */
  async #revertData(request: AnchorTxRequest, blockNumber: bigint): Promise<string | undefined> {
    try {
      await this.#provider.call({ from: this.address, to: request.to, data: request.data, blockTag: Number(blockNumber) - 1 });
      return undefined;
    } catch (error) {
      return (error as { data?: string }).data ?? undefined;
    }
  }
}
