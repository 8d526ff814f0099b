import { JsonRpcProvider, Network } from 'ethers';
import { StackError } from '../../core/errors.ts';
import { redactUrl } from '../../core/redact.ts';

/**
 * An ethers JSON-RPC provider with its network pinned after one eth_chainId call (no repeated
 * detection), a short polling interval, and no response cache (ethers caches identical calls for
 * 250 ms by default, which hands a stale pending nonce to the next transaction).
 */
export async function connectProvider(rpcUrl: string, pollingIntervalMs = 250): Promise<JsonRpcProvider> {
  const probe = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, batchMaxCount: 1 });
  let chainId: bigint;
  try {
    chainId = BigInt(await probe.send('eth_chainId', []));
  } catch (error) {
    // The URL may carry an API key (https://host/v3/<key>): the message names it redacted.
    throw new StackError('chain', `no EVM JSON-RPC answers at ${redactUrl(rpcUrl)} (start it with \`claimtrail stack up\`)`, { retriable: true, cause: error });
  } finally {
    probe.destroy();
  }
  const provider = new JsonRpcProvider(rpcUrl, Network.from(chainId), { staticNetwork: Network.from(chainId), pollingInterval: pollingIntervalMs, cacheTimeout: -1 });
  return provider;
}
