import { readFileSync } from 'node:fs';
import { computeAddress, type JsonRpcProvider } from 'ethers';
import { recordedDecisionAnchor } from '../anchoring/chain/deployment.ts';
import { deploymentV2File, recordedDecisionAnchorV2 } from '../anchoring/chain/deployment-v2.ts';
import type { TrustAnchor, TrustedDeployment } from '../anchoring/core/trust.ts';
import type { Config } from '../core/config.ts';
import { InvalidArgumentError } from '../core/errors.ts';

/**
 * The trust anchor of server-side verification (`claimtrail verify <claim-id>`, the review app's
 * compliance verify): the deployments this installation anchors to, resolved from configuration
 * the way the runtime resolves them, never from the contract or anchorer a stored row names (a row
 * altered in PostgreSQL must not choose what it is checked against):
 *
 * - v1 (`DecisionAnchor`, v1-leaf batches): DECISION_ANCHOR_ADDRESS, else the contract the local
 *   stack recorded under STATE_DIR for the RPC node's chain;
 * - v2 (`DecisionAnchorV2`, epochs and flagged roots): DECISION_ANCHOR_V2_ADDRESS, else the
 *   recorded dev deployment; pinned to our anchorer: DECISION_ANCHOR_V2_ANCHORER, else the address
 *   of the signer key when this process holds it, else the dev deployment's recorded anchorer.
 *   Without a known anchorer the v2 deployment is left out, so v2 decisions verify UNPINNED
 *   (never PASS) rather than accepting any holder of ANCHORER_ROLE.
 * @throws InvalidArgumentError when neither deployment is known for the node's chain.
 */
export async function configuredTrustAnchor(config: Pick<Readonly<Config>, 'chain' | 'stateDir'>, provider: JsonRpcProvider): Promise<TrustAnchor> {
  const chainId = (await provider.getNetwork()).chainId;
  const deployments: TrustedDeployment[] = [];
  const v1 = config.chain.contractAddress ?? recordedDecisionAnchor(config.stateDir, chainId);
  if (v1) deployments.push({ chainId: Number(chainId), contract: v1, version: 'v1' });
  const v2 = config.chain.contractV2Address ?? recordedDecisionAnchorV2(config.stateDir, chainId);
  const anchorer = v2 ? configuredAnchorer(config, chainId, v2) : undefined;
  if (v2 && anchorer) deployments.push({ chainId: Number(chainId), contract: v2, version: 'v2', anchorers: [anchorer] });
  if (deployments.length === 0) throw new InvalidArgumentError(`no DecisionAnchor configured on chain ${chainId}: set DECISION_ANCHOR_V2_ADDRESS (and DECISION_ANCHOR_ADDRESS for v1 decisions)`);
  return { deployments };
}

/** Our anchorer for the v2 contract, from configuration only (see {@link configuredTrustAnchor}). */
function configuredAnchorer(config: Pick<Readonly<Config>, 'chain' | 'stateDir'>, chainId: bigint, contract: string): string | undefined {
  if (config.chain.anchorerAddress) return config.chain.anchorerAddress;
  if (config.chain.signerKey) return computeAddress(config.chain.signerKey);
  try {
    const recorded = JSON.parse(readFileSync(deploymentV2File(config.stateDir), 'utf8')) as { chainId: string; address: string; anchorer?: string };
    if (BigInt(recorded.chainId) === chainId && recorded.address.toLowerCase() === contract.toLowerCase() && recorded.anchorer) return recorded.anchorer;
  } catch {
    // No dev deployment record: no anchorer known.
  }
  return undefined;
}
