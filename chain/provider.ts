import { JsonRpcProvider, Network } from 'ethers';
import { StackError } from '../core/errors.ts';

/**
 * An ethers JSON-RPC provider with its network pinned after one eth_chainId call (no repeated
 * detection) and a short polling interval, suited to local chains and fast L2s alike.
 */
export async function connectProvider(rpcUrl: string, pollingIntervalMs = 250): Promise<JsonRpcProvider> {
  const probe = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, batchMaxCount: 1 });
  let chainId: bigint;
  try {
    chainId = BigInt(await probe.send('eth_chainId', []));
  } catch (error) {
    throw new StackError('chain', `no EVM JSON-RPC answers at ${rpcUrl} (start it with \`claimtrail stack up\`)`, { retriable: true, cause: error });
  } finally {
    probe.destroy();
  }
  const provider = new JsonRpcProvider(rpcUrl, Network.from(chainId), { staticNetwork: Network.from(chainId), pollingInterval: pollingIntervalMs });
  return provider;
}
