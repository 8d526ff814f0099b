import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelMetadataURI, type FederationCitation } from '../../anchoring/chain/model-registration.ts';
import { generatedMessages } from '../../cli/commands/produce.command.ts';
import { devKeySources } from '../../cli/dev-sources.ts';
import type { Config } from '../../core/config.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { InProcessAggregator } from '../../federation/aggregator.ts';
import { claimFeatureRows, saveFederatedBundle } from '../../federation/federated-bundle.ts';
import { trainFederated } from '../../federation/federated-trainer.ts';
import { LocalParty } from '../../federation/local-party.ts';
import { generateIdentity, ParticipantRegistry } from '../../federation/secure-aggregation/identity.ts';
import { ClaimsProducer } from '../../ingest/claims.producer.ts';
import { startPipeline, type RunningPipeline } from '../../pipeline/runtime.ts';
import { FEATURE_NAMES } from '../../scoring/features.ts';
import { initTf } from '../../scoring/tf.ts';
import { isolatedConfig, migratedSchema, testLog } from '../support/env.ts';
import { stopAndDeleteTopics, waitUntilSettled } from '../support/pipeline.ts';

const CLAIMS = 40;

/** A federated bundle in the normal pipeline: claims in, decisions made by the federated model, batches anchored. */
describe('the federated model in the pipeline', () => {
  let config: Readonly<Config>;
  let pipeline: RunningPipeline;
  let dropSchema: () => Promise<void>;
  let dir: string;
  let modelHash: string;
  let citation: FederationCitation;

  beforeAll(async () => {
    await initTf();
    dir = await mkdtemp(path.join(tmpdir(), 'claimtrail-fedpipe-'));
    const coordinator = generateIdentity('coordinator');
    const ids = [0, 1, 2].map((i) => generateIdentity(`insurer-${i}`));
    const data = generateClaims({ count: 1500, seed: 12 });
    const label = new Map(data.labels.map((l) => [l.claimId, l.fraud ? 1 : 0]));
    const rows = claimFeatureRows(data.claims);
    const labels = data.claims.map((c) => label.get(c.claimId)!);
    const parties = ids.map((identity, k) => ({ identity, party: new LocalParty({ id: identity.id, rows: rows.slice(k * 500, (k + 1) * 500), labels: labels.slice(k * 500, (k + 1) * 500), hidden: [8], seed: k + 1 }) }));
    const registry = new ParticipantRegistry(ids.map((p) => ({ id: p.id, publicKey: p.publicKey })));
    const aggregator = new InProcessAggregator({ federation: 'pipeline-test', coordinator, registry, coordinatorRegistry: new ParticipantRegistry([{ id: 'coordinator', publicKey: coordinator.publicKey }]), parties });
    const model = await trainFederated({ aggregator, federation: 'pipeline-test', participantKeys: ids, width: FEATURE_NAMES.length, seed: 4, hidden: [8], maxRounds: 2, localEpochs: 1, trees: 10 });
    const saved = await saveFederatedBundle(path.join(dir, 'model'), model);
    model.parts.nn.dispose();
    modelHash = saved.modelHash;
    citation = { federation: 'pipeline-test', lineageDigest: saved.lineageDigest, rounds: model.lineage.rounds.length };
    config = isolatedConfig({ MODEL_DIR: saved.dir, BATCH_MAX_SIZE: '15', BATCH_MAX_AGE_MS: '800' });
    dropSchema = await migratedSchema(config);
    pipeline = await startPipeline(config, testLog, devKeySources(config));
  }, 300_000);

  afterAll(async () => {
    await stopAndDeleteTopics(pipeline, config);
    await dropSchema?.();
    await rm(dir, { recursive: true, force: true });
  });

  it('scores every claim with the federated model and anchors the batches', async () => {
    const producer = new ClaimsProducer(pipeline.kafka);
    await producer.connect();
    await producer.produce(generatedMessages(CLAIMS, 21, 0), { topic: config.kafka.topics.claims });
    await producer.disconnect();
    await waitUntilSettled(pipeline, CLAIMS, 180_000);
    const { rows } = await pipeline.pool.query<{ model_hash: string; n: string }>('SELECT model_hash, count(*) AS n FROM decisions GROUP BY model_hash');
    expect(rows).toEqual([{ model_hash: modelHash, n: String(CLAIMS) }]);
    // The model's registration on DecisionAnchorV2 cites its federation: a decision's model hash leads to the rounds.
    const registered = await pipeline.anchor!.v2.modelRecord(modelHash);
    expect(registered?.metadataURI).toBe(modelMetadataURI(modelHash, citation));
  }, 240_000);
});
