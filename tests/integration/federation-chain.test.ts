import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { toBeHex, Wallet, type JsonRpcProvider } from 'ethers';
import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnchorTxManager } from '../../anchoring/chain/anchor-tx.manager.ts';
import { AnchorTxRepository } from '../../anchoring/chain/anchor-tx.repository.ts';
import { DecisionAnchorV2Client } from '../../anchoring/chain/decision-anchor-v2.client.ts';
import { deployDecisionAnchorV2 } from '../../anchoring/chain/deployment-v2.ts';
import { federationCitationOf, registerModel } from '../../anchoring/chain/model-registration.ts';
import { connectProvider } from '../../anchoring/chain/provider.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { InProcessAggregator } from '../../federation/aggregator.ts';
import { deployFederationRegistry, FederationChainRecorder, verifyFederatedModel } from '../../federation/chain-record.ts';
import { claimFeatureRows, saveFederatedBundle } from '../../federation/federated-bundle.ts';
import { trainFederated } from '../../federation/federated-trainer.ts';
import { LocalParty } from '../../federation/local-party.ts';
import { generateIdentity, ParticipantRegistry } from '../../federation/secure-aggregation/identity.ts';
import { createPool } from '../../infra/db/pool.ts';
import { FEATURE_NAMES } from '../../scoring/features.ts';
import { initTf } from '../../scoring/tf.ts';
import { isolatedConfig, migratedSchema, testLog } from '../support/env.ts';
import { startPrivateAnvil, type PrivateAnvil } from '../support/private-anvil.ts';

const GWEI = 1_000_000_000n;

/**
 * The federation's chain record on a private anvil: every round of a real (in-process) federated
 * training is recorded through the transaction manager, the model registered with its lineage
 * digest; `verifyFederatedModel` passes, and fails (naming the round) once one round record of
 * the bundle is altered.
 */
