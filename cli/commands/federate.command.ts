import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { AnchorTxManager } from '../../anchoring/chain/anchor-tx.manager.ts';
import { AnchorTxRepository } from '../../anchoring/chain/anchor-tx.repository.ts';
import { connectProvider } from '../../anchoring/chain/provider.ts';
import { ClaimtrailError, InvalidArgumentError } from '../../core/errors.ts';
import type { Claim } from '../../domain/claim.schema.ts';
import { generateClaims, type ClaimLabel } from '../../fixtures/generator.ts';
import { readLabelsNdjson } from '../../fixtures/io.ts';
import { deployFederationRegistry, FederationChainRecorder, verifyFederatedModel } from '../../federation/chain-record.ts';
import { claimFeatureRows, saveFederatedBundle } from '../../federation/federated-bundle.ts';
import { trainFederated } from '../../federation/federated-trainer.ts';
import { claimsDataset, providerDataset, renderReport, runEvaluation } from '../../federation/evaluation.ts';
import { LocalParty } from '../../federation/local-party.ts';
import { readRegistryFile } from '../../federation/registry-file.ts';
import type { ForestShares, UpdateWeights } from '../../federation/tasks.ts';
import type { FedAvgStop } from '../../federation/lineage.ts';
import { generateIdentity, identityFromPem, identityToPem } from '../../federation/secure-aggregation/identity.ts';
import { FederationChannel } from '../../federation/transport/channel.ts';
import { KafkaAggregator } from '../../federation/transport/kafka-aggregator.ts';
import { runKafkaParticipant } from '../../federation/transport/kafka-participant.ts';
import { migrate } from '../../infra/db/migrate.ts';
import { createPool } from '../../infra/db/pool.ts';
import { createKafka } from '../../infra/kafka/kafka.ts';
import { readValidClaims } from '../../ingest/claim-sources.ts';
import { FEATURE_NAMES } from '../../scoring/features.ts';
import { initTf } from '../../scoring/tf.ts';
import { commandContext, positiveInt } from '../context.ts';

const GWEI = 1_000_000_000n;

async function readIdentity(id: string, file: string) {
  try {
    return identityFromPem(id, await readFile(file, 'utf8'));
  } catch (cause) {
    throw new InvalidArgumentError(`--key ${file}: not an Ed25519 PKCS#8 PEM key`, { cause });
  }
}

async function readChainKey(file: string): Promise<string> {
  const key = (await readFile(file, 'utf8').catch((cause: unknown) => {
    throw new InvalidArgumentError(`--chain-key-file ${file} cannot be read`, { cause });
  })).trim();
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new InvalidArgumentError(`--chain-key-file ${file} does not hold 0x + 64 hex digits`);
  return key;
}

const address = (flag: string) => (v: string) => {
  if (!/^0x[0-9a-fA-F]{40}$/.test(v)) throw new InvalidArgumentError(`${flag}: expected a 0x-prefixed 20-byte address`);
  return v;
};

