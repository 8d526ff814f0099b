import { Contract, getAddress, type JsonRpcProvider } from 'ethers';
import type { AnchorReaderV2 } from '../anchoring/core/verify-proof-v2.ts';
import { loadDecisionAnchorV2Artifact } from '../contracts/artifacts.ts';

/**
 * The v2 verifier's read access to ONE DecisionAnchorV2, over an ethers provider: `epochOf` and
 * `flaggedRootOf` in the anchorer's namespace, plus the chain id, head and canonical block hashes.
 *
 * WARNING: `contract` must be the TRUSTED address (from `--contract`, a trust file, or the
 * configured deployment), never `bundle.anchor.contract`: `verifyAgainstChainV2` refuses a reader
 * bound to any other address, and a reader of the bundle's own contract proves nothing (anyone
 * can deploy a DecisionAnchorV2 and anchor any root there).
 *
 * Reads only: it never signs. RPC errors propagate unchanged (an unreachable node is a failure,
 * not a verification answer).
 * @param provider a provider on a node the verifier trusts to follow the canonical chain.
 * @param contract the trusted DecisionAnchorV2 address (any case).
 */
export function createAnchorReaderV2(provider: JsonRpcProvider, contract: string): AnchorReaderV2 {
  const { abi } = loadDecisionAnchorV2Artifact();
  const anchor = new Contract(getAddress(contract), abi, provider);
  return {
    contract,
    async epochOf(anchorer, epochId) {
      const [root, batchCount, leafCount, , anchoredBlock] = (await anchor.getFunction('epochOf').staticCall(anchorer, epochId)) as [string, bigint, bigint, bigint, bigint];
      // A zero root means "never anchored by this anchorer" (anchorEpoch refuses a zero root).
      if (BigInt(root) === 0n) return null;
      return { root, blockNumber: anchoredBlock, batchCount: Number(batchCount), leafCount };
    },
    async flaggedRootOf(anchorer, root) {
      const [count, anchoredBlock] = (await anchor.getFunction('flaggedRootOf').staticCall(anchorer, root)) as [bigint, bigint];
      // A zero count means "never anchored" (anchorFlaggedRoot refuses a zero count).
      if (count === 0n) return null;
      return { count: Number(count), blockNumber: anchoredBlock };
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
