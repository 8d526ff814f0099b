import type { Claim } from '../domain/claim.schema.ts';
import type { Outcome, Reason } from '../domain/decision.ts';
import type { Logger } from '../core/logger.ts';
import { InvalidArgumentError } from '../core/errors.ts';
import { aggregateReasonCode, offlineObservations, type AggregateObservation, type AggregateWindows } from './aggregates.ts';
import { scoreExplained, type EnsembleModels } from './ensemble.ts';
import { extractFeaturesInto, FEATURES, type ClaimFacts } from './features.ts';
import { MlpEvaluator } from './mlp-evaluator.ts';
import { loadModelBundle, type Manifest } from './model-bundle.ts';
import { createRulesConfig, evaluateRules, reviewRules, type RulesConfig } from './rules.ts';
import { initTf } from './tf.ts';

/**
 * What `Scorer#scoreBatch` needs from the entity aggregates of one claim: its aggregate features
 * (model input) and whether an identical claim was seen before (duplicate rule). An
 * {@link AggregateObservation} from the Redis or the offline evaluator is one.
 */
export type ClaimObservation = Pick<AggregateObservation, 'features' | 'duplicate'>;

/** Feature reasons below this contribution (score units) are not reported. */
const MIN_CONTRIBUTION = 0.005;

/** The scoring of one claim. */
export interface ScoreResult {
  /** Calibrated ensemble score in (0, 1): estimated probability of fraud. Rules do not change it. */
  score: number;
  /** Forest and network probabilities in [0, 1], before mixing and calibration. */
  components: { rf: number; nn: number };
  /**
   * The booster's probability when the bundle has one. Not a decision field: decisions (format
   * v2, domain/decision.ts) keep `components` to the forest and the network; the booster's part
   * is in the score and the reasons.
   */
  gb?: number;
  /** `flag` when a rule fires or score >= flag threshold; `review` when score >= review threshold. */
  outcome: Outcome;
  /**
   * Rule hits first (contribution 1), then up to `maxReasons` features that raised the score the
   * most (by at least 0.005), one per reason code. Can be empty for a clearly legitimate claim.
   * Codes and contributions only: the sentences are rendered at view time from the claim
   * (scoring/reason-text.ts), so reasons can travel and be stored without PHI.
   */
  reasons: Reason[];
}

export interface ScorerOptions {
  /** Hard rules configuration. Default: createRulesConfig() (no exclusion list, reference unit maxima). */
  rules?: RulesConfig;
  /** Feature reasons per claim (positive contributions only). Default 3. */
  maxReasons?: number;
  /** Logger for load-time events (backend, model hash). Never logs claim contents. */
  log?: Logger;
}

/**
 * Scores claims with a verified model bundle, on the fast path: the forest compiled to flat
 * arrays and walked tree by tree over the batch, the network evaluated in plain JS from its
 * tf.js weights (both proven equal to the library / tf.js references, see fast-path.test.ts),
 * and, when the bundle has one, the gradient-boosted trees in the same flat layout (booster.ts).
 *
 * Explanations (feature contributions, in score units = probability points): the forest's exact
 * Saabas path contributions (they sum to the forest probability minus its base value), the
 * booster's (they sum to its probability minus its base value) and the network's gradient x
 * input against the training mean, mixed with the ensemble weights and
 * carried through the calibration by its secant slope (see `scoreExplained` in ensemble.ts).
 */
export class Scorer {
  /** `0x` + sha256 of the bundle manifest: recorded in every decision. */
  readonly modelHash: string;
  readonly manifest: Manifest;
  /** tf.js backend in use (`tensorflow`, `wasm` or `cpu`). */
  readonly backend: string;
  readonly #models: EnsembleModels & { mlp: MlpEvaluator };
  readonly #rules: RulesConfig;
  readonly #maxReasons: number;
  /** Reason code per feature column (claim features, then aggregates). */
  readonly #reasonCodes: readonly string[];
  /**
   * Entity aggregate windows the model was trained with; undefined when it uses claim features
   * only. When set, the observations given to `scoreBatch` must have been made with these
   * windows (their features are model input).
   */
  readonly aggregates: AggregateWindows | undefined;

  private constructor(models: EnsembleModels & { mlp: MlpEvaluator }, manifest: Manifest, modelHash: string, backend: string, options: ScorerOptions) {
    this.#models = models;
    this.manifest = manifest;
    this.modelHash = modelHash;
    this.backend = backend;
    this.#rules = options.rules ?? createRulesConfig();
    this.#maxReasons = options.maxReasons ?? 3;
    this.aggregates = manifest.aggregates;
    this.#reasonCodes = manifest.features.map((name, j) => (j < FEATURES.length ? (FEATURES[j] as (typeof FEATURES)[number]).reasonCode : aggregateReasonCode(name)));
  }

