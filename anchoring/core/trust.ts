/**
 * The verifier's trust anchor: which contract (on which chain, written by which anchorer) a proof
 * may be anchored on. A bundle states where it was anchored; anyone can deploy a DecisionAnchor
 * and anchor any root under any batch id there, so that statement proves nothing by itself. The
 * trust anchor comes from the caller (`--contract`, the insurer's published trust file, the
 * runtime's configured deployment), never from the bundle: {@link checkTrust} compares the two,
 * and verifiers then ask the TRUSTED contract.
 *
 * `claimtrail-trust-v1` (docs/proof-format-v2.md, "Trust anchor"; how to obtain it:
 * docs/proof-bundle.md, "Trust") is read only through {@link loadTrustFile}. Format-agnostic: v1
 * bundles name a chain and a contract, v2 bundles also an anchorer. Pure: no I/O.
 */
import { z } from 'zod';
import { InvalidArgumentError, VerificationError } from './errors.ts';

/** Name and version of the trust file format. */
export const TRUST_FILE_FORMAT = 'claimtrail-trust-v1';

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const address = z.string().regex(ADDRESS, 'must be 0x followed by 40 hex digits');
const bytes32Hex = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be 0x followed by 64 hex digits');
/** EIP-155 chain ids are positive; JSON numbers are exact up to 2^53 - 1. */
const chainId = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

const deploymentSchema = z
  .strictObject({
    chainId,
    contract: address,
    version: z.enum(['v1', 'v2']),
    /** First block to scan for the contract's events (a JSON number: exact below 2^53). */
    deploymentBlock: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    // Present means "only these anchorers"; an empty list would be ambiguous (none? any?).
    anchorers: z.array(address).min(1).optional(),
    instanceIds: z.array(bytes32Hex).min(1).optional(),
  })
  .superRefine((d, ctx) => {
    // A v1 bundle names no anchorer and no instance: lists here would look like a check that
    // never runs.
    if (d.version === 'v1' && d.anchorers !== undefined) ctx.addIssue({ code: 'custom', path: ['anchorers'], message: 'a v1 deployment has no anchorer namespace: list anchorers only for v2' });
    if (d.version === 'v1' && d.instanceIds !== undefined) ctx.addIssue({ code: 'custom', path: ['instanceIds'], message: 'v1 bundles carry no instance id: list instanceIds only for v2' });
  });

const trustFileSchema = z
  .strictObject({
    format: z.literal(TRUST_FILE_FORMAT),
    issuer: z.string().min(1),
    deployments: z.array(deploymentSchema).min(1),
  })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.deployments.forEach((d, i) => {
      const key = deploymentKey(d.chainId, d.contract);
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['deployments', i], message: `deployment ${key} is listed twice` });
      seen.add(key);
    });
  });

/** One deployment the verifier trusts. */
export interface TrustedDeployment {
  /** EIP-155 chain id; absent: the contract on whatever chain the verifier's own RPC node serves. */
  readonly chainId?: number;
  /** The DecisionAnchor address (any case; compared case-insensitively). */
  readonly contract: string;
  /** v2: the anchorers whose records count; absent: every anchorer of the contract. */
  readonly anchorers?: readonly string[];
  /**
   * Which contract this is (`DecisionAnchor` v1 or `DecisionAnchorV2`); absent: either. Verifiers
   * pin a bundle only to a deployment of its own version: the two contracts answer different
   * questions (`batchOf` vs `epochOf`).
   */
  readonly version?: 'v1' | 'v2';
}

/** What a verifier trusts: one or more deployments. */
export interface TrustAnchor {
  readonly deployments: readonly TrustedDeployment[];
}

/** A loaded `claimtrail-trust-v1` document: a trust anchor with its issuer and per-deployment facts. */
export type TrustFile = Readonly<z.infer<typeof trustFileSchema>>;
export type TrustFileDeployment = TrustFile['deployments'][number];

/** Where a bundle says it was anchored: the part of `bundle.anchor` the trust check reads. */
export interface BundleAnchorRef {
  chainId: number;
  contract: string;
  /** v2 bundles only. */
  anchorer?: string;
}

/** A trust file is not valid `claimtrail-trust-v1` JSON; `issues` lists every problem. The caller's input. */
export class TrustFileError extends InvalidArgumentError {
  readonly issues: readonly string[];
  constructor(issues: readonly string[], options: { cause?: unknown } = {}) {
    super(`invalid trust file:\n  - ${issues.join('\n  - ')}`, options);
    this.issues = issues;
  }
}

