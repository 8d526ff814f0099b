import type { ChildProcess } from 'node:child_process';
import { JsonRpcProvider, Network } from 'ethers';

/**
 * Waits until a dev chain child process answers `eth_chainId` at `rpcUrl` (chain id 31337).
 * Kills the child and throws when it exits or `timeoutMs` passes first.
 */
export async function waitForRpc(child: ChildProcess, rpcUrl: string, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const probe = new JsonRpcProvider(rpcUrl, Network.from(31337), { staticNetwork: Network.from(31337) });
    try {
      await probe.send('eth_chainId', []);
      return;
    } catch (error) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGTERM');
        throw new Error(`${what} did not start`, { cause: error });
      }
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      probe.destroy();
    }
  }
}

/** Stops a child process started by a test and waits for it to exit. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
