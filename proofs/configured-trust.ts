import type { JsonRpcProvider } from 'ethers';
import { recordedDecisionAnchor } from '../anchoring/chain/deployment.ts';
import { pinnedTrust, type TrustAnchor } from '../anchoring/core/trust.ts';
import type { Config } from '../core/config.ts';
import { InvalidArgumentError } from '../core/errors.ts';

/**
 * The trust anchor of server-side verification (`claimtrail verify <claim-id>`, the review app's
 * compliance verify): the deployment this installation anchors to, resolved the way the runtime
 * and `claimtrail audit` resolve it: DECISION_ANCHOR_ADDRESS, else the contract the local stack
 * recorded under STATE_DIR for the RPC node's chain. Never the contract a stored batch row names:
 * a row altered in PostgreSQL must not choose the contract it is checked against.
 * @throws InvalidArgumentError when neither is known for the node's chain.
 */
export async function configuredTrustAnchor(config: Pick<Readonly<Config>, 'chain' | 'stateDir'>, provider: JsonRpcProvider): Promise<TrustAnchor> {
  const chainId = (await provider.getNetwork()).chainId;
  const contract = config.chain.contractAddress ?? recordedDecisionAnchor(config.stateDir, chainId);
  if (!contract) throw new InvalidArgumentError(`no DecisionAnchor configured on chain ${chainId}: set DECISION_ANCHOR_ADDRESS`);
  return pinnedTrust({ contract, chainId: Number(chainId) });
}
