import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { stopChild, waitForRpc } from './rpc-ready.ts';

/**
 * A private anvil for tests that steer mining (automine off, snapshots, reverts): doing that on
 * the shared stack chain would disturb every other test and process using it. Chain id 31337,
 * a random port, no state file unless `loadState` names one; `stop()` ends only this process.
 */
export interface PrivateAnvil {
  rpcUrl: string;
  /** anvil's first default account: a public, well-known test key that only exists on dev chains. */
  signerKey: string;
  stop(): Promise<void>;
}

const ANVIL_ACCOUNT_0_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

export interface PrivateAnvilOptions {
  /** A state file written by `anvil --dump-state` to start from (accounts, contracts, blocks). */
  loadState?: string;
  /** Chain id; default 31337 (the dev chain). Another id plays a non-dev chain. */
  chainId?: number;
  /** Seconds between blocks (`--block-time`); unset: automine, a block per transaction. */
  blockTime?: number;
}

export async function startPrivateAnvil(options: PrivateAnvilOptions = {}): Promise<PrivateAnvil> {
  const require = createRequire(import.meta.url);
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const binary = require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/bin/anvil`);
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const state = options.loadState ? ['--load-state', options.loadState] : [];
  const mining = options.blockTime ? ['--block-time', String(options.blockTime)] : [];
  const child: ChildProcess = spawn(binary, ['--port', String(port), '--chain-id', String(options.chainId ?? 31337), '--silent', ...mining, ...state], { stdio: 'ignore' });
  const rpcUrl = `http://127.0.0.1:${port}`;
  await waitForRpc(child, rpcUrl, `private anvil on port ${port}`, 20_000);
  return {
    rpcUrl,
    signerKey: ANVIL_ACCOUNT_0_KEY,
    stop: () => stopChild(child),
  };
}
