import { ClaimtrailError } from '../core/errors.ts';

/**
 * A model bundle could not be loaded: a file is missing or unreadable, its sha256 differs from
 * the manifest, the manifest is invalid, or the bundle was built for other features. Not
 * retriable: the bundle on disk must be fixed or replaced.
 */
export class ModelLoadError extends ClaimtrailError {
  /** The bundle file at fault, when one is (e.g. `weights.bin`). */
  readonly file: string | undefined;

  constructor(message: string, options: { file?: string; cause?: unknown } = {}) {
    super('MODEL_LOAD_FAILED', message, options.cause === undefined ? {} : { cause: options.cause });
    this.file = options.file;
  }
}