/** `claimtrail federate keygen | coordinator | participant | verify` (docs/federation.md). */
export function registerFederateCommand(program: Command): void {
  const federate = program.command('federate').description('Federated training across insurers with secure aggregation, recorded on chain round by round (docs/federation.md).');

  federate
    .command('keygen')
    .description('Make an Ed25519 identity key; prints the registry entry ({"id", "publicKey"}) to put in the consortium registry file.')
    .requiredOption('--id <id>', 'participant or coordinator id ([A-Za-z0-9._-], at most 64)')
    .requiredOption('--out <file>', 'where to write the private key (PKCS#8 PEM, mode 0600)')
    .action(async (opts: { id: string; out: string }) => {
      const identity = generateIdentity(opts.id);
      await mkdir(path.dirname(path.resolve(opts.out)), { recursive: true });
      await writeFile(opts.out, identityToPem(identity), { mode: 0o600, flag: 'wx' }).catch((cause: unknown) => {
        throw new InvalidArgumentError(`--out ${opts.out} cannot be written (it must not exist yet)`, { cause });
      });
      process.stdout.write(`${JSON.stringify({ id: identity.id, publicKey: identity.publicKey })}\n`);
    });

  federate
    .command('participant')
    .description("Take part in a federation with this insurer's labelled claims: rows never leave this process, only masked updates and (union forest) trees.")
    .requiredOption('--federation <name>', 'federation name (one training run)')
    .requiredOption('--id <id>', 'this participant\'s registered id')
    .requiredOption('--key <file>', 'this participant\'s identity key (PEM)')
    .requiredOption('--registry <file>', 'the consortium registry file (trust anchor of every signature)')
    .option('--data <file>', 'claims (NDJSON) with --labels')
    .option('--labels <file>', 'labels (NDJSON) of --data')
    .option('--generate <count>', 'use generated demo claims instead of --data', positiveInt)
    .option('--seed <n>', 'seed of the generated claims and the local split', positiveInt, 1)
    .option('--hidden <widths>', 'network hidden layers, comma-separated (the federation\'s)', '32,16')
    .option('--min-participants <n>', 'take part only in sums of at least this many participants', positiveInt, 2)
    .action(async (opts: { federation: string; id: string; key: string; registry: string; data?: string; labels?: string; generate?: number; seed: number; hidden: string; minParticipants: number }) => {
      const { config, log } = commandContext();
      const reg = await readRegistryFile(opts.registry);
      if (!reg.participants.has(opts.id)) throw new InvalidArgumentError(`--id ${opts.id} is not in the registry ${opts.registry}`);
      const identity = await readIdentity(opts.id, opts.key);
      if (reg.participants.publicKeyHex(opts.id) !== identity.publicKey) throw new InvalidArgumentError(`--key ${opts.key} is not the key registered for ${opts.id}`);
      let claims: Claim[];
      let labels: ClaimLabel[];
      if (opts.data) {
        if (!opts.labels) throw new InvalidArgumentError('--data needs --labels');
        const read = await readValidClaims(opts.data);
        claims = read.claims;
        labels = await readLabelsNdjson(opts.labels);
      } else if (opts.generate) ({ claims, labels } = generateClaims({ count: opts.generate, seed: opts.seed }));
      else throw new InvalidArgumentError('give --data and --labels, or --generate');
      const byId = new Map(labels.map((l) => [l.claimId, l.fraud ? 1 : 0]));
      const known = claims.filter((c) => byId.has(c.claimId));
      if (known.length === 0) throw new InvalidArgumentError('no claim has a label');
      await initTf(log);
      const party = new LocalParty({ id: opts.id, rows: claimFeatureRows(known), labels: known.map((c) => byId.get(c.claimId)!), hidden: parseHidden(opts.hidden), seed: opts.seed });
      const channel = await FederationChannel.open(createKafka(config, log, `-fed-${opts.id}`), opts.federation, 'participant', `claimtrail-fed-${opts.federation}-${opts.id}`, log);
      try {
        process.stdout.write(`participant ${opts.id}: ${party.trainingExamples} training rows, joined federation ${opts.federation}\n`);
        const modelHash = await runKafkaParticipant({
          channel, federation: opts.federation, identity, registry: reg.participants, coordinator: reg.coordinator, party, log, minParticipants: opts.minParticipants,
          onMasked: (index) => process.stdout.write(`participant ${opts.id}: masked update sent (round ${index})\n`),
        });
        process.stdout.write(`participant ${opts.id}: done, model ${modelHash}\n`);
      } finally {
        await channel.close();
      }
    });

  withTrainingOptions(federate.command('coordinator'), 'participant')
    .description('Run a federation: secure-aggregation rounds over Kafka, each recorded on chain, then the model bundle registered with its lineage.')
    .requiredOption('--federation <name>', 'federation name (one training run; also its on-chain id)')
    .requiredOption('--key <file>', 'the coordinator\'s identity key (PEM)')
    .requiredOption('--registry <file>', 'the consortium registry file')
    .requiredOption('--out <dir>', 'where to write the model bundle')
    .requiredOption('--chain-key-file <file>', 'the coordinator\'s chain key (0x + 64 hex), its own account, not the anchoring key')
    .option('--registry-contract <address>', 'FederationRegistry address (default: deploy one)', address('--registry-contract'))
    .option('--step-timeout <seconds>', 'how long a protocol step waits for missing participants', positiveInt, 30)
    .option('--join-timeout <seconds>', 'how long to wait for the participants to join', positiveInt, 120)
    .option('--seed <n>', 'seed of the network initialisation', positiveInt, 1)
    .action(async (opts: TrainingCliOptions & { federation: string; key: string; registry: string; out: string; chainKeyFile: string; registryContract?: string; stepTimeout: number; joinTimeout: number; seed: number }) => {
      const { config, log } = commandContext();
      const reg = await readRegistryFile(opts.registry);
      const identity = await readIdentity(reg.file.coordinator.id, opts.key);
      if (identity.publicKey !== reg.file.coordinator.publicKey) throw new InvalidArgumentError(`--key ${opts.key} is not the coordinator key of the registry`);
      const chainKey = await readChainKey(opts.chainKeyFile);
      await migrate(config.database.url, config.database.schema, log);
      const pool = createPool(config.database.url, config.database.schema, 2);
      const provider = await connectProvider(config.chain.rpcUrl);
      const channel = await FederationChannel.open(createKafka(config, log, '-fed-coordinator'), opts.federation, 'coordinator', `claimtrail-fed-${opts.federation}-coordinator`, log);
      try {
        await initTf(log);
        const tx = new AnchorTxManager({ provider, signerKey: chainKey, repo: new AnchorTxRepository(pool), log: log.child({ component: 'federation-tx' }) }, { maxFeeCapWei: 200n * GWEI, confirmations: config.chain.confirmations, pollMs: 250 });
        const contract = opts.registryContract ?? (await deployFederationRegistry(tx));
        const recorder = new FederationChainRecorder(tx, contract);
        const aggregator = new KafkaAggregator({ channel, federation: opts.federation, identity, registry: reg.participants, log, stepTimeoutMs: opts.stepTimeout * 1000 });
        const joined = await aggregator.start(reg.file.participants.map((p) => p.id), opts.joinTimeout * 1000);
        process.stdout.write(`coordinator: ${joined.length} participants joined (${joined.join(', ')})\n`);
        const pending: Promise<string>[] = [];
        let chainSerial: Promise<unknown> = Promise.resolve();
        const model = await trainFederated({
          aggregator, federation: opts.federation, participantKeys: reg.file.participants, width: FEATURE_NAMES.length, seed: opts.seed, ...trainingSettings(opts),
          onRound: (r) => {
            process.stdout.write(`round ${r.index} ${r.task}: ${r.survivors.length} survivors${r.dropped.length ? `, dropped after masking: ${r.dropped.join(', ')}` : ''}, ${r.bytes} bytes, ${r.ms} ms\n`);
            // Recorded in order, one after another, while training goes on.
            const next = chainSerial.then(() => recorder.recordRound(opts.federation, r));
            chainSerial = next.catch(() => undefined);
            pending.push(next);
          },
        });
        await Promise.all(pending);
        const saved = await saveFederatedBundle(opts.out, model, { seed: opts.seed });
        model.parts.nn.dispose();
        await recorder.registerModel(model.lineage, saved.modelHash);
        await aggregator.finish(saved.modelHash);
        const totalBytes = model.lineage.rounds.reduce((s, r) => s + r.bytes, 0);
        process.stdout.write(
          `federated model ${saved.modelHash}\n  bundle ${saved.dir}\n  rounds ${model.lineage.rounds.length} (FedAvg ${model.lineage.fedavg.rounds}, best ${model.lineage.fedavg.bestRound}), ${totalBytes} bytes over Kafka + ${model.treesBytes} bytes of trees\n` +
            `  on chain: FederationRegistry ${contract}, coordinator ${tx.address}\n` +
            `  npx claimtrail federate verify ${saved.modelHash} --bundle ${saved.dir} --registry-contract ${contract} --coordinator ${tx.address}\n`,
        );
      } finally {
        await channel.close();
        provider.destroy();
        await pool.end();
      }
    });

  withTrainingOptions(federate.command('evaluate'), 'insurer')
    .description('Local-only vs federated vs centralized on the provider table and on generated labelled claims, 3 and 5 simulated insurers, random and non-IID splits, every row and scarce rows, several seeds: writes the markdown report and its plots (the defaults are the report in docs/evaluation/federated.md).')
    .option('--csv <file>', 'the provider table', '../shared/datasets/healthcare-provider-fraud/provider_features_70col.csv')
    .option('--out <file>', 'the report', 'docs/evaluation/federated.md')
    .option('--claims <count>', 'generated labelled claims for the claims-model section (0: skip it)', (v: string) => (v === '0' ? 0 : positiveInt(v)), 12000)
    .option('--seeds <list>', 'seeds, comma-separated', '1,2,3,4,5')
    .option('--insurers <list>', 'insurer counts, comma-separated', '3,5')
    .option('--central-epochs <n>', 'epochs of the local-only and centralized networks', positiveInt, 12)
    .option('--test-fraction <share>', 'share of each dataset held out as the common test part', testFraction, 0.5)
    .option('--insurer-rows <list>', 'training rows per insurer, comma-separated: all, or a cap (scarce local data); one report section per value and dataset', 'all,250')
    .action(async (opts: TrainingCliOptions & { csv: string; out: string; claims: number; seeds: string; insurers: string; centralEpochs: number; testFraction: number; insurerRows: string }) => {
      const started = performance.now();
      const caps = opts.insurerRows.split(',').map((v) => (v.trim() === 'all' ? undefined : parseList(v, '--insurer-rows')[0]!));
      const base = {
        seeds: parseList(opts.seeds, '--seeds'), insurerCounts: parseList(opts.insurers, '--insurers'), ...trainingSettings(opts), centralEpochs: opts.centralEpochs, testFraction: opts.testFraction, onProgress: (line: string) => process.stdout.write(`${line}\n`),
      };
      const loads: number[] = [];
      const sampler = setInterval(() => loads.push(loadavg()[0]!), 5000);
      try {
        const datasets = [{ title: 'Provider table (a table model)', svg: 'federated-roc-auc', data: await providerDataset(opts.csv) }];
        if (opts.claims > 0) datasets.push({ title: 'Generated labelled claims (the claims model the pipeline serves)', svg: 'federated-claims-roc-auc', data: claimsDataset(opts.claims, 2026) });
        const sections = [];
        for (const cap of caps) {
          for (const d of datasets) {
            const title = cap === undefined ? d.title : `${d.title}, scarce: ${cap} rows per insurer`;
            sections.push({ title, svgFile: `${d.svg}${cap === undefined ? '' : `-${cap}`}.svg`, outcome: await runEvaluation({ ...base, ...(cap === undefined ? {} : { insurerRows: cap }) }, d.data) });
          }
        }
        const load = loads.length ? `${(loads.reduce((a, b) => a + b, 0) / loads.length).toFixed(2)} mean, ${Math.max(...loads).toFixed(2)} max` : loadavg()[0]!.toFixed(2);
        const command = `npx claimtrail federate evaluate --claims ${opts.claims} --seeds ${opts.seeds} --insurers ${opts.insurers} --central-epochs ${opts.centralEpochs} --test-fraction ${opts.testFraction} --insurer-rows ${opts.insurerRows} ${trainingFlags(opts)}`;
        const { markdown, svgs } = renderReport(sections, base, command, (performance.now() - started) / 1000, load);
        await mkdir(path.dirname(path.resolve(opts.out)), { recursive: true });
        await writeFile(opts.out, markdown);
        for (const [file, svg] of Object.entries(svgs)) await writeFile(path.join(path.dirname(opts.out), file), svg);
        process.stdout.write(`report written to ${opts.out}\n`);
      } finally {
        clearInterval(sampler);
      }
    });

  federate
    .command('verify <modelHash>')
    .description("Check a federated model's lineage against the chain: manifest hash, the registered model, each round's digest. Exit 0 PASS, 1 FAIL.")
    .requiredOption('--bundle <dir>', 'the federated model bundle')
    .requiredOption('--registry-contract <address>', 'FederationRegistry address (from your trust anchor, not the bundle)', address('--registry-contract'))
    .requiredOption('--coordinator <address>', "the coordinator's chain account (from your trust anchor)", address('--coordinator'))
    .option('--anchor-contract <address>', "DecisionAnchorV2 the decisions are anchored on (from your trust anchor): its registration of the model must cite this federation", address('--anchor-contract'))
    .option('--rpc <url>', 'JSON-RPC URL (default CHAIN_RPC_URL)')
    .action(async (modelHash: string, opts: { bundle: string; registryContract: string; coordinator: string; anchorContract?: string; rpc?: string }) => {
      if (!/^0x[0-9a-fA-F]{64}$/.test(modelHash)) throw new InvalidArgumentError('<modelHash>: expected 0x + 64 hex digits');
      const { config } = commandContext();
      const provider = await connectProvider(opts.rpc ?? config.chain.rpcUrl);
      try {
        const result = await verifyFederatedModel({ modelHash, bundleDir: opts.bundle, provider, registry: opts.registryContract, coordinator: opts.coordinator, ...(opts.anchorContract ? { anchorContract: opts.anchorContract } : {}) });
        for (const c of result.checks) process.stdout.write(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.check}: ${c.detail}\n`);
        if (!result.ok) throw new ClaimtrailError('CHECK_FAILED', `federate verify: FAIL ${result.checks.filter((c) => !c.ok).map((c) => c.check).join(', ')}`);
        process.stdout.write(`federate verify: PASS ${modelHash}\n`);
      } finally {
        provider.destroy();
      }
    });
}

/** The federated training settings the coordinator and the evaluation share, as parsed by commander. */
interface TrainingCliOptions {
  rounds: number;
  localEpochs: number;
  trees: number;
  hidden: string;
  forestShares: ForestShares;
  updateWeights: UpdateWeights;
  proximalMu: number;
  stopOn: FedAvgStop;
  patience: number;
  stepsPerEpoch: number | 'mean-party' | 'fixed';
}

/** Declares the federated training options on `cmd` (`who`: what a party is called in the help). */
function withTrainingOptions(cmd: Command, who: 'participant' | 'insurer'): Command {
  return cmd
    .option('--rounds <n>', 'most FedAvg rounds (early stopping ends most runs sooner)', positiveInt, 30)
    .option('--local-epochs <n>', 'local epochs per FedAvg round', positiveInt, 2)
    .option('--trees <n>', 'trees of the union forest (and of each local-only and centralized forest)', positiveInt, 60)
    .option('--hidden <widths>', 'network hidden layers, comma-separated', '32,16')
    .option('--forest-shares <positives|rows>', `each ${who}'s share of the union forest's trees follows its training fraud count (the coordinator then also learns the total fraud count) or its training rows`, forestShares, 'positives')
    .option('--update-weights <balanced|examples>', `what each ${who}'s FedAvg update is weighted by: its share of the class-balanced loss (the mean of its shares of the non-frauds and of the frauds; the coordinator then also learns the total fraud count) or its share of the training rows`, updateWeights, 'balanced')
    .option('--proximal-mu <mu>', `FedProx: mu of the proximal term in each ${who}'s local loss (0: plain FedAvg)`, proximalMu, 0)
    .option('--stop-on <loss|roc-auc>', "the validation metric FedAvg stops on and picks its round by: summed log-loss, or ROC-AUC from summed per-class histograms of the network's validation scores", stopOn, 'loss')
    .option('--patience <n>', 'FedAvg rounds without a better validation metric before stopping', positiveInt, 2)
    .option('--steps-per-epoch <n|mean-party|fixed>', `optimizer steps per local epoch, the same for every ${who} (batch size = its rows / n, rounded); mean-party: the steps of one ${who} of the mean size in batches of 128 (batch = 128 x its rows / the mean rows); fixed: batches of 128 rows`, stepsPerEpoch, 'mean-party');
}

/** The trainer's (and the evaluation's) settings from the parsed options. */
function trainingSettings(o: TrainingCliOptions) {
  return { maxRounds: o.rounds, localEpochs: o.localEpochs, trees: o.trees, hidden: parseHidden(o.hidden), forestShares: o.forestShares, updateWeights: o.updateWeights, proximalMu: o.proximalMu, stopOn: o.stopOn, patience: o.patience, stepsPerEpoch: o.stepsPerEpoch };
}

/** The options as command-line flags (the reproducing command a report prints). */
function trainingFlags(o: TrainingCliOptions): string {
  return `--trees ${o.trees} --rounds ${o.rounds} --local-epochs ${o.localEpochs} --hidden ${o.hidden} --forest-shares ${o.forestShares} --update-weights ${o.updateWeights} --proximal-mu ${o.proximalMu} --stop-on ${o.stopOn} --patience ${o.patience} --steps-per-epoch ${o.stepsPerEpoch}`;
}

function parseList(s: string, flag: string): number[] {
  const v = s.split(',').map((x) => Number(x.trim()));
  if (v.length === 0 || v.some((x) => !Number.isInteger(x) || x < 1)) throw new InvalidArgumentError(`${flag} ${s}: expected comma-separated positive whole numbers`);
  return v;
}

function forestShares(s: string): ForestShares {
  if (s !== 'rows' && s !== 'positives') throw new InvalidArgumentError(`--forest-shares ${s}: expected rows or positives`);
  return s;
}

function updateWeights(s: string): UpdateWeights {
  if (s !== 'balanced' && s !== 'examples') throw new InvalidArgumentError(`--update-weights ${s}: expected balanced or examples`);
  return s;
}

function proximalMu(s: string): number {
  const v = Number(s);
  if (!(v >= 0 && v <= 100)) throw new InvalidArgumentError(`--proximal-mu ${s}: expected a number between 0 and 100`);
  return v;
}

function stopOn(s: string): FedAvgStop {
  if (s !== 'loss' && s !== 'roc-auc') throw new InvalidArgumentError(`--stop-on ${s}: expected loss or roc-auc`);
  return s;
}

function stepsPerEpoch(s: string): number | 'mean-party' | 'fixed' {
  if (s === 'mean-party' || s === 'fixed') return s;
  const v = Number(s);
  if (!(Number.isInteger(v) && v >= 1 && v <= 10_000)) throw new InvalidArgumentError(`--steps-per-epoch ${s}: expected mean-party, fixed or a whole number between 1 and 10000`);
  return v;
}

function testFraction(s: string): number {
  const v = Number(s);
  if (!(v >= 0.05 && v <= 0.8)) throw new InvalidArgumentError(`--test-fraction ${s}: expected a share between 0.05 and 0.8`);
  return v;
}

function parseHidden(s: string): number[] {
  const widths = s.split(',').map((w) => Number(w.trim()));
  if (widths.length === 0 || widths.some((w) => !Number.isInteger(w) || w < 1 || w > 1024)) throw new InvalidArgumentError(`--hidden ${s}: expected comma-separated widths 1..1024`);
  return widths;
}
