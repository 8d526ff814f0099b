import { z } from 'zod';

/**
 * The gradient-boosted trees model format, as model bundles store it (`booster.json`). Serving
 * reads it (booster.ts, model-bundle.ts); the booster trainer (training/booster-trainer.ts)
 * writes it. Owned by serving, so scoring never depends on training code.
 *
 * margin(x) = baseMargin + sum over trees of the value of the leaf x reaches; the fraud
 * probability is sigmoid(margin). Each tree is a list of nodes in pre-order (root = node 0):
 * a split sends x left when `x[feature] < threshold` and right otherwise (a NaN goes right); a
 * leaf has `feature` -1 and children -1, and its `value` is the (already shrunk) leaf weight.
 * `cover` is the hessian sum of the training rows that reached the node (explanations weigh
 * the two branches of a split with it); a split's `value` is ignored.
 */

export const BOOSTER_FORMAT = 'claimtrail-gbdt-v1';

const finite = z.number().finite();

export const BoosterTreeSchema = z.strictObject({
  feature: z.array(z.number().int().min(-1)).min(1),
  threshold: z.array(finite),
  left: z.array(z.number().int().min(-1)),
  right: z.array(z.number().int().min(-1)),
  value: z.array(finite),
  cover: z.array(z.number().finite().min(0)),
});

export const BoosterModelSchema = z.strictObject({
  format: z.literal(BOOSTER_FORMAT),
  featureCount: z.number().int().min(1),
  baseMargin: finite,
  trees: z.array(BoosterTreeSchema).min(1),
  /** Informational: the training settings and the number of rounds kept. */
  training: z.record(z.string(), z.unknown()).optional(),
});

export type BoosterTreeJson = z.infer<typeof BoosterTreeSchema>;
export type BoosterModelJson = z.infer<typeof BoosterModelSchema>;
