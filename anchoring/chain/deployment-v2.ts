import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ContractFactory, getCreateAddress, type JsonRpcProvider } from 'ethers';
import { loadDecisionAnchorV2Artifact } from '../../contracts/artifacts.ts';
import { ClaimtrailError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { AnchorTxManager, AnchorTxOutcome } from './anchor-tx.manager.ts';
import { DecisionAnchorV2Client } from './decision-anchor-v2.client.ts';

/** The only chain claimtrail deploys DecisionAnchorV2 on by itself (anvil / hardhat). */
export const DEV_CHAIN_ID = 31337n;

/** Where a dev deployment of DecisionAnchorV2 is recorded, per state folder. */
export function deploymentV2File(stateDir: string): string {
  return join(stateDir, 'chain', 'deployment-v2.json');
}

/** The DecisionAnchorV2 this state folder deployed on chain `chainId`, or null (read-only). */
export function recordedDecisionAnchorV2(stateDir: string, chainId: bigint): string | null {
  try {
    const recorded = JSON.parse(readFileSync(deploymentV2File(stateDir), 'utf8')) as { chainId: string; address: string };
    return BigInt(recorded.chainId) === chainId ? recorded.address : null;
  } catch {
    return null;
  }
}

/** Nothing tells us which DecisionAnchorV2 to use, and this chain is not the dev chain. Exit 2. */
export class DecisionAnchorV2UnconfiguredError extends ClaimtrailError {
  constructor(chainId: bigint) {
    super(
      'DECISION_ANCHOR_V2_UNCONFIGURED',
      `DECISION_ANCHOR_V2_ADDRESS is not set for chain ${chainId}: claimtrail deploys DecisionAnchorV2 only on the dev chain ${DEV_CHAIN_ID}; deploy it with three distinct admin, anchorer and registrar keys and set the address`,
    );
  }
}

/**
 * Deploys DecisionAnchorV2 with each role held by its own key: the creation is sent by the
 * admin's transaction manager (the admin is the deployer), naming `anchorer` and `registrar`.
 * The constructor refuses equal or zero holders (DecisionAnchorV2InvalidRoleHolders).
 * @throws the manager's errors (TxRevertedError when the holders are not three distinct accounts).
 */
export async function deployDecisionAnchorV2(admin: AnchorTxManager, roles: { anchorer: string; registrar: string }): Promise<{ address: string; receipt: AnchorTxOutcome }> {
  const { abi, bytecode } = loadDecisionAnchorV2Artifact();
  const { data } = await new ContractFactory(abi, bytecode).getDeployTransaction(admin.address, roles.anchorer, roles.registrar);
  await admin.resume();
  const receipt = await admin.send({ to: null, data, method: 'deploy', batchIds: [] });
  return { address: getCreateAddress({ from: admin.address, nonce: receipt.nonce }), receipt };
}

/**
 * The DecisionAnchorV2 to use: DECISION_ANCHOR_V2_ADDRESS when configured (it must hold code);
 * else, on the dev chain only, the one this state folder deployed for this anchorer, or a fresh
 * dev deployment (admin and registrar from the dev role keys) recorded in the state folder.
 * @param devRoles makes the dev deployment's admin transaction manager and gives the registrar
 *   address; null when no dev keys are available.
 * @throws DecisionAnchorV2UnconfiguredError off the dev chain without an address (or on it without dev keys);
 *   ClaimtrailError CONTRACT_MISSING when the configured address holds no code.
 */
export async function ensureDecisionAnchorV2(options: {
  provider: JsonRpcProvider;
  anchorer: string;
  configuredAddress: string | undefined;
  stateDir: string;
  devRoles: () => Promise<{ admin: AnchorTxManager; registrar: string } | null>;
  log: Logger;
}): Promise<string> {
  const { provider, anchorer, configuredAddress, stateDir, log } = options;
  const { chainId } = await provider.getNetwork();
  if (configuredAddress) {
    if ((await provider.getCode(configuredAddress)) === '0x') {
      throw new ClaimtrailError('CONTRACT_MISSING', `DECISION_ANCHOR_V2_ADDRESS ${configuredAddress} holds no contract on chain ${chainId}`);
    }
    return configuredAddress;
  }
  if (chainId !== DEV_CHAIN_ID) throw new DecisionAnchorV2UnconfiguredError(chainId);
  const recorded = recordedDecisionAnchorV2(stateDir, chainId);
  if (recorded && (await provider.getCode(recorded)) !== '0x' && (await new DecisionAnchorV2Client({ provider, address: recorded }).hasRole('ANCHORER_ROLE', anchorer))) {
    return recorded;
  }
  const dev = await options.devRoles();
  if (!dev) throw new DecisionAnchorV2UnconfiguredError(chainId);
  const { address, receipt } = await deployDecisionAnchorV2(dev.admin, { anchorer, registrar: dev.registrar });
  const file = deploymentV2File(stateDir);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    `${JSON.stringify({ chainId: chainId.toString(), address, admin: dev.admin.address, anchorer, registrar: dev.registrar, txHash: receipt.txHash, blockNumber: receipt.blockNumber.toString() }, null, 2)}\n`,
  );
  log.info({ address, admin: dev.admin.address, anchorer, registrar: dev.registrar, txHash: receipt.txHash }, 'deployed DecisionAnchorV2 on the dev chain');
  return address;
}

/** The anchoring key holds DEFAULT_ADMIN_ROLE on DecisionAnchorV2: refuse to start. Exit 2. */
export class AnchorerHoldsAdminError extends ClaimtrailError {
  constructor(anchorer: string, contract: string) {
    super('ANCHORER_HOLDS_ADMIN', `the anchoring key ${anchorer} holds DEFAULT_ADMIN_ROLE on DecisionAnchorV2 ${contract}: revoke it (the hot key must never administer roles) before starting`);
  }
}

/**
 * Refuses an anchoring key that holds the admin role on the contract (the contract prevents it,
 * but a contract deployed otherwise, or a future one, might not), or that cannot anchor.
 * @throws AnchorerHoldsAdminError; ClaimtrailError ANCHORER_ROLE_MISSING.
 */
export async function checkAnchorerRoles(client: DecisionAnchorV2Client, anchorer: string): Promise<void> {
  if (await client.hasRole('DEFAULT_ADMIN_ROLE', anchorer)) throw new AnchorerHoldsAdminError(anchorer, client.address);
  if (!(await client.hasRole('ANCHORER_ROLE', anchorer))) {
    throw new ClaimtrailError('ANCHORER_ROLE_MISSING', `the anchoring key ${anchorer} does not hold ANCHORER_ROLE on DecisionAnchorV2 ${client.address}: have the admin grant it`);
  }
}
