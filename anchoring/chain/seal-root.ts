import type { JsonRpcProvider } from 'ethers';
import { buildEpochTree } from '../core/epoch.ts';
import type { EpochRepository } from '../epoch.repository.ts';
import { DecisionAnchorClient } from './decision-anchor.client.ts';
import { DecisionAnchorV2Client } from './decision-anchor-v2.client.ts';

/**
 * The root the chain commits for an audit seal (`audit_seals.batch_id`), for the review app's seal
 * check: a seal in an epoch (since proof format v2) is committed through the epoch root that
 * DecisionAnchorV2 holds under the epoch's anchorer; the stored entries must rebuild that root, and
 * then the seal's entry root is what the chain commits. A seal anchored by the v1 path is read with
 * v1 `batchOf` on `contract`.
 * @returns the committed seal root; the on-chain epoch root when the stored entries no longer
 *   rebuild it (so the caller reports a mismatch); null when nothing is on chain.
 */
export async function sealRootOnChain(deps: { provider: JsonRpcProvider; epochs: EpochRepository }, sealId: string, contract: string): Promise<string | null> {
  const placed = await deps.epochs.placementOfSeal(sealId);
  if (placed?.epoch.anchor) {
    const { anchor } = placed.epoch;
    const onChain = await new DecisionAnchorV2Client({ provider: deps.provider, address: anchor.contract }).epochOf(anchor.anchorer, placed.epoch.epochId);
    if (!onChain) return null;
    return buildEpochTree(placed.epoch.instanceId, placed.entries).root === onChain.root ? placed.entries[placed.position]!.root : onChain.root;
  }
  return (await new DecisionAnchorClient({ provider: deps.provider, address: contract }).batchOf(sealId))?.root ?? null;
}