/**
 * Reads a `claimtrail-trust-v1` document, validating all of it (unknown members are rejected,
 * like in proof bundles: a new field means a new version).
 * @param input the document as JSON text or parsed JSON.
 * @returns the document, deeply frozen.
 * @throws TrustFileError (code INVALID_ARGUMENT) listing every problem.
 */
export function loadTrustFile(input: unknown): TrustFile {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new TrustFileError([`not JSON: ${(error as Error).message}`], { cause: error });
    }
  }
  const parsed = trustFileSchema.safeParse(value);
  if (!parsed.success) {
    throw new TrustFileError(parsed.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`));
  }
  return deepFreeze(parsed.data);
}

/**
 * A one-deployment trust anchor from a caller's pin (`--contract ADDRESS [--chain-id N]
 * [--anchorer ADDRESS]`). `anchorer` (v2) restricts the deployment to that anchorer's records.
 * @throws InvalidArgumentError when the address, chain id or anchorer is malformed.
 */
export function pinnedTrust(pin: { contract: string; chainId?: number | undefined; anchorer?: string | undefined }): TrustAnchor {
  if (!ADDRESS.test(pin.contract)) throw new InvalidArgumentError(`contract ${JSON.stringify(pin.contract)} is not 0x followed by 40 hex digits`);
  if (pin.chainId !== undefined && !chainId.safeParse(pin.chainId).success) throw new InvalidArgumentError(`chain id ${String(pin.chainId)} is not a positive integer`);
  if (pin.anchorer !== undefined && !ADDRESS.test(pin.anchorer)) throw new InvalidArgumentError(`anchorer ${JSON.stringify(pin.anchorer)} is not 0x followed by 40 hex digits`);
  return {
    deployments: [
      {
        ...(pin.chainId === undefined ? {} : { chainId: pin.chainId }),
        contract: pin.contract,
        ...(pin.anchorer === undefined ? {} : { anchorers: [pin.anchorer] }),
      },
    ],
  };
}

/**
 * Checks that a bundle was anchored where the verifier trusts: its chain id and contract
 * (case-insensitive) are a listed deployment and, when that deployment lists anchorers and the
 * bundle names one, the anchorer is listed too.
 *
 * WARNING: passing this proves nothing on its own. The caller must then read the chain at the
 * RETURNED deployment's contract (not at `bundleAnchor.contract`, which any forger chooses).
 * @returns the trusted deployment that matched.
 * @throws VerificationError CONTRACT_NOT_TRUSTED with `expected` (the trusted `chainId:contract`
 *   list, `*` for a pin without chain id, or the anchorer list) and `computed` (the bundle's);
 *   InvalidArgumentError when the bundle's address is malformed (load the bundle first).
 */
export function checkTrust<T extends TrustedDeployment>(bundleAnchor: BundleAnchorRef, anchor: { readonly deployments: readonly T[] }): T {
  if (!ADDRESS.test(bundleAnchor.contract)) throw new InvalidArgumentError(`bundle contract ${JSON.stringify(bundleAnchor.contract)} is not an address`);
  const stated = deploymentKey(bundleAnchor.chainId, bundleAnchor.contract);
  const match = anchor.deployments.find(
    (d) => (d.chainId === undefined || d.chainId === bundleAnchor.chainId) && d.contract.toLowerCase() === bundleAnchor.contract.toLowerCase(),
  );
  if (!match) {
    const trusted = anchor.deployments.map((d) => deploymentKey(d.chainId, d.contract)).join(', ');
    throw new VerificationError('CONTRACT_NOT_TRUSTED', `bundle was anchored on ${stated}, which is not a trusted deployment (trusted: ${trusted})`, {
      expected: trusted,
      computed: stated,
    });
  }
  if (match.anchorers !== undefined && bundleAnchor.anchorer !== undefined) {
    const anchorer = bundleAnchor.anchorer.toLowerCase();
    const listed = match.anchorers.map((a) => a.toLowerCase());
    if (!listed.includes(anchorer)) {
      throw new VerificationError('CONTRACT_NOT_TRUSTED', `bundle was anchored by ${anchorer}, not a trusted anchorer of ${stated} (trusted: ${listed.join(', ')})`, {
        expected: listed.join(', '),
        computed: anchorer,
      });
    }
  }
  return match;
}

/** `chainId:contract` in lower case (`*` for any chain): how trust errors show a deployment. */
function deploymentKey(chain: number | undefined, contract: string): string {
  return `${chain ?? '*'}:${contract.toLowerCase()}`;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
