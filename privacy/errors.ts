import { ClaimtrailError } from '../core/errors.ts';

/**
 * Codes of {@link PrivacyError}:
 * - `PHI_MASTER_KEY_MISSING`: no master key configured outside the local stack (configuration).
 * - `PHI_MASTER_KEY_MISMATCH`: the configured master key is not the one the stored data keys are wrapped with.
 * - `PHI_ENVELOPE_INVALID`: ciphertext too short, unknown version: not something we wrote.
 * - `PHI_DECRYPT_FAILED`: authentication failed: wrong key, wrong row (AAD) or altered bytes.
 */
export type PrivacyErrorCode = 'PHI_MASTER_KEY_MISSING' | 'PHI_MASTER_KEY_MISMATCH' | 'PHI_ENVELOPE_INVALID' | 'PHI_DECRYPT_FAILED';

/** Encryption at rest failed or is misconfigured. Never carries key material or plaintext. */
export class PrivacyError extends ClaimtrailError {
  declare readonly code: PrivacyErrorCode;
  constructor(code: PrivacyErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}
