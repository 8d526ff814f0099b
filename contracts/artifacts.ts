import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { InterfaceAbi } from 'ethers';
import { ClaimtrailError } from '../core/errors.ts';

/**
 * Runtime access to the compiled DecisionAnchor (v1) and DecisionAnchorV2 contracts, for the app
 * (deployment by the local stack, the anchor workers, `claimtrail verify`). Reads the Hardhat
 * artifacts from disk; never imports Hardhat, so it runs on plain Node.
 */

/** The parts of a compiled contract the app needs to deploy it or talk to it. */
export interface ContractArtifact {
  /** The contract's ABI, as ethers' `Contract` / `ContractFactory` accept it. */
  abi: InterfaceAbi;
  /** Creation bytecode, `0x`-prefixed hex. */
  bytecode: string;
}

/** Where `npm run build:contracts` (`hardhat build`) writes the v1 artifact. */
const DECISION_ANCHOR_ARTIFACT = new URL('../artifacts/contracts/DecisionAnchor.sol/DecisionAnchor.json', import.meta.url);

/** Where `npm run build:contracts` (`hardhat build`) writes the v2 artifact (docs/proof-format-v2.md). */
const DECISION_ANCHOR_V2_ARTIFACT = new URL('../artifacts/contracts/DecisionAnchorV2.sol/DecisionAnchorV2.json', import.meta.url);

/**
 * Loads DecisionAnchor's (v1) ABI and creation bytecode from `artifacts/`.
 *
 * @returns A fresh object on every call (callers may mutate it).
 * @throws ClaimtrailError `CONTRACT_ARTIFACTS_MISSING` when the artifact file does not exist
 *   (contracts not built yet; the message says to run `npm run build:contracts`).
 * @throws ClaimtrailError `CONTRACT_ARTIFACTS_INVALID` when the file exists but is not a Hardhat
 *   artifact with an ABI array and non-empty bytecode (interrupted or foreign build).
 */
export function loadDecisionAnchorArtifact(): ContractArtifact {
  return loadArtifact(DECISION_ANCHOR_ARTIFACT);
}

/**
 * Loads DecisionAnchorV2's ABI and creation bytecode from `artifacts/`.
 *
 * @returns A fresh object on every call (callers may mutate it).
 * @throws ClaimtrailError `CONTRACT_ARTIFACTS_MISSING` when the artifact file does not exist
 *   (contracts not built yet; the message says to run `npm run build:contracts`).
 * @throws ClaimtrailError `CONTRACT_ARTIFACTS_INVALID` when the file exists but is not a Hardhat
 *   artifact with an ABI array and non-empty bytecode (interrupted or foreign build).
 */
export function loadDecisionAnchorV2Artifact(): ContractArtifact {
  return loadArtifact(DECISION_ANCHOR_V2_ARTIFACT);
}

/** Where `npm run build:contracts` writes the FederationRegistry artifact (docs/federation.md). */
const FEDERATION_REGISTRY_ARTIFACT = new URL('../artifacts/contracts/FederationRegistry.sol/FederationRegistry.json', import.meta.url);

/**
 * Loads FederationRegistry's ABI and creation bytecode from `artifacts/`.
 * @throws ClaimtrailError `CONTRACT_ARTIFACTS_MISSING` / `CONTRACT_ARTIFACTS_INVALID` as the loaders above.
 */
export function loadFederationRegistryArtifact(): ContractArtifact {
  return loadArtifact(FEDERATION_REGISTRY_ARTIFACT);
}

function loadArtifact(url: URL): ContractArtifact {
  let text: string;
  try {
    text = readFileSync(url, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ClaimtrailError(
        'CONTRACT_ARTIFACTS_MISSING',
        `contract artifacts missing: run \`npm run build:contracts\` (looked for ${fileURLToPath(url)})`,
        { cause },
      );
    }
    throw cause;
  }
  return parseArtifact(url, text);
}

function parseArtifact(url: URL, text: string): ContractArtifact {
  const invalid = (why: string, cause?: unknown) =>
    new ClaimtrailError(
      'CONTRACT_ARTIFACTS_INVALID',
      `contract artifact ${fileURLToPath(url)} is invalid (${why}): run \`npm run build:contracts\``,
      cause === undefined ? {} : { cause },
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw invalid('not JSON', cause);
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalid('not an object');
  const { abi, bytecode } = parsed as { abi?: unknown; bytecode?: unknown };
  if (!Array.isArray(abi)) throw invalid('no abi array');
  if (typeof bytecode !== 'string' || !/^0x(?:[0-9a-fA-F]{2})+$/.test(bytecode)) {
    throw invalid('no creation bytecode');
  }
  return { abi: abi as InterfaceAbi, bytecode };
}
