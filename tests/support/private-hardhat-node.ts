import { spawn, type ChildProcess } from 'node:child_process';
import { stopChild, waitForRpc } from './rpc-ready.ts';

/**
 * Hardhat's own node (EDR, a second EVM implementation next to anvil) on a random port, for
 * tests that must hold on two independent chains. Chain id 31337 like anvil: give the test its
 * own STATE_DIR so deployment records and dev keys do not mix. `stop()` ends only this process.
 */
export interface PrivateHardhatNode {
  rpcUrl: string;
  stop(): Promise<void>;
}

export async function startPrivateHardhatNode(): Promise<PrivateHardhatNode> {
  const port = 40_000 + Math.floor(Math.random() * 10_000);
  // `hardhat` from node_modules/.bin runs on the Node 24 npm put first on PATH.
  const child: ChildProcess = spawn('hardhat', ['node', '--port', String(port), '--hostname', '127.0.0.1'], { stdio: 'ignore', detached: false });
  const rpcUrl = `http://127.0.0.1:${port}`;
  await waitForRpc(child, rpcUrl, `hardhat node on port ${port}`, 60_000);
  return {
    rpcUrl,
    stop: () => stopChild(child),
  };
}
