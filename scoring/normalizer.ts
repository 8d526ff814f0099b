import { z } from 'zod';

/**
 * Per-feature standardisation for the neural network, fitted on the training rows:
 * z = clamp((x - mean) / std, -clip, clip). `means` doubles as the "neutral" value the
 * explanations substitute for a feature (see scorer.ts).
 */

export const NormalizerSchema = z.strictObject({
  means: z.array(z.number().finite()).min(1),
  stds: z.array(z.number().finite().positive()).min(1),
  clip: z.number().finite().positive(),
}).refine((n) => n.means.length === n.stds.length, 'means and stds differ in length');

export type Normalizer = z.infer<typeof NormalizerSchema>;

/** Fits means and standard deviations (a constant feature gets std 1). */
export function fitNormalizer(rows: readonly ArrayLike<number>[], clip = 8): Normalizer {
  const width = rows[0]?.length ?? 0;
  const means = new Array<number>(width).fill(0);
  const stds = new Array<number>(width).fill(0);
  for (const row of rows) for (let j = 0; j < width; j++) means[j] = (means[j] as number) + (row[j] as number);
  for (let j = 0; j < width; j++) means[j] = (means[j] as number) / rows.length;
  for (const row of rows) for (let j = 0; j < width; j++) stds[j] = (stds[j] as number) + ((row[j] as number) - (means[j] as number)) ** 2;
  for (let j = 0; j < width; j++) {
    const sd = Math.sqrt((stds[j] as number) / rows.length);
    stds[j] = sd > 1e-9 ? sd : 1;
  }
  return { means, stds, clip };
}

/** Writes the normalised row into `out` at `offset` (a flat row-major matrix). */
export function normalizeInto(n: Normalizer, row: ArrayLike<number>, out: Float32Array, offset: number): void {
  for (let j = 0; j < n.means.length; j++) {
    const z = ((row[j] as number) - (n.means[j] as number)) / (n.stds[j] as number);
    out[offset + j] = z > n.clip ? n.clip : z < -n.clip ? -n.clip : z;
  }
}
