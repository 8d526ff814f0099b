import { ClaimtrailError } from '../core/errors.ts';

/**
 * Errors of the review app's services. They say what went wrong in domain terms; the HTTP edge
 * (http/error-handler.ts) alone maps their codes to statuses.
 */

/** No valid credentials (missing, wrong, expired or disabled). */
export class UnauthenticatedError extends ClaimtrailError {
  constructor(message = 'sign in first: a session cookie or an `Authorization: Bearer` token is required') {
    super('UNAUTHENTICATED', message);
  }
}

/** Authenticated, but the role (or the case assignment) does not allow this. */
export class ForbiddenError extends ClaimtrailError {
  constructor(message: string) {
    super('FORBIDDEN', message);
  }
}

/** The thing asked for does not exist. */
export class NotFoundError extends ClaimtrailError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

/** The request is well formed but the state does not allow it (case closed, name taken...). */
export class ConflictError extends ClaimtrailError {
  constructor(message: string) {
    super('CONFLICT', message);
  }
}

/** Too many attempts (failed sign-ins): retry after `retryAfterSeconds`. */
export class RateLimitedError extends ClaimtrailError {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number) {
    super('RATE_LIMITED', message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
