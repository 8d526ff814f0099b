import { Contract, ZeroHash, type JsonRpcProvider } from 'ethers';
import { loadDecisionAnchorV2Artifact } from '../../contracts/artifacts.ts';
import type { AnchorReceipt } from './decision-anchor.client.ts';

/** An epoch as DecisionAnchorV2 stores it under an anchorer. */
export interface OnChainEpoch {
  root: string;
  batchCount: number;
  leafCount: bigint;
  anchoredAt: bigint;
  anchoredBlock: bigint;
}

/** DecisionAnchorV2 functions that change state, for {@link DecisionAnchorV2Client.calldata}. */
export type DecisionAnchorV2Write = 'anchorEpoch' | 'anchorFlaggedRoot' | 'registerModel' | 'grantRole' | 'revokeRole' | 'renounceRole' | 'pause' | 'unpause';

/** DecisionAnchorV2's role constants. */
export type DecisionAnchorV2Role = 'DEFAULT_ADMIN_ROLE' | 'ANCHORER_ROLE' | 'MODEL_REGISTRAR_ROLE';

/**
 * Typed read access to a deployed DecisionAnchorV2 (contracts/DecisionAnchorV2.sol), plus the ABI
 * work of its writes: calldata to encode and custom errors to decode. Like the v1 client it never
 * signs or sends: every write goes through a transaction manager (anchor-tx.manager.ts), one per key.
 */
export class DecisionAnchorV2Client {
  readonly address: string;
  readonly provider: JsonRpcProvider;
  readonly #contract: Contract;

  constructor(options: { provider: JsonRpcProvider; address: string }) {
    const { abi } = loadDecisionAnchorV2Artifact();
    this.address = options.address;
    this.provider = options.provider;
    this.#contract = new Contract(options.address, abi, options.provider);
  }

  /** Calldata of a DecisionAnchorV2 write, for a transaction manager to sign and send. */
  calldata(method: DecisionAnchorV2Write, args: readonly unknown[]): string {
    return this.#contract.interface.encodeFunctionData(method, [...args]);
  }

  /** The custom error in revert `data` (name and arguments), or null if none of the contract's matches. */
  parseRevert(data: string): { name: string; args: readonly unknown[] } | null {
    try {
      const decoded = this.#contract.interface.parseError(data);
      return decoded ? { name: decoded.name, args: [...decoded.args] } : null;
    } catch {
      return null;
    }
  }

  async chainId(): Promise<bigint> {
    return (await this.provider.getNetwork()).chainId;
  }

  /** True when code is deployed at the address. */
  async isDeployed(): Promise<boolean> {
    return (await this.provider.getCode(this.address)) !== '0x';
  }

  /** The role id (bytes32) of a role constant. */
  async roleId(role: DecisionAnchorV2Role): Promise<string> {
    return (await this.#contract.getFunction(role).staticCall()) as string;
  }

  async hasRole(role: DecisionAnchorV2Role, account: string): Promise<boolean> {
    return (await this.#contract.getFunction('hasRole').staticCall(await this.roleId(role), account)) as boolean;
  }

  /** The epoch `anchorer` anchored under `epochId`, or null when none. */
  async epochOf(anchorer: string, epochId: string): Promise<OnChainEpoch | null> {
    const [root, batchCount, leafCount, anchoredAt, anchoredBlock] = (await this.#contract.getFunction('epochOf').staticCall(anchorer, epochId)) as [string, bigint, bigint, bigint, bigint];
    if (root === ZeroHash) return null;
    return { root, batchCount: Number(batchCount), leafCount, anchoredAt, anchoredBlock };
  }

  /** The flagged root `anchorer` anchored, or null when none. */
  async flaggedRootOf(anchorer: string, root: string): Promise<{ count: number; anchoredBlock: bigint } | null> {
    const [count, anchoredBlock] = (await this.#contract.getFunction('flaggedRootOf').staticCall(anchorer, root)) as [bigint, bigint];
    return count === 0n ? null : { count: Number(count), anchoredBlock };
  }

  /** The model's registration (registrant, block time, metadata URI), or null when it is not registered. */
  async modelRecord(modelHash: string): Promise<{ registrant: string; registeredAt: bigint; metadataURI: string } | null> {
    const [registrant, registeredAt, metadataURI] = (await this.#contract.getFunction('modelOf').staticCall(modelHash)) as [string, bigint, string];
    return registrant === '0x0000000000000000000000000000000000000000' ? null : { registrant, registeredAt, metadataURI };
  }

  async isModelRegistered(modelHash: string): Promise<boolean> {
    const [registrant] = (await this.#contract.getFunction('modelOf').staticCall(modelHash)) as [string, bigint, string];
    return registrant !== '0x0000000000000000000000000000000000000000';
  }

  /** The EpochAnchored event of (anchorer, epochId): its transaction and block, or null. */
  async findEpochAnchored(anchorer: string, epochId: string, fromBlock = 0): Promise<AnchorReceipt | null> {
    const [event] = await this.#contract.queryFilter(this.#contract.filters.EpochAnchored!(anchorer, epochId), fromBlock);
    return event ? { txHash: event.transactionHash, blockNumber: BigInt(event.blockNumber), blockHash: event.blockHash, gasUsed: 0n } : null;
  }

  /** The FlaggedRootAnchored event of (anchorer, root): its transaction and block, or null. */
  async findFlaggedRootAnchored(anchorer: string, root: string, fromBlock = 0): Promise<AnchorReceipt | null> {
    const [event] = await this.#contract.queryFilter(this.#contract.filters.FlaggedRootAnchored!(anchorer, root), fromBlock);
    return event ? { txHash: event.transactionHash, blockNumber: BigInt(event.blockNumber), blockHash: event.blockHash, gasUsed: 0n } : null;
  }
}
