import type { JsonRpcProvider } from 'ethers';
import { buildEpochTree } from '../core/epoch.ts';
import type { TrustAnchor } from '../core/trust.ts';
import type { EpochRepository } from '../epoch.repository.ts';
import { DecisionAnchorClient } from './decision-anchor.client.ts';
import { DecisionAnchorV2Client } from './decision-anchor-v2.client.ts';

/**
 * The root the chain commits for an audit seal (`audit_seals.batch_id`), for the review app's seal
 * check. The contracts and the anchorer asked come from `trust` (the configured deployments), never
 * from the rows: a seal placed in an epoch (since proof format v2) is committed through the epoch
 * root the trusted DecisionAnchorV2 holds under our anchorer, and the stored entries must rebuild
 * that root, whose entry for the seal is then what the chain commits; any other seal is read with
 * v1 `batchOf` on the trusted v1 contract.
 * @returns the committed seal root; the on-chain epoch root when the stored entries no longer
 *   rebuild it (so the caller reports a mismatch); null when nothing is on chain or no trusted
 *   deployment of that version is configured.
 */
export async function sealRootOnChain(deps: { provider: JsonRpcProvider; epochs: EpochRepository }, sealId: string, trust: TrustAnchor): Promise<string | null> {
  const placed = await deps.epochs.placementOfSeal(sealId);
  if (placed) {
    const v2 = trust.deployments.find((d) => d.version === 'v2' && d.anchorers?.length);
    if (!v2) return null;
    const onChain = await new DecisionAnchorV2Client({ provider: deps.provider, address: v2.contract }).epochOf(v2.anchorers![0]!, placed.epoch.epochId);
    if (!onChain) return null;
    return buildEpochTree(placed.epoch.instanceId, placed.entries).root === onChain.root ? placed.entries[placed.position]!.root : onChain.root;
  }
  const v1 = trust.deployments.find((d) => d.version !== 'v2');
  if (!v1) return null;
  return (await new DecisionAnchorClient({ provider: deps.provider, address: v1.contract }).batchOf(sealId))?.root ?? null;
}