describe('federation on chain: record and verify', () => {
  const config = isolatedConfig();
  let anvil: PrivateAnvil;
  let provider: JsonRpcProvider;
  let pool: Pool;
  let dropSchema: () => Promise<void>;
  let dir: string;

  beforeAll(async () => {
    await initTf();
    anvil = await startPrivateAnvil();
    provider = await connectProvider(anvil.rpcUrl, 100);
    dropSchema = await migratedSchema(config);
    pool = createPool(config.database.url, config.database.schema, 2);
    dir = await mkdtemp(path.join(tmpdir(), 'claimtrail-fedchain-'));
  });

  afterAll(async () => {
    provider?.destroy();
    await pool?.end();
    await dropSchema?.();
    await anvil?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * One in-process federated training over `parties` insurers of 300 generated claims each (one
   * FedAvg round, MLP 8), saved as a bundle under `out`; the network's tensors are freed.
   */
  async function trainSmallFederation(federation: string, o: { parties: number; claimsSeed: number; seed: number; trees: number; out: string }) {
    const coordinatorId = generateIdentity('coordinator');
    const ids = Array.from({ length: o.parties }, (_, i) => generateIdentity(`insurer-${i}`));
    const data = generateClaims({ count: 300 * o.parties, seed: o.claimsSeed });
    const label = new Map(data.labels.map((l) => [l.claimId, l.fraud ? 1 : 0]));
    const rows = claimFeatureRows(data.claims);
    const labels = data.claims.map((c) => label.get(c.claimId)!);
    const parties = ids.map((identity, k) => ({ identity, party: new LocalParty({ id: identity.id, rows: rows.slice(k * 300, (k + 1) * 300), labels: labels.slice(k * 300, (k + 1) * 300), hidden: [8], seed: k + 1 }) }));
    const aggregator = new InProcessAggregator({
      federation,
      coordinator: coordinatorId,
      registry: new ParticipantRegistry(ids.map((p) => ({ id: p.id, publicKey: p.publicKey }))),
      coordinatorRegistry: new ParticipantRegistry([{ id: 'coordinator', publicKey: coordinatorId.publicKey }]),
      parties,
    });
    const model = await trainFederated({ aggregator, federation, participantKeys: ids, width: FEATURE_NAMES.length, seed: o.seed, hidden: [8], maxRounds: 1, localEpochs: 1, trees: o.trees });
    const saved = await saveFederatedBundle(path.join(dir, o.out), model);
    model.parts.nn.dispose();
    return { model, saved };
  }

  it('records every round and the model; verify passes, and fails after one round record is altered', async () => {
    const federation = 'chain-test-federation';
    const { model, saved } = await trainSmallFederation(federation, { parties: 3, claimsSeed: 44, seed: 2, trees: 6, out: 'bundle' });

    const tx = new AnchorTxManager({ provider, signerKey: anvil.signerKey, repo: new AnchorTxRepository(pool), log: testLog }, { maxFeeCapWei: 500n * GWEI, pollMs: 100 });
    const address = await deployFederationRegistry(tx);
    const recorder = new FederationChainRecorder(tx, address);
    for (const r of model.lineage.rounds) await recorder.recordRound(federation, r);
    await recorder.registerModel(model.lineage, saved.modelHash);

    const ok = await verifyFederatedModel({ modelHash: saved.modelHash, bundleDir: saved.dir, provider, registry: address, coordinator: tx.address });
    expect(ok.checks.filter((c) => !c.ok)).toEqual([]);
    expect(ok.ok).toBe(true);
    expect(ok.checks.find((c) => c.check === 'rounds')!.detail).toBe(`${model.lineage.rounds.length} round records match the chain`);

    // Another coordinator's namespace holds nothing: the coordinator address is a trust anchor.
    const stranger = await verifyFederatedModel({ modelHash: saved.modelHash, bundleDir: saved.dir, provider, registry: address, coordinator: '0x000000000000000000000000000000000000dEaD' });
    expect(stranger.ok).toBe(false);

    // Alter one round record (a masked-update commitment of round 3) in a copy of the bundle.
    const altered = path.join(dir, 'altered');
    await cp(saved.dir, altered, { recursive: true });
    const manifestPath = path.join(altered, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    const round = manifest.training.federation.rounds[3];
    round.commitments['insurer-1'] = 'f'.repeat(64);
    await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    const bad = await verifyFederatedModel({ modelHash: saved.modelHash, bundleDir: altered, provider, registry: address, coordinator: tx.address });
    expect(bad.ok).toBe(false);
    expect(bad.checks.find((c) => c.check === 'rounds')).toEqual({ check: 'rounds', ok: false, detail: 'round record(s) 3 differ from the chain' });
    expect(bad.checks.find((c) => c.check === 'model hash')!.ok).toBe(false);
    expect(bad.checks.find((c) => c.check === 'lineage digest')!.ok).toBe(false);
  }, 180_000);

  it("leads from the decisions' contract to the federation: DecisionAnchorV2's registration of the model cites its rounds", async () => {
    const federation = 'chain-test-crossref';
    const { model, saved } = await trainSmallFederation(federation, { parties: 2, claimsSeed: 45, seed: 3, trees: 4, out: 'crossref' });
    const manifest = JSON.parse(await readFile(path.join(saved.dir, 'manifest.json'), 'utf8')) as { training: Record<string, unknown> };

    const manager = (key: string) => new AnchorTxManager({ provider, signerKey: key, repo: new AnchorTxRepository(pool), log: testLog }, { maxFeeCapWei: 500n * GWEI, pollMs: 100 });
    const coordinator = manager(anvil.signerKey);
    const registryAddress = await deployFederationRegistry(coordinator);
    const recorder = new FederationChainRecorder(coordinator, registryAddress);
    for (const r of model.lineage.rounds) await recorder.recordRound(federation, r);
    await recorder.registerModel(model.lineage, saved.modelHash);

    // DecisionAnchorV2 with three distinct keys; the registrar registers the model as the pipeline does at start.
    const registrarKey = Wallet.createRandom();
    await provider.send('anvil_setBalance', [registrarKey.address, toBeHex(10n ** 20n)]);
    const registrar = manager(registrarKey.privateKey);
    const deploy = async () => (await deployDecisionAnchorV2(coordinator, { anchorer: Wallet.createRandom().address, registrar: registrar.address })).address;
    const anchorAddress = await deploy();
    const v2 = new DecisionAnchorV2Client({ provider, address: anchorAddress });
    await registerModel(v2, registrar, saved.modelHash, federationCitationOf(manifest.training), testLog);
    expect((await v2.modelRecord(saved.modelHash))!.metadataURI).toContain(`&rounds=${model.lineage.rounds.length}`);

    const base = { modelHash: saved.modelHash, bundleDir: saved.dir, provider, registry: registryAddress, coordinator: coordinator.address };
    const ok = await verifyFederatedModel({ ...base, anchorContract: anchorAddress });
    expect(ok.checks.filter((c) => !c.ok)).toEqual([]);
    expect(ok.checks.find((c) => c.check === 'model on DecisionAnchorV2')!.detail).toMatch(/^registered citing this federation/);

    // A contract where the same model hash was registered without citing the federation, and one where it is not registered.
    const plainAddress = await deploy();
    await registerModel(new DecisionAnchorV2Client({ provider, address: plainAddress }), registrar, saved.modelHash, undefined, testLog);
    const plain = await verifyFederatedModel({ ...base, anchorContract: plainAddress });
    expect(plain.ok).toBe(false);
    expect(plain.checks.find((c) => c.check === 'model on DecisionAnchorV2')!.detail).toMatch(/^registered as claimtrail-model:0x[0-9a-f]{64}, expected claimtrail-model:.*\?federation=/);
    const emptyAddress = await deploy();
    const absent = await verifyFederatedModel({ ...base, anchorContract: emptyAddress });
    expect(absent.ok).toBe(false);
    expect(absent.checks.find((c) => c.check === 'model on DecisionAnchorV2')).toEqual({ check: 'model on DecisionAnchorV2', ok: false, detail: `${saved.modelHash} is not registered on ${emptyAddress}` });
  }, 180_000);
});
