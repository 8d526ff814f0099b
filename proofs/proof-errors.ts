import { ClaimtrailError } from '../core/errors.ts';

/** No decision / batch to prove (unknown claim id, not batched, or not anchored yet). Caller-facing. */
export class ProofUnavailableError extends ClaimtrailError {
  constructor(message: string) {
    super('PROOF_UNAVAILABLE', message);
  }
}
