import { createRequire } from 'node:module';
import hardhatEthers from '@nomicfoundation/hardhat-ethers';
import hardhatEthersChaiMatchers from '@nomicfoundation/hardhat-ethers-chai-matchers';
import hardhatMocha from '@nomicfoundation/hardhat-mocha';
import hardhatNetworkHelpers from '@nomicfoundation/hardhat-network-helpers';
import { defineConfig } from 'hardhat/config';

/**
 * Hardhat 3 configuration for claimtrail's contracts.
 *
 * - Sources: `contracts/*.sol`; mocha tests: `contracts/test/*.test.ts`; artifacts: `artifacts/`
 *   (gitignored, read at runtime by `contracts/artifacts.ts`).
 * - Compiler: solc 0.8.28 from the `solc` npm package (soljson.js, WASM). Hardhat's compiler
 *   download is not reachable from these machines, so `path` points at the local build instead.
 * - Networks: tests run on the in-process EDR simulation (`default`); `localhost` is the local
 *   stack's chain node (anvil or `hardhat node`) at CHAIN_RPC_URL.
 */
const require = createRequire(import.meta.url);

export default defineConfig({
  plugins: [hardhatEthers, hardhatEthersChaiMatchers, hardhatMocha, hardhatNetworkHelpers],
  solidity: {
    version: '0.8.28',
    path: require.resolve('solc/soljson.js'),
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: 'cancun',
    },
  },
  paths: {
    sources: 'contracts',
    tests: { mocha: 'contracts/test' },
    artifacts: 'artifacts',
    cache: 'cache',
  },
  networks: {
    localhost: {
      type: 'http',
      chainType: 'l1',
      url: process.env.CHAIN_RPC_URL ?? 'http://127.0.0.1:8545',
    },
  },
});
