import type { Config } from '../../core/config.ts';
import { ClaimtrailError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';

/**
 * Where the anchor signer's private key comes from. The runtime asks once, when the anchoring
 * role starts, for the chain it is connected to; whatever answers is the signer of that process
 * (one signer, one transaction manager, one anchor worker).
 */
export interface SignerSource {
  /**
   * The private key (0x + 64 hex digits) that signs for chain `chainId`.
   * @throws SignerMissingError when no key is available for that chain.
   */
  signerKey(chainId: bigint, log: Logger): Promise<string>;
}

/** No signer key is available for the chain: a configuration error, never a silent default. */
export class SignerMissingError extends ClaimtrailError {
  constructor(chainId: bigint) {
    super('SIGNER_MISSING', `no signer configured for chain ${chainId}: set SIGNER_PRIVATE_KEY or SIGNER_KEY_FILE`);
  }
}

/**
 * The production signer source: SIGNER_PRIVATE_KEY, or the key in SIGNER_KEY_FILE (config
 * validated both when it was loaded). Without either it throws SignerMissingError on every chain.
 */
export function configSignerSource(config: Readonly<Config>): SignerSource {
  const key = config.chain.signerKey;
  return {
    signerKey: async (chainId) => {
      if (!key) throw new SignerMissingError(chainId);
      return key;
    },
  };
}
