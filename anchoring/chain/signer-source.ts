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

/**
 * Where the other DecisionAnchorV2 role keys come from (docs/anchor-transactions.md#roles). The
 * anchoring key (SignerSource) never holds the admin role; these are separate keys, each with
 * its own transaction manager (its own nonce sequence).
 */
export interface RoleKeySource {
  /**
   * The key that deploys DecisionAnchorV2 and holds its admin role, or null. Only a dev source
   * answers, and only on the dev chain: claimtrail never deploys (or administers) elsewhere.
   */
  adminKey(chainId: bigint, log: Logger): Promise<string | null>;
  /** The key holding MODEL_REGISTRAR_ROLE, or null (models are then not registered at start; a warning says so). */
  registrarKey(chainId: bigint, log: Logger): Promise<string | null>;
}

/** The production role keys: no admin key ever; the registrar from MODEL_REGISTRAR_PRIVATE_KEY / MODEL_REGISTRAR_KEY_FILE. */
export function configRoleKeySource(config: Readonly<Config>): RoleKeySource {
  return {
    adminKey: async () => null,
    registrarKey: async () => config.chain.registrarKey ?? null,
  };
}
