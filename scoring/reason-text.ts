import type { Claim } from '../domain/claim.schema.ts';
import type { Reason, RenderedReason } from '../domain/decision.ts';
import { describeAggregateReason } from './aggregates.ts';
import { describeFeature, extractFeaturesInto, FEATURES } from './features.ts';
import { describeRule, type RulesConfig } from './rules.ts';

/**
 * Reason sentences, rendered at VIEW time. Decisions store and carry reasons as codes and
 * contributions only (docs/proof-format-v2.md: sentences about a claim name its codes, amounts
 * and days, which is PHI beside a claim id); the one place that shows a sentence is the review
 * app's role-checked, audited case view, which has the decrypted claim and calls this.
 *
 * - claim-feature reasons (`F_TOTAL_CHARGED`, ...): the feature is recomputed from the claim and
 *   described by `describeFeature`, the same sentence the scorer used to store;
 * - aggregate reasons (`F_PROVIDER_VOLUME`, ...): a sentence without the other claims' numbers,
 *   which the claim does not give (`describeAggregateReason`);
 * - rule hits (`R_*`): the rule's sentence recomputed from the claim (`describeRule`).
 * A code none of them knows (a newer model's) gets an empty text; the code is still shown.
 */

/** Reason code -> the claim features that explain with it, in vector order. */
const FEATURES_BY_CODE: ReadonlyMap<string, readonly number[]> = (() => {
  const by = new Map<string, number[]>();
  FEATURES.forEach((f, j) => by.set(f.reasonCode, [...(by.get(f.reasonCode) ?? []), j]));
  return by;
})();

export interface RenderReasonOptions {
  /** The scorer's rules configuration, when the caller has it (names the excluded NPI). */
  rules?: RulesConfig;
}

/**
 * The reasons of a decision with their sentences for `claim`, in the given order. Pure. `claim`
 * must be the decision's claim (schema-valid); with `null` (no payload, or the member erased) every
 * text is empty: nothing about the person is left to render.
 */
export function renderReasonTexts(reasons: readonly Reason[], claim: Claim | null, options: RenderReasonOptions = {}): RenderedReason[] {
  if (!claim) return reasons.map(({ code, contribution }) => ({ code, contribution, text: '' }));
  const vector = new Float64Array(FEATURES.length);
  const facts = extractFeaturesInto(claim, vector, 0);
  return reasons.map(({ code, contribution }) => {
    const rule = describeRule(code, claim, options.rules);
    if (rule !== undefined) return { code, contribution, text: rule };
    const features = FEATURES_BY_CODE.get(code);
    if (features) {
      // Codes shared by one-hot features (F_PLACE_OF_SERVICE): the one set for this claim explains it.
      const j = features.find((k) => vector[k] !== 0) ?? features[0]!;
      return { code, contribution, text: describeFeature(FEATURES[j]!.name, vector[j]!, claim, facts) };
    }
    return { code, contribution, text: describeAggregateReason(code) ?? '' };
  });
}
