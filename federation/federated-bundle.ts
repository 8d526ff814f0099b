/**
 * The federated model as a normal claims model bundle (scoring/model-bundle.ts): `Scorer.load`
 * serves it like any other; the manifest's `training.federation` holds the lineage and the
 * digest anchored on chain for it.
 */
import type { Claim } from '../domain/claim.schema.ts';
import { extractFeatures } from '../scoring/features.ts';
import { saveModelBundle } from '../scoring/model-bundle.ts';
import type { FederatedModel } from './federated-trainer.ts';
import { lineageDigest } from './lineage.ts';

/** The claim-level feature rows a party trains on (the features the pipeline scores with, without entity aggregates). */
export function claimFeatureRows(claims: readonly Claim[]): Float64Array[] {
  return claims.map((c) => Float64Array.from(extractFeatures(c)));
}

/** Writes the bundle; returns its model hash and the lineage digest. */
export async function saveFederatedBundle(dir: string, model: FederatedModel, extra: Record<string, unknown> = {}): Promise<{ modelHash: string; dir: string; lineageDigest: string }> {
  const digest = lineageDigest(model.lineage);
  const saved = await saveModelBundle(dir, { ...model.parts, training: { ...extra, federation: { ...model.lineage, lineageDigest: digest } } });
  return { ...saved, lineageDigest: digest };
}
