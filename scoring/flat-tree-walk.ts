/**
 * The batch walk shared by the flat forest (forest.ts) and the flat booster (booster.ts): both
 * store trees in the same layout (breadth-first typed arrays, children side by side, leaves
 * comparing a padded 0 column) and sum, per row, the value of the leaf each tree reaches, plus
 * the Saabas path deltas of that leaf per feature. Only what they start from (0 or the base
 * margin) and what they do with the sum afterwards (average, sigmoid) differ.
 */
export interface FlatTreeArrays {
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly child: Int32Array;
  readonly value: Float64Array;
  readonly roots: Int32Array;
  readonly depths: Int32Array;
  /** Per leaf, the range [pathStart, pathEnd) of its path's (feature, delta) pairs. */
  readonly pathStart: Int32Array;
  readonly pathEnd: Int32Array;
  readonly pathFeature: Int32Array;
  readonly pathDelta: Float64Array;
}

/**
 * Adds every tree's leaf value to `out[r]` for rows `x` (row-major, `stride` = width + 1 with the
 * padding column), and with `leaves` and `contributions` each leaf's path deltas to
 * `contributions[r * width + feature]`. `out` and `contributions` are not cleared here.
 */
export function walkFlatTrees(t: FlatTreeArrays, x: Float64Array, rows: number, width: number, out: Float64Array, leaves?: Int32Array, contributions?: Float64Array): void {
  const { feature, threshold, child, value, roots, depths, pathStart: start, pathEnd: end, pathFeature: pf, pathDelta: pd } = t;
  const stride = width + 1;
  for (let tree = 0; tree < roots.length; tree++) {
    const root = roots[tree] as number;
    const depth = depths[tree] as number;
    let r = 0;
    // Four rows walk the tree together: four independent chains of dependent loads keep the
    // core busy where one chain would wait on memory latency at every level.
    for (; r + 4 <= rows; r += 4) {
      const a0 = r * stride;
      const a1 = a0 + stride;
      const a2 = a1 + stride;
      const a3 = a2 + stride;
      let n0 = root;
      let n1 = root;
      let n2 = root;
      let n3 = root;
      for (let d = 0; d < depth; d++) {
        n0 = (child[n0] as number) + +!((x[a0 + (feature[n0] as number)] as number) < (threshold[n0] as number));
        n1 = (child[n1] as number) + +!((x[a1 + (feature[n1] as number)] as number) < (threshold[n1] as number));
        n2 = (child[n2] as number) + +!((x[a2 + (feature[n2] as number)] as number) < (threshold[n2] as number));
        n3 = (child[n3] as number) + +!((x[a3 + (feature[n3] as number)] as number) < (threshold[n3] as number));
      }
      out[r] = (out[r] as number) + (value[n0] as number);
      out[r + 1] = (out[r + 1] as number) + (value[n1] as number);
      out[r + 2] = (out[r + 2] as number) + (value[n2] as number);
      out[r + 3] = (out[r + 3] as number) + (value[n3] as number);
      if (leaves) {
        leaves[r] = n0;
        leaves[r + 1] = n1;
        leaves[r + 2] = n2;
        leaves[r + 3] = n3;
      }
    }
    for (; r < rows; r++) {
      const a = r * stride;
      let node = root;
      for (let d = 0; d < depth; d++) node = (child[node] as number) + +!((x[a + (feature[node] as number)] as number) < (threshold[node] as number));
      out[r] = (out[r] as number) + (value[node] as number);
      if (leaves) leaves[r] = node;
    }
    if (leaves && contributions) {
      // This tree's path contributions for the batch, while its path tables are in cache.
      for (let q = 0, at = 0; q < rows; q++, at += width) {
        const leaf = leaves[q] as number;
        for (let k = start[leaf] as number, e = end[leaf] as number; k < e; k++) {
          const f = at + (pf[k] as number);
          contributions[f] = (contributions[f] as number) + (pd[k] as number);
        }
      }
    }
  }
}

/**
 * Scratch buffers of one evaluator, kept between calls (scoring is synchronous), so a batch
 * allocates nothing: the rows padded with the 0 column the leaves compare, and the leaf each row
 * reached in the current tree (for the contributions).
 */
export class FlatTreeScratch {
  #x = new Float64Array(0);
  #leaves = new Int32Array(0);

  /**
   * `out[r]` = `start` + the sum of every tree's leaf value for row r of `matrix` (row-major,
   * `rows` x `width`); with `contributions`, overwritten with the summed path deltas.
   */
  sum(t: FlatTreeArrays, matrix: Float64Array, rows: number, width: number, start: number, out: Float64Array, contributions?: Float64Array): void {
    const stride = width + 1;
    if (this.#x.length < rows * stride) this.#x = new Float64Array(rows * stride);
    const x = this.#x;
    for (let r = 0; r < rows; r++) x.set(matrix.subarray(r * width, (r + 1) * width), r * stride);
    if (contributions && this.#leaves.length < rows) this.#leaves = new Int32Array(rows);
    if (contributions) contributions.fill(0, 0, rows * width);
    out.fill(start, 0, rows);
    walkFlatTrees(t, x, rows, width, out, contributions ? this.#leaves : undefined, contributions);
  }
}
