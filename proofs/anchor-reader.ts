import type { JsonRpcProvider } from 'ethers';
import type { AnchorReader } from '../anchoring/core/verify-proof.ts';
import { DecisionAnchorClient } from '../anchoring/chain/decision-anchor.client.ts';

/** The verifier's read access to one DecisionAnchor, over an ethers provider. */
export function createAnchorReader(provider: JsonRpcProvider, contract: string): AnchorReader {
  const client = new DecisionAnchorClient({ provider, address: contract });
  return {
    async batchOf(batchId) {
      const batch = await client.batchOf(batchId);
      return batch ? { root: batch.root, leafCount: batch.leafCount, anchoredBlock: batch.anchoredBlock } : null;
    },
    async blockNumber() {
      return BigInt(await provider.getBlockNumber());
    },
    async blockHash(n) {
      const block = await provider.getBlock(n);
      return block?.hash ?? null;
    },
    async chainId() {
      return (await provider.getNetwork()).chainId;
    },
  };
}
