import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ContractFactory, getCreateAddress, type JsonRpcProvider } from 'ethers';
import { loadDecisionAnchorArtifact } from '../../contracts/artifacts.ts';
import { ClaimtrailError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { AnchorTxManager, AnchorTxOutcome } from './anchor-tx.manager.ts';
import { DecisionAnchorClient } from './decision-anchor.client.ts';

/** Where a local deployment of DecisionAnchor is recorded, per state folder. */
export function deploymentFile(stateDir: string): string {
  return join(stateDir, 'chain', 'deployment.json');
}

/**
 * The DecisionAnchor this state folder deployed on chain `chainId`, or null when it recorded none
 * (or the record is unreadable or for another chain). Read-only: never deploys.
 */
export function recordedDecisionAnchor(stateDir: string, chainId: bigint): string | null {
  try {
    const recorded = JSON.parse(readFileSync(deploymentFile(stateDir), 'utf8')) as { chainId: string; address: string };
    return BigInt(recorded.chainId) === chainId ? recorded.address : null;
  } catch {
    return null;
  }
}

/**
 * Deploys a new DecisionAnchor whose admin, anchorer and model registrar is the manager's signer:
 * the creation and both role grants are sent by the transaction manager, like every other
 * transaction of the signer (persisted before broadcast, fee-bumped, confirmed).
 * @returns the contract address and the creation transaction's outcome.
 * @throws the manager's errors (TX_OPEN when a previous send is unfinished: resume() first).
 */
export async function deployDecisionAnchor(tx: AnchorTxManager, provider: JsonRpcProvider): Promise<{ address: string; receipt: AnchorTxOutcome }> {
  const { abi, bytecode } = loadDecisionAnchorArtifact();
  const { data } = await new ContractFactory(abi, bytecode).getDeployTransaction(tx.address);
  const receipt = await tx.send({ to: null, data, method: 'deploy', batchIds: [] });
  const address = getCreateAddress({ from: tx.address, nonce: receipt.nonce });
  const client = new DecisionAnchorClient({ provider, address });
  for (const role of ['ANCHORER_ROLE', 'MODEL_REGISTRAR_ROLE'] as const) {
    const grant = client.calldata('grantRole', [await client.roleId(role), tx.address]);
    await tx.send({ to: address, data: grant, method: 'grantRole', batchIds: [] });
  }
  return { address, receipt };
}

/**
 * The DecisionAnchor to use: the configured address when given (it must hold code), else the
 * one this state folder deployed before, else a fresh deployment (through `tx`) recorded in the
 * state folder.
 */
export async function ensureDecisionAnchor(options: {
  provider: JsonRpcProvider;
  tx: AnchorTxManager;
  configuredAddress: string | undefined;
  stateDir: string;
  log: Logger;
}): Promise<string> {
  const { provider, tx, configuredAddress, stateDir, log } = options;
  const { chainId } = await provider.getNetwork();
  if (configuredAddress) {
    if ((await provider.getCode(configuredAddress)) === '0x') {
      throw new ClaimtrailError('CONTRACT_MISSING', `DECISION_ANCHOR_ADDRESS ${configuredAddress} holds no contract on chain ${chainId}`);
    }
    return configuredAddress;
  }
  const recordFile = deploymentFile(stateDir);
  try {
    const recorded = JSON.parse(readFileSync(recordFile, 'utf8')) as { chainId: string; address: string };
    if (BigInt(recorded.chainId) === chainId && (await provider.getCode(recorded.address)) !== '0x') return recorded.address;
  } catch {
    // No usable record: deploy below.
  }
  // Nonces a crash left open are settled first: the manager sends nothing new while one is open.
  await tx.resume();
  const { address, receipt } = await deployDecisionAnchor(tx, provider);
  mkdirSync(dirname(recordFile), { recursive: true });
  writeFileSync(recordFile, `${JSON.stringify({ chainId: chainId.toString(), address, txHash: receipt.txHash, blockNumber: receipt.blockNumber.toString() }, null, 2)}\n`);
  log.info({ address, txHash: receipt.txHash }, 'deployed DecisionAnchor');
  return address;
}
