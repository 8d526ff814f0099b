/**
 * The federation's record on chain (contracts/FederationRegistry.sol): each secure-aggregation
 * round's digest, then the model with its lineage digest, sent by the coordinator's chain key
 * through a transaction manager (anchoring/chain/anchor-tx.manager.ts: persisted attempts, fee
 * bumps, confirmations); and the verification of a federated bundle against that record.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { Contract, getCreateAddress, id, Interface, type JsonRpcProvider } from 'ethers';
import type { AnchorTxManager } from '../anchoring/chain/anchor-tx.manager.ts';
import { DecisionAnchorV2Client } from '../anchoring/chain/decision-anchor-v2.client.ts';
import { modelMetadataURI } from '../anchoring/chain/model-registration.ts';
import { loadFederationRegistryArtifact } from '../contracts/artifacts.ts';
import type { RoundRecord } from './aggregator.ts';
import { LINEAGE_FORMAT, lineageDigest, roundDigest, type FederationLineage } from './lineage.ts';

const hex32 = (h: string): string => (h.startsWith('0x') ? h : `0x${h}`);

/** The on-chain id of a federation name. */
export function federationId(federation: string): string {
  return id(federation);
}

/** Deploys a FederationRegistry through the manager; returns its address. */
export async function deployFederationRegistry(tx: AnchorTxManager): Promise<string> {
  const { bytecode } = loadFederationRegistryArtifact();
  const outcome = await tx.send({ to: null, data: bytecode, method: 'deploy', batchIds: [] });
  return getCreateAddress({ from: tx.address, nonce: outcome.nonce });
}

/** Writes rounds and models into a FederationRegistry as the manager's account. */
export class FederationChainRecorder {
  readonly #tx: AnchorTxManager;
  readonly #address: string;
  readonly #iface: Interface;

  constructor(tx: AnchorTxManager, registryAddress: string) {
    this.#tx = tx;
    this.#address = registryAddress;
    this.#iface = new Interface(loadFederationRegistryArtifact().abi);
  }

  get coordinatorAddress(): string {
    return this.#tx.address;
  }

  async recordRound(federation: string, r: RoundRecord): Promise<string> {
    const commitments = [...r.survivors].sort().map((s) => hex32(r.commitments[s]!));
    const data = this.#iface.encodeFunctionData('recordRound', [federationId(federation), r.index, hex32(roundDigest(federation, r)), hex32(r.aggregateHash), commitments]);
    return (await this.#tx.send({ to: this.#address, data, method: 'recordRound', batchIds: [] })).txHash;
  }

  async registerModel(lineage: Pick<FederationLineage, 'federation' | 'rounds'>, modelHash: string): Promise<string> {
    const data = this.#iface.encodeFunctionData('registerModel', [hex32(modelHash.replace(/^0x/, '')), federationId(lineage.federation), hex32(lineageDigest(lineage)), lineage.rounds.length]);
    return (await this.#tx.send({ to: this.#address, data, method: 'registerModel', batchIds: [] })).txHash;
  }
}

/** One check of `federate verify`. */
export interface VerifyCheck {
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface FederationVerification {
  readonly ok: boolean;
  readonly checks: readonly VerifyCheck[];
}

/**
 * Checks a federated bundle's lineage against the chain. Trust anchors come from the caller: the
 * model hash (as a decision records it), the registry address and the coordinator's address;
 * nothing is taken from the bundle but the lineage being checked.
 */
export async function verifyFederatedModel(options: {
  modelHash: string;
  bundleDir: string;
  provider: JsonRpcProvider;
  registry: string;
  coordinator: string;
  /** DecisionAnchorV2 the decisions are anchored on: its registration of the model must cite this federation. */
  anchorContract?: string;
}): Promise<FederationVerification> {
  const checks: VerifyCheck[] = [];
  const add = (check: string, ok: boolean, detail: string) => checks.push({ check, ok, detail });
  const manifestBytes = await readFile(path.join(options.bundleDir, 'manifest.json'));
  const computed = `0x${createHash('sha256').update(manifestBytes).digest('hex')}`;
  const expected = options.modelHash.toLowerCase();
  add('model hash', computed === expected, computed === expected ? `manifest hashes to ${expected}` : `manifest hashes to ${computed}, not ${expected}`);
  let lineage: (FederationLineage & { lineageDigest?: string }) | undefined;
  try {
    const manifest = JSON.parse(manifestBytes.toString('utf8')) as { training?: { federation?: FederationLineage } };
    lineage = manifest.training?.federation;
  } catch {
    lineage = undefined;
  }
  if (!lineage || lineage.format !== LINEAGE_FORMAT || !Array.isArray(lineage.rounds)) {
    add('lineage', false, `the manifest carries no ${LINEAGE_FORMAT} lineage`);
    return { ok: false, checks };
  }
  const contract = new Contract(options.registry, loadFederationRegistryArtifact().abi, options.provider);
  const fid = federationId(lineage.federation);
  const record = (await contract.getFunction('modelOf')(options.coordinator, expected)) as { federationId: string; lineageDigest: string; roundCount: bigint; registeredAt: bigint };
  if (record.registeredAt === 0n) {
    add('model on chain', false, `no federated model ${expected} registered by ${options.coordinator}`);
  } else {
    add('model on chain', record.federationId === fid, record.federationId === fid ? `registered for federation ${lineage.federation}` : 'registered for another federation');
    const digest = hex32(lineageDigest(lineage));
    add('lineage digest', record.lineageDigest === digest, record.lineageDigest === digest ? `rounds digest ${digest}` : `chain holds ${record.lineageDigest}, the lineage gives ${digest}`);
    add('round count', Number(record.roundCount) === lineage.rounds.length, `chain cites ${record.roundCount} rounds, the lineage holds ${lineage.rounds.length}`);
  }
  const bad: number[] = [];
  for (const [i, r] of lineage.rounds.entries()) {
    const onChain = (await contract.getFunction('roundDigestOf')(options.coordinator, fid, i)) as string;
    if (r.index !== i || onChain !== hex32(roundDigest(lineage.federation, r))) bad.push(i);
  }
  add('rounds', bad.length === 0, bad.length === 0 ? `${lineage.rounds.length} round records match the chain` : `round record(s) ${bad.join(', ')} differ from the chain`);
  if (options.anchorContract) {
    // The decisions' contract: its model registration must cite the federation, lineage and round count recomputed here.
    const registered = await new DecisionAnchorV2Client({ provider: options.provider, address: options.anchorContract }).modelRecord(expected);
    const cited = modelMetadataURI(expected, { federation: lineage.federation, lineageDigest: lineageDigest(lineage), rounds: lineage.rounds.length });
    if (!registered) add('model on DecisionAnchorV2', false, `${expected} is not registered on ${options.anchorContract}`);
    else add('model on DecisionAnchorV2', registered.metadataURI === cited, registered.metadataURI === cited ? `registered citing this federation (${cited})` : `registered as ${registered.metadataURI}, expected ${cited}`);
  }
  return { ok: checks.every((c) => c.ok), checks };
}
