import { Contract, ZeroHash, type JsonRpcProvider } from 'ethers';
import { loadDecisionAnchorArtifact } from '../../contracts/artifacts.ts';

/** A batch as stored on chain. */
export interface OnChainBatch {
  root: string;
  leafCount: number;
  anchoredAt: bigint;
  anchoredBlock: bigint;
}

/** Where an anchoring transaction landed, as read from its event. */
export interface AnchorReceipt {
  txHash: string;
  blockNumber: bigint;
  blockHash: string;
  /** Always 0 when read from an event (events do not carry gas). */
  gasUsed: bigint;
}

/** DecisionAnchor functions that change state, for {@link DecisionAnchorClient.calldata}. */
export type DecisionAnchorWrite = 'anchorBatch' | 'anchorBatches' | 'anchorFlagged' | 'registerModel' | 'grantRole';

/**
 * Typed read access to a deployed DecisionAnchor, plus the ABI work of its writes: calldata to
 * encode and custom errors to decode. It never signs or sends: the signer's one sender is the
 * transaction manager (anchor-tx.manager.ts), which takes the calldata built here.
 */
export class DecisionAnchorClient {
  readonly address: string;
  readonly provider: JsonRpcProvider;
  readonly #contract: Contract;

  constructor(options: { provider: JsonRpcProvider; address: string }) {
    const { abi } = loadDecisionAnchorArtifact();
    this.address = options.address;
    this.provider = options.provider;
    this.#contract = new Contract(options.address, abi, options.provider);
  }

  /** Calldata of a DecisionAnchor write, for the transaction manager to sign and send. */
  calldata(method: DecisionAnchorWrite, args: readonly unknown[]): string {
    return this.#contract.interface.encodeFunctionData(method, [...args]);
  }

  /** The DecisionAnchor custom error in revert `data` (name and arguments), or null if none matches. */
  parseRevert(data: string): { name: string; args: readonly unknown[] } | null {
    const decoded = this.#contract.interface.parseError(data);
    return decoded ? { name: decoded.name, args: [...decoded.args] } : null;
  }

  async chainId(): Promise<bigint> {
    return (await this.provider.getNetwork()).chainId;
  }

  /** True when code is deployed at the address. */
  async isDeployed(): Promise<boolean> {
    return (await this.provider.getCode(this.address)) !== '0x';
  }

  /** The role id (bytes32) of a DecisionAnchor role constant, e.g. `ANCHORER_ROLE`. */
  async roleId(role: 'ANCHORER_ROLE' | 'MODEL_REGISTRAR_ROLE'): Promise<string> {
    return (await this.#contract.getFunction(role).staticCall()) as string;
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
}
