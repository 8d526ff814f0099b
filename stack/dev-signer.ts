import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Wallet, parseEther, toQuantity } from 'ethers';
import type { Logger } from '../core/logger.ts';
import { rpcCall } from './json-rpc.ts';

/**
 * The development signer of the local chain. claimtrail has no default keys (core/config.ts): the
 * anchor worker reads SIGNER_KEY_FILE. `stack up` writes a fresh random key to
 * `<state>/chain/dev-signer.key` (mode 0600) the first time, and tops up its balance on a
 * development chain so anchoring works right after `stack up`.
 *
 * WARNING: funding uses the dev-node cheat methods `anvil_setBalance` / `hardhat_setBalance` and
 * is attempted only when the chain id is {@link DEV_CHAIN_ID}; on any other chain the key is
 * written but never funded, and it must never be used for real value.
 */

export const DEV_CHAIN_ID = 31337;
/** Balance the signer is topped up to, and the floor below which it is (in ETH). */
const TARGET_BALANCE_ETH = '10000';
const FLOOR_BALANCE_ETH = '100';

export interface DevSigner {
  readonly address: string;
  readonly keyFile: string;
  /** True when the balance is at least the floor after this call. */
  readonly funded: boolean;
}

/** Creates the key file when missing, then funds the signer on a dev chain. */
export async function ensureDevSigner(keyFile: string, rpcUrl: string, chainId: number, log: Logger): Promise<DevSigner> {
  if (!existsSync(keyFile)) {
    mkdirSync(dirname(keyFile), { recursive: true });
    writeFileSync(keyFile, `${Wallet.createRandom().privateKey}\n`, { mode: 0o600, flag: 'wx' });
    log.info({ keyFile }, 'wrote a new dev signer key');
  }
  chmodSync(keyFile, 0o600);
  const address = new Wallet(readFileSync(keyFile, 'utf8').trim()).address;
  if (chainId !== DEV_CHAIN_ID) return { address, keyFile, funded: false };
  const balance = BigInt(await rpcCall<string>(rpcUrl, 'eth_getBalance', [address, 'latest']));
  if (balance >= parseEther(FLOOR_BALANCE_ETH)) return { address, keyFile, funded: true };
  const target = toQuantity(parseEther(TARGET_BALANCE_ETH));
  for (const method of ['anvil_setBalance', 'hardhat_setBalance']) {
    try {
      await rpcCall(rpcUrl, method, [address, target]);
      log.info({ address, method }, 'funded the dev signer');
      return { address, keyFile, funded: true };
    } catch (error) {
      log.debug({ method, err: error }, 'dev node cheat method unavailable');
    }
  }
  log.warn({ address }, 'chain id is 31337 but the node offers no setBalance method; fund the dev signer by hand');
  return { address, keyFile, funded: false };
}
