import { id } from 'ethers';
import type { Logger } from '../../core/logger.ts';
import type { AnchorTxManager } from './anchor-tx.manager.ts';
import type { DecisionAnchorV2Client } from './decision-anchor-v2.client.ts';

/** What a federated model's registration cites: the federation and the digest over its rounds. */
export interface FederationCitation {
  /** The federation's name (its on-chain id is keccak256 of it, as FederationRegistry keys it). */
  federation: string;
  /** sha256 over every round digest, in order (hex, with or without 0x). */
  lineageDigest: string;
  rounds: number;
}

/**
 * The `metadataURI` a model is registered with on DecisionAnchorV2: `claimtrail-model:<hash>`, and
 * for a federated model `?federation=<id>&lineage=<digest>&rounds=<n>`, the same three values
 * FederationRegistry holds for it. A decision's proof names the model hash; this record leads from
 * there to the federation's rounds on chain (`claimtrail federate verify --anchor-contract`).
 */
export function modelMetadataURI(modelHash: string, federation?: FederationCitation): string {
  const base = `claimtrail-model:${modelHash.toLowerCase()}`;
  if (!federation) return base;
  const digest = federation.lineageDigest.replace(/^0x/, '').toLowerCase();
  return `${base}?federation=${id(federation.federation)}&lineage=0x${digest}&rounds=${federation.rounds}`;
}

/**
 * The federation a bundle manifest's `training` section records (`training.federation`, written
 * by federation/federated-bundle.ts), or undefined for a model trained in one place.
 */
export function federationCitationOf(training: Readonly<Record<string, unknown>> | undefined): FederationCitation | undefined {
  const lineage = training?.federation as { federation?: unknown; lineageDigest?: unknown; rounds?: unknown } | undefined;
  if (!lineage || typeof lineage.federation !== 'string' || typeof lineage.lineageDigest !== 'string' || !Array.isArray(lineage.rounds)) return undefined;
  return { federation: lineage.federation, lineageDigest: lineage.lineageDigest, rounds: lineage.rounds.length };
}

/**
 * Registers the scoring model on DecisionAnchorV2 through the registrar key's own transaction
 * manager (MODEL_REGISTRAR_ROLE; never the anchoring key). One call at start; nothing when the
 * model is registered already. Without a registrar key it warns and goes on: decisions anchor
 * either way, and the operator registers the model with the registrar key out of band.
 */
export async function registerModel(v2: DecisionAnchorV2Client, registrar: AnchorTxManager | undefined, modelHash: string, federation: FederationCitation | undefined, log: Logger): Promise<void> {
  if (await v2.isModelRegistered(modelHash)) return;
  if (!registrar) {
    log.warn({ modelHash, contract: v2.address }, 'model not registered on DecisionAnchorV2 and no registrar key (MODEL_REGISTRAR_KEY_FILE) is configured: register it with the registrar key');
    return;
  }
  await registrar.resume();
  // A federated model's registration cites its federation and rounds (modelMetadataURI).
  const data = v2.calldata('registerModel', [modelHash, modelMetadataURI(modelHash, federation)]);
  const outcome = await registrar.send({ to: v2.address, data, method: 'registerModel', batchIds: [] });
  log.info({ modelHash, registrar: registrar.address, txHash: outcome.txHash }, 'model registered on DecisionAnchorV2');
}
