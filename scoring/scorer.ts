import type { Claim } from '../domain/claim.schema.ts';
import type { Outcome, Reason } from '../domain/decision.ts';
import type { Logger } from '../core/logger.ts';
import { scoreOccluded, type EnsembleModels } from './ensemble.ts';
import { describeFeature, extractFeatures, FEATURES } from './features.ts';
import { loadModelBundle, type Manifest } from './model-bundle.ts';
import { createRulesConfig, evaluateRules, type RulesConfig } from './rules.ts';
import { initTf } from './tf.ts';

/** Feature reasons below this contribution (score units) are not reported. */
const MIN_CONTRIBUTION = 0.005;

/** The scoring of one claim. */
export interface ScoreResult {
  /** Calibrated ensemble score in (0, 1): estimated probability of fraud. Rules do not change it. */
  score: number;
  /** Forest and network probabilities in [0, 1], before mixing and calibration. */
  components: { rf: number; nn: number };
  /** `flag` when a rule fires or score >= flag threshold; `review` when score >= review threshold. */
  outcome: Outcome;
  /**
   * Rule hits first (contribution 1), then up to `maxReasons` features that raised the score the
   * most (by at least 0.005), one per reason code. Can be empty for a clearly legitimate claim.
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
 * Scores claims with a verified model bundle.
 *
 * Explanations (feature contributions) use occlusion: a feature's contribution is the final score
 * minus the score with that feature set to its training mean, everything else unchanged. It runs
 * through both models and the calibration, so contributions are in score units (probability
 * points) and comparable across features; features that interact can share credit unevenly.
 * The forest computes occlusions exactly from each tree's path; the network scores all occluded
 * copies of a batch in the same single forward pass as the real rows.
 */
export class Scorer {
  /** `0x` + sha256 of the bundle manifest: recorded in every decision. */
  readonly modelHash: string;
  readonly manifest: Manifest;
  /** tf.js backend in use (`tensorflow`, `wasm` or `cpu`). */
  readonly backend: string;
  readonly #models: EnsembleModels;
  readonly #rules: RulesConfig;
  readonly #maxReasons: number;

  private constructor(models: EnsembleModels, manifest: Manifest, modelHash: string, backend: string, options: ScorerOptions) {
    this.#models = models;
    this.manifest = manifest;
    this.modelHash = modelHash;
    this.backend = backend;
    this.#rules = options.rules ?? createRulesConfig();
    this.#maxReasons = options.maxReasons ?? 3;
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
      { forest: bundle.forest, nn: bundle.nn, normalizer: bundle.normalizer, weights: manifest.weights, calibration: manifest.calibration },
      manifest,
      bundle.modelHash,
      backend,
      options,
    );
  }

  /**
   * Scores a batch (any size; 100-1000 is a good range). Claims must be schema-valid. Results are
   * in input order. Synchronous: one network forward pass for the whole batch.
   */
  scoreBatch(claims: readonly Claim[]): ScoreResult[] {
    const width = FEATURES.length;
    const stride = width + 1;
    const features = claims.map((claim) => extractFeatures(claim));
    const { rf, nn, score } = scoreOccluded(this.#models, features, width);
    const { thresholds } = this.manifest;

    return claims.map((claim, i) => {
      const at = i * stride;
      const final = score[at] as number;
      const contributions: { j: number; c: number }[] = [];
      for (let j = 0; j < width; j++) contributions.push({ j, c: final - (score[at + j + 1] as number) });
      contributions.sort((a, b) => b.c - a.c || a.j - b.j);
      const reasons = evaluateRules(claim, this.#rules);
      const ruleHit = reasons.length > 0;
      const seen = new Set<string>();
      for (const { j, c } of contributions) {
        if (seen.size >= this.#maxReasons || !(c >= MIN_CONTRIBUTION)) break;
        const spec = FEATURES[j];
        if (!spec || seen.has(spec.reasonCode)) continue;
        seen.add(spec.reasonCode);
        reasons.push({ code: spec.reasonCode, contribution: Math.round(c * 10_000) / 10_000, text: describeFeature(spec.name, (features[i] as Float64Array)[j] as number, claim) });
      }
      const outcome: Outcome = ruleHit || final >= thresholds.flag ? 'flag' : final >= thresholds.review ? 'review' : 'approve';
      return { score: final, components: { rf: rf[at] as number, nn: nn[at] as number }, outcome, reasons };
    });
  }

  /** Frees the network's tensors. The scorer cannot be used afterwards. */
  dispose(): void {
    this.#models.nn.dispose();
  }
}
