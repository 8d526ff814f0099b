import { Contract, ContractFactory, NonceManager, Wallet, ZeroHash, type JsonRpcProvider, type TransactionReceipt } from 'ethers';
import { loadDecisionAnchorArtifact } from '../../contracts/artifacts.ts';
import { ClaimtrailError } from '../../core/errors.ts';

/** A batch as stored on chain. */
export interface OnChainBatch {
  root: string;
  leafCount: number;
  anchoredAt: bigint;
  anchoredBlock: bigint;
}

/** Where an anchoring transaction landed. */
export interface AnchorReceipt {
  txHash: string;
  blockNumber: bigint;
  blockHash: string;
  gasUsed: bigint;
}

/** Submitting to the chain failed; `retriable` tells whether trying again may help. */
export class ChainSubmitError extends ClaimtrailError {
  constructor(message: string, options: { retriable: boolean; cause?: unknown }) {
    super('CHAIN_SUBMIT_FAILED', message, options);
  }
}

function receiptOf(receipt: TransactionReceipt | null, what: string): AnchorReceipt {
  if (!receipt) throw new ChainSubmitError(`${what}: no receipt`, { retriable: true });
  if (receipt.status !== 1) throw new ChainSubmitError(`${what}: transaction ${receipt.hash} reverted`, { retriable: false });
  return { txHash: receipt.hash, blockNumber: BigInt(receipt.blockNumber), blockHash: receipt.blockHash, gasUsed: receipt.gasUsed };
}

/**
 * Typed access to a deployed DecisionAnchor. Read methods need only a provider; write methods
 * need a signer key (one signer per anchor worker: the NonceManager assumes nobody else sends
 * from this account).
 */
export class DecisionAnchorClient {
  readonly address: string;
  readonly provider: JsonRpcProvider;
  readonly #contract: Contract;
  readonly #confirmations: number;

  constructor(options: { provider: JsonRpcProvider; address: string; signerKey?: string; confirmations?: number }) {
    const { abi } = loadDecisionAnchorArtifact();
    this.address = options.address;
    this.provider = options.provider;
    this.#confirmations = options.confirmations ?? 1;
    const runner = options.signerKey ? new NonceManager(new Wallet(options.signerKey, options.provider)) : options.provider;
    this.#contract = new Contract(options.address, abi, runner);
  }

  /**
   * Calldata of a DecisionAnchor write, for senders that sign and track transactions themselves
   * (the anchor transaction manager). One ABI, loaded once with the client.
   */
  calldata(method: 'anchorBatch' | 'anchorBatches' | 'anchorFlagged' | 'registerModel', args: readonly unknown[]): string {
    return this.#contract.interface.encodeFunctionData(method, [...args]);
  }

  /** The DecisionAnchor custom error in revert `data` (name and arguments), or null if none matches. */
  parseRevert(data: string): { name: string; args: readonly unknown[] } | null {
    const decoded = this.#contract.interface.parseError(data);
    return decoded ? { name: decoded.name, args: [...decoded.args] } : null;
  }

  /** Deploys a new DecisionAnchor whose admin, anchorer and model registrar is the signer. */
  static async deploy(provider: JsonRpcProvider, signerKey: string): Promise<{ address: string; receipt: AnchorReceipt }> {
    const { abi, bytecode } = loadDecisionAnchorArtifact();
    const wallet = new Wallet(signerKey, provider);
    const factory = new ContractFactory(abi, bytecode, wallet);
    const contract = await factory.deploy(wallet.address);
    const deployTx = contract.deploymentTransaction();
    const receipt = receiptOf(deployTx ? await deployTx.wait() : null, 'deploy DecisionAnchor');
    const address = await contract.getAddress();
    const client = new DecisionAnchorClient({ provider, address, signerKey });
    for (const role of ['ANCHORER_ROLE', 'MODEL_REGISTRAR_ROLE']) {
      const roleId = (await client.#contract.getFunction(role).staticCall()) as string;
      await client.#send('grantRole', [roleId, wallet.address], `grant ${role}`);
    }
    return { address, receipt };
  }

  async chainId(): Promise<bigint> {
    return (await this.provider.getNetwork()).chainId;
  }

  /** True when code is deployed at the address. */
  async isDeployed(): Promise<boolean> {
    return (await this.provider.getCode(this.address)) !== '0x';
  }

  async batchOf(batchId: string): Promise<OnChainBatch | null> {
    const [root, leafCount, anchoredAt, anchoredBlock] = (await this.#contract.getFunction('batchOf').staticCall(batchId)) as [string, bigint, bigint, bigint];
    if (root === ZeroHash) return null;
    return { root, leafCount: Number(leafCount), anchoredAt, anchoredBlock };
  }

  async flaggedAnchoredAt(leaf: string): Promise<bigint> {
    return (await this.#contract.getFunction('flaggedAnchoredAt').staticCall(leaf)) as bigint;
  }

  async verifyDecision(batchId: string, leaf: string, proof: readonly string[]): Promise<boolean> {
    return (await this.#contract.getFunction('verifyDecision').staticCall(batchId, leaf, [...proof])) as boolean;
  }

  async isModelRegistered(modelHash: string): Promise<boolean> {
    const [registrant] = (await this.#contract.getFunction('modelOf').staticCall(modelHash)) as [string, bigint, string];
    return registrant !== '0x0000000000000000000000000000000000000000';
  }

  anchorBatch(batchId: string, root: string, leafCount: number): Promise<AnchorReceipt> {
    return this.#send('anchorBatch', [batchId, root, leafCount], `anchor batch ${batchId}`);
  }

  anchorFlagged(leaves: readonly string[]): Promise<AnchorReceipt> {
    return this.#send('anchorFlagged', [[...leaves]], `anchor ${leaves.length} flagged leaves`);
  }

  registerModel(modelHash: string, metadataUri: string): Promise<AnchorReceipt> {
    return this.#send('registerModel', [modelHash, metadataUri], `register model ${modelHash}`);
  }

  /** The BatchAnchored event of a batch (tx and block), or null when not anchored. */
  async findBatchAnchored(batchId: string, fromBlock = 0): Promise<AnchorReceipt | null> {
    const filter = this.#contract.filters.BatchAnchored!(batchId);
    const [event] = await this.#contract.queryFilter(filter, fromBlock);
    if (!event) return null;
    return { txHash: event.transactionHash, blockNumber: BigInt(event.blockNumber), blockHash: event.blockHash, gasUsed: 0n };
  }

  /** The FlaggedDecisionAnchored event of a leaf (tx and block), or null. */
  async findFlaggedAnchored(leaf: string, fromBlock = 0): Promise<AnchorReceipt | null> {
    const filter = this.#contract.filters.FlaggedDecisionAnchored!(leaf);
    const [event] = await this.#contract.queryFilter(filter, fromBlock);
    if (!event) return null;
    return { txHash: event.transactionHash, blockNumber: BigInt(event.blockNumber), blockHash: event.blockHash, gasUsed: 0n };
  }

  async #send(method: string, args: unknown[], what: string): Promise<AnchorReceipt> {
    let tx;
    try {
      tx = await this.#contract.getFunction(method).send(...args);
    } catch (error) {
      const reverted = (error as { code?: string }).code === 'CALL_EXCEPTION';
      throw new ChainSubmitError(`${what}: ${(error as Error).message.split('\n')[0]}`, { retriable: !reverted, cause: error });
    }
    return receiptOf(await tx.wait(this.#confirmations), what);
  }
}
