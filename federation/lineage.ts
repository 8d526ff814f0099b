/**
 * The federation lineage a federated model bundle carries in its manifest
 * (`training.federation`), and the digests anchored on chain for it.
 *
 * Each secure-aggregation round is anchored as `roundDigest` (sha256 of the canonical JSON of the
 * round's federation, index, round id, task, survivors, dropped participants, masked-update
 * commitments and aggregate hash); the model is registered with its model hash and
 * `lineageDigest` (sha256 over the ordered round digests). `claimtrail federate verify` recomputes
 * both from the manifest and compares with the chain.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../anchoring/core/canonical-json.ts';
import type { RoundRecord } from './aggregator.ts';
import type { ForestShares, UpdateWeights } from './tasks.ts';

export const LINEAGE_FORMAT = 'claimtrail-federation-lineage-v1';

export interface FederationLineage {
  readonly format: typeof LINEAGE_FORMAT;
  readonly federation: string;
  /** Registered identity keys of the participants (raw Ed25519, hex) at training time. */
  readonly participants: readonly { readonly id: string; readonly publicKey: string }[];
  readonly rounds: readonly RoundRecord[];
  /** `shares`: what each party's share of the trees followed (tasks.ts `ForestShares`). */
  readonly forest: { readonly mode: 'union' | 'noised-leaves'; readonly trees: number; readonly leafNoise: number; readonly shares: ForestShares };
  readonly dp: { readonly sigma: number; readonly epsilonPerRound: number | null; readonly epsilonTotal: number | null; readonly delta: number | null };
  /**
   * `proximalMu`: FedProx's mu (0: plain FedAvg). `stopOn` and `patience`: the validation metric
   * early stopping and the choice of round followed, and the rounds without improvement it
   * waited; `validationRocAuc` (with `stopOn` `roc-auc`): the network's validation ROC-AUC after
   * each round, from summed histograms. `stepsPerEpoch`: the optimizer steps per local epoch every
   * party's batch size was set for (its rows / this, rounded; null: batches of a fixed size).
   * `updateWeights`: what each party's update was weighted by in the sum (absent in lineages
   * written before the choice existed: `examples`).
   */
  readonly fedavg: {
    readonly rounds: number;
    readonly localEpochs: number;
    readonly bestRound: number;
    readonly validationLoss: readonly number[];
    readonly proximalMu: number;
    readonly stopOn: FedAvgStop;
    readonly patience: number;
    readonly stepsPerEpoch: number | null;
    readonly validationRocAuc?: readonly number[];
    readonly updateWeights?: UpdateWeights;
  };
}

/** What FedAvg's early stopping follows (federated-trainer.ts `stopOn`). */
export type FedAvgStop = 'loss' | 'roc-auc';

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

/** The anchored digest of one round (hex, no 0x). */
export function roundDigest(federation: string, r: RoundRecord): string {
  return sha256(
    canonicalJson({ format: 'claimtrail-federation-round-v1', federation, index: r.index, round: r.round, task: r.task, survivors: [...r.survivors], dropped: [...r.dropped], commitments: { ...r.commitments }, aggregateHash: r.aggregateHash }),
  );
}

/** The digest over every round of a lineage, in order (hex, no 0x). */
export function lineageDigest(lineage: Pick<FederationLineage, 'federation' | 'rounds'>): string {
  return sha256(canonicalJson({ format: 'claimtrail-federation-rounds-v1', federation: lineage.federation, rounds: lineage.rounds.map((r) => roundDigest(lineage.federation, r)) }));
}
