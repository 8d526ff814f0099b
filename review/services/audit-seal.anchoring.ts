/**
 * Where the review app hands a sealed audit batch to be anchored. The review app owns this port;
 * the composition root (cli/commands/review.command.ts, tests) plugs in the pipeline's anchor
 * queue, whose worker anchors audit batches with the one signer like any other batch.
 */
export interface AuditSealAnchoring {
  /**
   * Asks for the batch to be anchored. Idempotent: handing the same batch over twice (after a
   * crash) anchors it once. Resolves once the request is durably queued, not once it is on chain.
   */
  enqueueBatch(batchId: string): Promise<void>;
}
