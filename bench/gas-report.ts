/**
 * Measures DecisionAnchor gas on a private anvil and prints docs/gas.md's table:
 *   node bench/gas-report.ts
 * (needs `hardhat build` first for the artifact). Figures are gasUsed from receipts.
 */
import { Interface, Wallet, id } from 'ethers';
import { DecisionAnchorClient } from '../anchoring/chain/decision-anchor.client.ts';
import { connectProvider } from '../anchoring/chain/provider.ts';
import { loadDecisionAnchorArtifact } from '../contracts/artifacts.ts';
import { startPrivateAnvil } from '../tests/support/private-anvil.ts';

const anvil = await startPrivateAnvil();
const provider = await connectProvider(anvil.rpcUrl, 100);
try {
  const { address } = await DecisionAnchorClient.deploy(provider, anvil.signerKey);
  const wallet = new Wallet(anvil.signerKey, provider);
  const abi = new Interface(loadDecisionAnchorArtifact().abi as never);
  let n = 0;
  const gas = async (method: string, args: unknown[]) => {
    const tx = await wallet.sendTransaction({ to: address, data: abi.encodeFunctionData(method, args) });
    return (await tx.wait())!.gasUsed;
  };
  const rows: Array<[string, bigint]> = [];
  const batch = async (leafCount: number) => gas('anchorBatch', [id(`gas batch ${n++}`), id(`gas root ${n}`), leafCount]);
  rows.push(['anchorBatch (1 batch root)', await batch(1000)]);
  const batchGas1k = await batch(1000);
  const batchGas10k = await batch(10_000);
  for (const k of [1, 10, 100]) {
    const ids = Array.from({ length: k }, () => id(`gas batch ${n++}`));
    rows.push([`anchorBatches, ${k} roots`, await gas('anchorBatches', [ids, ids.map((x) => id(`r${x}`)), ids.map(() => 1000)])]);
  }
  for (const k of [1, 10, 100]) {
    rows.push([`anchorFlagged, ${k} leaves`, await gas('anchorFlagged', [Array.from({ length: k }, () => id(`gas leaf ${n++}`))])]);
  }
  rows.push(['registerModel (short metadata URI)', await gas('registerModel', [id(`gas model ${n++}`), 'claimtrail-model:0x' + '00'.repeat(32)])]);
  for (const [what, g] of rows) process.stdout.write(`| ${what} | ${g} |\n`);
  process.stdout.write(`| gas per decision, 1,000 decisions per batch (anchorBatch) | ${(Number(batchGas1k) / 1000).toFixed(1)} |\n`);
  process.stdout.write(`| gas per decision, 10,000 decisions per batch (anchorBatch) | ${(Number(batchGas10k) / 10000).toFixed(2)} |\n`);
} finally {
  provider.destroy();
  await anvil.stop();
}
