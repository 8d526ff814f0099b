import { ClaimtrailError } from '../../core/errors.ts';

/** The federation error codes (registered in core/error-codes.ts). */
export type FederationErrorCode =
  | 'FEDERATION_PARTICIPANT_UNREGISTERED'
  | 'FEDERATION_SIGNATURE_INVALID'
  | 'FEDERATION_PROTOCOL_VIOLATION'
  | 'FEDERATION_TOO_FEW_SURVIVORS'
  | 'FEDERATION_AGGREGATE_REJECTED'
  | 'FEDERATION_ENCODING_INVALID';

/**
 * A secure-aggregation step refused something. Never retriable by repeating the same message:
 * the sender must fix it (register, sign, follow the round order) or the round is abandoned.
 */
export class FederationError extends ClaimtrailError {
  constructor(code: FederationErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}
