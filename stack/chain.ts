import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { StackError } from '../core/errors.ts';
import { DaemonService, type LaunchSpec, type Probe } from './daemon-service.ts';
import { DEV_CHAIN_ID, ensureDevSigner } from './dev-signer.ts';
import { rpcCall } from './json-rpc.ts';
import { REPO_ROOT, servicePaths } from './paths.ts';
import { isPortOpen } from './port.ts';
import { findExecutable } from './process.ts';
import type { StackContext, StackService } from './service.ts';

/**
 * The local EVM chain: whatever answers `eth_chainId` at CHAIN_RPC_URL is reused; otherwise
 * anvil (npm @foundry-rs/anvil) runs on that port with chain id 31337 and its state in
 * `<state>/chain/anvil-state.json`, loaded at start, dumped every few seconds and on exit, so
 * deployed contracts and anchors survive `stack down` / `stack up`.
 */

const START_TIMEOUT_MS = 30_000;
/** anvil dumps its state on SIGTERM, which takes well under a second for a dev chain. */
const STOP_TIMEOUT_MS = 15_000;
/** Seconds between state dumps, bounding what a crash (or SIGKILL) can lose. */
const STATE_INTERVAL_S = 5;

/** Key file of the dev signer, relative to the state folder (see dev-signer.ts). */
export const DEV_SIGNER_KEY_FILE = join('chain', 'dev-signer.key');
/**
 * Key files of DecisionAnchorV2's other dev role holders, relative to the state folder: the admin
 * (deploys the dev contract and holds DEFAULT_ADMIN_ROLE) and the model registrar. Three distinct
 * keys, as the contract demands; made and funded like the dev signer, on the dev chain only.
 */
export const DEV_ADMIN_KEY_FILE = join('chain', 'dev-admin.key');
export const DEV_REGISTRAR_KEY_FILE = join('chain', 'dev-registrar.key');

export function createChainService(ctx: StackContext): StackService {
  const rpcUrl = ctx.config.chainRpcUrl;
  const url = new URL(rpcUrl);
  const host = url.hostname;
  const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' || url.protocol === 'wss:' ? 443 : 80;
  const paths = servicePaths(ctx.config.stateDir, 'chain');
  const log = ctx.log.child({ stackService: 'chain' });
  return new DaemonService(
    {
      name: 'chain',
      host,
      port,
      address: `${url.protocol}//${host}:${port}`,
      paths,
      addressVariable: 'CHAIN_RPC_URL',
      startTimeoutMs: START_TIMEOUT_MS,
      stopTimeoutMs: STOP_TIMEOUT_MS,
      probe: () => probeChain(rpcUrl, host, port),
      prepare: async (): Promise<LaunchSpec> => ({
        command: resolveAnvil(),
        args: [
          '--host', '127.0.0.1',
          '--port', String(port),
          '--chain-id', String(DEV_CHAIN_ID),
          '--state', join(paths.dir, 'anvil-state.json'),
          '--state-interval', String(STATE_INTERVAL_S),
        ],
      }),
      afterHealthy: async () => {
        const chainId = Number(BigInt(await rpcCall<string>(rpcUrl, 'eth_chainId')));
        const signer = await ensureDevSigner(join(ctx.config.stateDir, DEV_SIGNER_KEY_FILE), rpcUrl, chainId, log);
        return `dev signer ${signer.address}${signer.funded ? '' : ' (unfunded)'} in ${signer.keyFile}`;
      },
    },
    ctx.log,
  );
}

/** Healthy when `eth_chainId` answers; the detail names the chain id. */
async function probeChain(rpcUrl: string, host: string, port: number): Promise<Probe> {
  if (!(await isPortOpen(host, port))) return { kind: 'closed' };
  try {
    const chainId = await rpcCall<string>(rpcUrl, 'eth_chainId');
    return { kind: 'healthy', detail: `chain id ${Number(BigInt(chainId))}` };
  } catch (error) {
    return { kind: 'foreign', detail: `not an EVM JSON-RPC node: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/**
 * The anvil executable. The native binary of the platform package comes first: the npm bin
 * (`node_modules/.bin/anvil`) is a Node wrapper around it, and starting the binary directly
 * makes our pidfile hold the node itself, not a wrapper that has to forward signals.
 */
function resolveAnvil(): string {
  const require = createRequire(join(REPO_ROOT, 'package.json'));
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const binary = process.platform === 'win32' ? 'anvil.exe' : 'anvil';
  try {
    const native = require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/bin/${binary}`);
    if (existsSync(native)) return native;
  } catch {
    // Platform package not installed: fall back to the wrapper or a foundryup install.
  }
  const found = findExecutable('anvil', [join(REPO_ROOT, 'node_modules', '.bin')]);
  if (found === null) {
    throw new StackError('chain', 'anvil is not installed (run `npm install`, which adds @foundry-rs/anvil, or install Foundry) or use `docker compose up`');
  }
  return found;
}
