import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Wallet, toBeHex, type JsonRpcProvider } from 'ethers';
import { ClaimtrailError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { DecisionAnchorClient } from './decision-anchor.client.ts';

/** Chain ids of local development chains (anvil and Hardhat use 31337). */
const DEV_CHAIN_IDS = new Set([31337n]);

/** Where the local stack keeps the dev signer key and the contract address it deployed. */
export function chainStatePaths(stateDir: string): { signerKeyFile: string; deploymentFile: string } {
  return { signerKeyFile: join(stateDir, 'chain', 'signer.key'), deploymentFile: join(stateDir, 'chain', 'deployment.json') };
}

/**
 * For a local dev chain only: a signer key generated once into the state folder (mode 0600)
 * and funded with the node's `*_setBalance` method. Refuses any other chain: production keys
 * come from SIGNER_PRIVATE_KEY / SIGNER_KEY_FILE.
 */
export async function ensureDevSigner(provider: JsonRpcProvider, stateDir: string, log: Logger): Promise<string> {
  const { chainId } = await provider.getNetwork();
  if (!DEV_CHAIN_IDS.has(chainId)) {
    throw new ClaimtrailError('SIGNER_MISSING', `no signer configured for chain ${chainId}: set SIGNER_PRIVATE_KEY or SIGNER_KEY_FILE`);
  }
  const { signerKeyFile } = chainStatePaths(stateDir);
  let key: string;
  try {
    key = readFileSync(signerKeyFile, 'utf8').trim();
  } catch {
    key = `0x${randomBytes(32).toString('hex')}`;
    mkdirSync(dirname(signerKeyFile), { recursive: true });
    writeFileSync(signerKeyFile, `${key}\n`, { mode: 0o600 });
    log.info({ signerKeyFile }, 'generated a dev signer key for the local chain');
  }
  const address = new Wallet(key).address;
  if ((await provider.getBalance(address)) < 10n ** 20n) {
    const balance = toBeHex(10n ** 24n);
    try {
      await provider.send('anvil_setBalance', [address, balance]);
    } catch {
      await provider.send('hardhat_setBalance', [address, balance]);
    }
  }
  return key;
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
  const { deploymentFile } = chainStatePaths(stateDir);
  try {
    const recorded = JSON.parse(readFileSync(deploymentFile, 'utf8')) as { chainId: string; address: string };
    if (BigInt(recorded.chainId) === chainId && (await provider.getCode(recorded.address)) !== '0x') return recorded.address;
  } catch {
    // No usable record: deploy below.
  }
  const { address, receipt } = await DecisionAnchorClient.deploy(provider, signerKey);
  mkdirSync(dirname(deploymentFile), { recursive: true });
  writeFileSync(deploymentFile, `${JSON.stringify({ chainId: chainId.toString(), address, txHash: receipt.txHash, blockNumber: receipt.blockNumber.toString() }, null, 2)}\n`);
  log.info({ address, txHash: receipt.txHash }, 'deployed DecisionAnchor');
  return address;
}
