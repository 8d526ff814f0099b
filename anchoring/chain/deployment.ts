import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { JsonRpcProvider } from 'ethers';
import { ClaimtrailError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
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
 * The DecisionAnchor to use: the configured address when given (it must hold code), else the
 * one this state folder deployed before, else a fresh deployment recorded in the state folder.
 */
export async function ensureDecisionAnchor(options: {
  provider: JsonRpcProvider;
  signerKey: string;
  configuredAddress: string | undefined;
  stateDir: string;
  log: Logger;
}): Promise<string> {
  const { provider, signerKey, configuredAddress, stateDir, log } = options;
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
  const { address, receipt } = await DecisionAnchorClient.deploy(provider, signerKey);
  mkdirSync(dirname(recordFile), { recursive: true });
  writeFileSync(recordFile, `${JSON.stringify({ chainId: chainId.toString(), address, txHash: receipt.txHash, blockNumber: receipt.blockNumber.toString() }, null, 2)}\n`);
  log.info({ address, txHash: receipt.txHash }, 'deployed DecisionAnchor');
  return address;
}