  /**
   * Initialises tf.js and loads the bundle in `dir`, verifying every file against its manifest.
   * @throws ModelLoadError (code MODEL_LOAD_FAILED) when the bundle is missing, altered or invalid.
   */
  static async load(dir: string, options: ScorerOptions = {}): Promise<Scorer> {
    const { backend } = await initTf(options.log);
    const bundle = await loadModelBundle(dir);
    options.log?.info({ component: 'scorer', modelHash: bundle.modelHash, backend }, 'model bundle loaded');
    const { manifest } = bundle;
    return new Scorer(
      {
        forest: bundle.forest,
        nn: bundle.nn,
        mlp: MlpEvaluator.fromModel(bundle.nn),
        normalizer: bundle.normalizer,
        ...(bundle.booster ? { booster: bundle.booster } : {}),
        weights: manifest.weights,
        calibration: manifest.calibration,
      },
      manifest,
      bundle.modelHash,
      backend,
      options,
    );
  }

  /**
   * Scores a batch (any size; 100-1000 is a good range) and applies every rule. Claims must be
   * schema-valid. Results are in input order. Synchronous.
   *
   * `observations[i]` is what the entity aggregates observed for claim i (Redis in the stage,
   * {@link offlineObservations} offline), one per claim, always: its `duplicate` flag drives the
   * duplicate rule for every model, and its `features` (windows as in `this.aggregates`) are model
   * input when the model uses aggregates (ignored otherwise).
   * @throws InvalidArgumentError when there is not one observation per claim, or the model uses
   * aggregates and an observation has the wrong number of features.
   */
  scoreBatch(claims: readonly Claim[], observations: ReadonlyArray<ClaimObservation>): ScoreResult[] {
    const own = FEATURES.length;
    const width = this.manifest.features.length;
    const rows = claims.length;
    if (observations.length !== rows) throw new InvalidArgumentError(`${rows} claims but ${observations.length} aggregate observations: pass the observation of each claim (duplicate rule${width > own ? ' and aggregate features' : ''})`);
    const matrix = new Float64Array(rows * width);
    const facts: ClaimFacts[] = claims.map((claim, i) => extractFeaturesInto(claim, matrix, i * width));
    if (width > own) {
      for (let i = 0; i < rows; i++) {
        const agg = (observations[i] as ClaimObservation).features;
        if (agg.length !== width - own) throw new InvalidArgumentError(`claim ${i}: ${agg.length} aggregate features, the model expects ${width - own}`);
        matrix.set(agg, i * width + own);
      }
    }
    const { rf, nn, gb, score, contributions } = scoreExplained(this.#models, matrix, rows, width);
    const { thresholds } = this.manifest;
    const used = new Uint8Array(width);

    return claims.map((claim, i) => {
      const at = i * width;
      const final = score[i] as number;
      const reasons = evaluateRules(claim, this.#rules, observations[i] as ClaimObservation, facts[i]);
      const ruleHit = reasons.length > 0;
      // Review rules (claims the model was not trained on) never flag, but never approve either.
      const review = reviewRules(claim);
      reasons.push(...review);
      // Largest contributions first (ties: lower feature index), one per reason code: a partial
      // selection, cheaper than sorting all features for a handful of reasons.
      used.fill(0);
      const seen: string[] = [];
      while (seen.length < this.#maxReasons) {
        let best = -1;
        let bestC = MIN_CONTRIBUTION;
        for (let j = 0; j < width; j++) {
          const c = contributions[at + j] as number;
          if (used[j] === 0 && c >= bestC && (best < 0 || c > bestC)) {
            best = j;
            bestC = c;
          }
        }
        if (best < 0) break;
        used[best] = 1;
        const code = this.#reasonCodes[best] as string;
        if (seen.includes(code)) continue;
        seen.push(code);
        reasons.push({ code, contribution: Math.round(bestC * 10_000) / 10_000 });
      }
      const outcome: Outcome = ruleHit || final >= thresholds.flag ? 'flag' : review.length > 0 || final >= thresholds.review ? 'review' : 'approve';
      return { score: final, components: { rf: rf[i] as number, nn: nn[i] as number }, ...(gb ? { gb: gb[i] as number } : {}), outcome, reasons };
    });
  }

  /**
   * Scores claims taken as one stream in the given order, offline: their aggregate observations
   * are computed point-in-time over `claims` ({@link offlineObservations}, what the streaming
   * path observes in Redis for the same order), so every rule applies, the duplicate rule
   * included, and a model with aggregates gets their features. For evaluation, benchmarks and tests.
   */
  scoreInOrder(claims: readonly Claim[], batchSize = 1000): ScoreResult[] {
    const observations = offlineObservations(claims, this.aggregates);
    const out: ScoreResult[] = [];
    for (let i = 0; i < claims.length; i += batchSize) out.push(...this.scoreBatch(claims.slice(i, i + batchSize), observations.slice(i, i + batchSize)));
    return out;
  }

  /** Frees the network's tensors. The scorer cannot be used afterwards. */
  dispose(): void {
    this.#models.nn.dispose();
  }
}
