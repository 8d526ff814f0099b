/**
 * The random forest model format: `RandomForestClassifier#toJSON()` of ml-random-forest 2.x, as
 * model bundles store it (forest.json). Serving reads it (forest.ts, model-bundle.ts); the
 * forest trainer writes it. Owned by serving, so scoring never depends on training code.
 */

/** A node as ml-cart serializes it: a leaf carries `distribution`, a split the rest. */
export type TreeNodeJson =
  | { distribution: number[][]; numberSamples?: number }
  | { splitValue: number; splitColumn: number; gain: number; numberSamples: number; left: TreeNodeJson; right: TreeNodeJson };

export interface TreeOptionsJson {
  gainFunction: 'gini';
  splitFunction: 'mean';
  minNumSamples: number;
  maxDepth: number;
  gainThreshold: number;
  kind: 'classifier';
}

/** `RandomForestClassifier#toJSON()` shape (ml-random-forest 2.x). */
export interface ForestModelJson {
  name: 'RFClassifier';
  baseModel: {
    indexes: number[][];
    n: number;
    replacement: boolean;
    maxFeatures: number;
    nEstimators: number;
    treeOptions: TreeOptionsJson;
    isClassifier: true;
    seed: number;
    estimators: { options: TreeOptionsJson; root: TreeNodeJson; name: 'DTClassifier' }[];
    useSampleBagging: boolean;
  };
}
