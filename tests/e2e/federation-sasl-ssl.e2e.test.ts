import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../core/config.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { claimFeatureRows } from '../../federation/federated-bundle.ts';
import { trainFederated } from '../../federation/federated-trainer.ts';
import { LocalParty } from '../../federation/local-party.ts';
import { generateIdentity, ParticipantRegistry } from '../../federation/secure-aggregation/identity.ts';
import { FederationChannel } from '../../federation/transport/channel.ts';
import { KafkaAggregator } from '../../federation/transport/kafka-aggregator.ts';
import { runKafkaParticipant } from '../../federation/transport/kafka-participant.ts';
import { createKafka } from '../../infra/kafka/kafka.ts';
import { FEATURE_NAMES } from '../../scoring/features.ts';
import { initTf } from '../../scoring/tf.ts';
import { isolatedConfig, testLog } from '../support/env.ts';
import { startSecureKafka, type SecureKafka } from '../support/secure-kafka.ts';

/**
 * The federation's transport on a consortium-style cluster: a private Kafka 4.x with SASL_SSL
 * (SCRAM-SHA-512, TLS with a private CA and a client certificate), reached with the
 * installation's ordinary KAFKA_SSL / KAFKA_SASL_* settings. A coordinator and three participants
 * complete a short federated training over it.
 */
describe('federated training over SASL_SSL', () => {
  let kafka: SecureKafka;
  let config: Readonly<Config>;
  let dir: string;
  const channels: FederationChannel[] = [];

  beforeAll(async () => {
    await initTf();
    dir = await mkdtemp(path.join(tmpdir(), 'claimtrail-fed-sasl-'));
    kafka = await startSecureKafka(dir, testLog);
    config = isolatedConfig({ ...kafka.env });
  }, 120_000);

  afterAll(async () => {
    for (const c of channels) await c.close();
    await kafka?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs every secure-aggregation round of a training over the secured broker', async () => {
    expect(config.kafka.ssl).toBeTruthy();
    const federation = 'sasl-federation';
    const coordinatorId = generateIdentity('coordinator');
    const ids = [0, 1, 2].map((i) => generateIdentity(`insurer-${i}`));
    const registry = new ParticipantRegistry(ids.map((p) => ({ id: p.id, publicKey: p.publicKey })));
    const coordinatorRegistry = new ParticipantRegistry([{ id: 'coordinator', publicKey: coordinatorId.publicKey }]);
    const data = generateClaims({ count: 900, seed: 8 });
    const label = new Map(data.labels.map((l) => [l.claimId, l.fraud ? 1 : 0]));
    const rows = claimFeatureRows(data.claims);
    const labels = data.claims.map((c) => label.get(c.claimId)!);
    const client = createKafka(config, testLog);
    const coordinatorChannel = await FederationChannel.open(client, federation, 'coordinator', 'fed-sasl-coordinator', testLog);
    channels.push(coordinatorChannel);
    // Not awaited here: each participant runs until the coordinator's end.
    const runs = ids
      .map(async (identity, k) => {
        const channel = await FederationChannel.open(createKafka(config, testLog), federation, 'participant', `fed-sasl-${identity.id}`, testLog);
        channels.push(channel);
        const party = new LocalParty({ id: identity.id, rows: rows.slice(k * 300, (k + 1) * 300), labels: labels.slice(k * 300, (k + 1) * 300), hidden: [8], seed: k + 1 });
        return runKafkaParticipant({ channel, federation, identity, registry, coordinator: coordinatorRegistry, party, log: testLog });
      })
      .map((run) => run.catch((error: unknown) => `failed: ${String(error)}`));
    const aggregator = new KafkaAggregator({ channel: coordinatorChannel, federation, identity: coordinatorId, registry, log: testLog, stepTimeoutMs: 20_000 });
    expect([...(await aggregator.start(ids.map((p) => p.id), 60_000))].sort()).toEqual(['insurer-0', 'insurer-1', 'insurer-2']);
    const model = await trainFederated({ aggregator, federation, participantKeys: ids, width: FEATURE_NAMES.length, seed: 3, hidden: [8], maxRounds: 1, localEpochs: 1, trees: 6 });
    model.parts.nn.dispose();
    await aggregator.finish('0x' + '0'.repeat(64));
    expect(await Promise.all(runs)).toEqual(['0x' + '0'.repeat(64), '0x' + '0'.repeat(64), '0x' + '0'.repeat(64)]);
    for (const r of model.lineage.rounds) expect([...r.survivors].sort()).toEqual(['insurer-0', 'insurer-1', 'insurer-2']);
    expect(coordinatorChannel.bytesIn + coordinatorChannel.bytesOut).toBeGreaterThan(0);
  }, 300_000);
});
