import { Contract, ContractFactory, Wallet, id, toBeHex, type JsonRpcProvider, type Signer } from 'ethers';
import { loadDecisionAnchorV2Artifact } from '../../contracts/artifacts.ts';

/** Where an anchoring transaction landed. */
export interface Landed {
  txHash: string;
  blockNumber: number;
  blockHash: string;
}

/** One account holding ANCHORER_ROLE on a test deployment, writing in its own namespace. */
export interface TestAnchorer {
  /** Lowercase address: the namespace `epochOf(anchorer, …)` reads. */
  address: string;
  anchorEpoch(epochId: string, root: string, batchCount: number, leafCount: bigint | string): Promise<Landed>;
  anchorFlaggedRoot(root: string, count: number): Promise<Landed>;
}

/** A DecisionAnchorV2 deployed for a test on the dev chain, with fresh funded keys for every role. */
export interface TestDeploymentV2 {
  address: string;
  chainId: number;
  /** The first anchorer (given ANCHORER_ROLE by the constructor). */
  anchorer: TestAnchorer;
  /** Grants ANCHORER_ROLE to a further fresh key (another insurer on a shared contract, or a forger's). */
  addAnchorer(): Promise<TestAnchorer>;
}

/**
 * Deploys a DecisionAnchorV2 with plain ethers, each role on a fresh random key funded through
 * anvil's `anvil_setBalance` (tests only: production deploys through the signer's transaction
 * manager). Used where a test needs real chain state it controls: the CLI vector walk, a forger's
 * own contract.
 */
export async function deployTestAnchorV2(provider: JsonRpcProvider): Promise<TestDeploymentV2> {
  const fund = async () => {
    const w = Wallet.createRandom().connect(provider);
    await provider.send('anvil_setBalance', [w.address, toBeHex(10n ** 20n)]);
    return w;
  };
  const [admin, first, registrar] = [await fund(), await fund(), await fund()];
  const { abi, bytecode } = loadDecisionAnchorV2Artifact();
  const deployed = await new ContractFactory(abi, bytecode, admin).deploy(admin.address, first.address, registrar.address);
  await deployed.waitForDeployment();
  const address = await deployed.getAddress();
  const chainId = Number((await provider.getNetwork()).chainId);
  const as = (wallet: Signer & { address: string }): TestAnchorer => {
    const contract = new Contract(address, abi, wallet);
    const landed = async (tx: Promise<{ wait(): Promise<{ hash: string; blockNumber: number; blockHash: string } | null> }>): Promise<Landed> => {
      const receipt = (await (await tx).wait())!;
      return { txHash: receipt.hash, blockNumber: receipt.blockNumber, blockHash: receipt.blockHash };
    };
    return {
      address: wallet.address.toLowerCase(),
      anchorEpoch: (epochId, root, batchCount, leafCount) => landed(contract.getFunction('anchorEpoch')(epochId, root, batchCount, leafCount)),
      anchorFlaggedRoot: (root, count) => landed(contract.getFunction('anchorFlaggedRoot')(root, count)),
    };
  };
  return {
    address,
    chainId,
    anchorer: as(first),
    async addAnchorer() {
      const wallet = await fund();
      await (await new Contract(address, abi, admin).getFunction('grantRole')(id('ANCHORER_ROLE'), wallet.address)).wait();
      return as(wallet);
    },
  };
}
