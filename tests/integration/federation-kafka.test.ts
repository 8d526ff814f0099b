import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../core/config.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { createKafka } from '../../infra/kafka/kafka.ts';
import { claimFeatureRows, saveFederatedBundle } from '../../federation/federated-bundle.ts';
import { trainFederated } from '../../federation/federated-trainer.ts';
import { LocalParty } from '../../federation/local-party.ts';
import { generateIdentity, ParticipantRegistry, signMessage } from '../../federation/secure-aggregation/identity.ts';
import { FederationChannel, federationTopics } from '../../federation/transport/channel.ts';
import { FED_KIND, KafkaAggregator } from '../../federation/transport/kafka-aggregator.ts';
import { runKafkaParticipant } from '../../federation/transport/kafka-participant.ts';
import { offlineObservations } from '../../scoring/aggregates.ts';
import { FEATURE_NAMES } from '../../scoring/features.ts';
import { Scorer } from '../../scoring/scorer.ts';
import { initTf } from '../../scoring/tf.ts';
import { isolatedConfig, testLog, uniqueName } from '../support/env.ts';

/**
 * Federated training over the real Kafka broker: a coordinator and three participants, each
 * with its own channel (consumer group) on the federation's two topics; an unregistered
 * outsider's messages are refused; one participant stops right after sending its masked update
 * in a FedAvg round, and training completes without it.
 */
describe('federated training over Kafka', () => {
  let config: Readonly<Config>;
  const federation = uniqueName('fedtest').replace(/[^A-Za-z0-9_-]/g, '-');
  const channels: FederationChannel[] = [];
  let dir: string;

  beforeAll(async () => {
    await initTf();
    config = isolatedConfig();
    dir = await mkdtemp(path.join(tmpdir(), 'claimtrail-fedkafka-'));
  });

  afterAll(async () => {
    for (const c of channels) await c.close();
    const admin = createKafka(config, testLog).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: Object.values(federationTopics(federation)) }).catch(() => undefined);
    await admin.disconnect();
    await rm(dir, { recursive: true, force: true });
  });

  it('trains a servable model; refuses an unregistered participant; survives a participant lost after masking', async () => {
    const kafka = createKafka(config, testLog);
    const coordinatorId = generateIdentity('coordinator');
    const ids = [0, 1, 2].map((i) => generateIdentity(`insurer-${i}`));
    const registry = new ParticipantRegistry(ids.map((p) => ({ id: p.id, publicKey: p.publicKey })));
    const coordinatorRegistry = new ParticipantRegistry([{ id: coordinatorId.id, publicKey: coordinatorId.publicKey }]);
    const data = generateClaims({ count: 1800, seed: 31 });
    const label = new Map(data.labels.map((l) => [l.claimId, l.fraud ? 1 : 0]));
    const rows = claimFeatureRows(data.claims);
    const labels = data.claims.map((c) => label.get(c.claimId)!);

    const coordinatorChannel = await FederationChannel.open(kafka, federation, 'coordinator', `${federation}-coordinator`, testLog);
    channels.push(coordinatorChannel);
    // An outsider (not registered) joins the topics and speaks first.
    const outsider = generateIdentity('insurer-9');
    const outsiderChannel = await FederationChannel.open(kafka, federation, 'participant', `${federation}-outsider`, testLog);
    channels.push(outsiderChannel);
    await outsiderChannel.send(signMessage(outsider, federation, 'hello', FED_KIND.hello, { participant: 'insurer-9' }));

    // Settled at once: the crashing participant's rejection is an expected outcome, not an unhandled one.
    const participantRuns = ids.map(async (identity, k) => {
      const channel = await FederationChannel.open(kafka, federation, 'participant', `${federation}-${identity.id}`, testLog);
      channels.push(channel);
      const party = new LocalParty({ id: identity.id, rows: rows.slice(k * 600, (k + 1) * 600), labels: labels.slice(k * 600, (k + 1) * 600), hidden: [8], seed: 3 + k });
      return runKafkaParticipant({
        channel, federation, identity, registry, coordinator: coordinatorRegistry, party, log: testLog,
        // insurer-2 "crashes" right after its masked update of round 2 (the first FedAvg round).
        onMasked: (index) => {
          if (identity.id === 'insurer-2' && index === 2) throw new Error('simulated crash after masking');
        },
      });
    }).map((run) => run.then((value) => ({ status: 'fulfilled' as const, value }), (reason: unknown) => ({ status: 'rejected' as const, reason })));

    const aggregator = new KafkaAggregator({ channel: coordinatorChannel, federation, identity: coordinatorId, registry, log: testLog, stepTimeoutMs: 8_000 });
    const joined = await aggregator.start(ids.map((p) => p.id), 60_000);
    expect([...joined].sort()).toEqual(['insurer-0', 'insurer-1', 'insurer-2']);
    expect(aggregator.refused).toContainEqual({ code: 'FEDERATION_PARTICIPANT_UNREGISTERED', from: 'insurer-9', kind: FED_KIND.hello });

    const model = await trainFederated({ aggregator, federation, participantKeys: ids, width: FEATURE_NAMES.length, seed: 9, hidden: [8], maxRounds: 2, localEpochs: 1, trees: 12 });
    const saved = await saveFederatedBundle(path.join(dir, 'bundle'), model);
    await aggregator.finish(saved.modelHash);
    model.parts.nn.dispose();

    const outcomes = await Promise.all(participantRuns);
    expect(outcomes[0]).toEqual({ status: 'fulfilled', value: saved.modelHash });
    expect(outcomes[1]).toEqual({ status: 'fulfilled', value: saved.modelHash });
    expect(outcomes[2]!.status).toBe('rejected');

    const fedavg = model.lineage.rounds.find((r) => r.index === 2)!;
    expect(fedavg.task).toBe('fedavg');
    // insurer-2's masked update reached the coordinator before the crash, so it counts; it then
    // never reveals, and every later round goes on with the two others.
    expect(fedavg.survivors).toContain('insurer-0');
    const later = model.lineage.rounds.filter((r) => r.index > 3);
    expect(later.length).toBeGreaterThan(0);
    for (const r of later) expect([...r.survivors].sort()).toEqual(['insurer-0', 'insurer-1']);
    for (const r of model.lineage.rounds) expect(r.bytes).toBeGreaterThan(0);

    const scorer = await Scorer.load(saved.dir);
    expect(scorer.modelHash).toBe(saved.modelHash);
    const fresh = generateClaims({ count: 50, seed: 5 });
    expect(scorer.scoreBatch(fresh.claims, offlineObservations(fresh.claims, scorer.aggregates)).length).toBe(50);
  }, 300_000);
});
