import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, VerificationError } from '../../../anchoring/core/errors.ts';
import { TRUST_FILE_FORMAT, TrustFileError, checkTrust, loadTrustFile, pinnedTrust, type TrustAnchor } from '../../../anchoring/core/trust.ts';

/** The trust file of docs/proof-format-v2.md ("Trust anchor"), with real-looking values. */
const V2 = '0x1111111111111111111111111111111111111111';
const V1 = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const ANCHORER = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
const OTHER = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const INSTANCE = `0x${'ab'.repeat(32)}`;

function trustFile(): Record<string, unknown> {
  return {
    format: 'claimtrail-trust-v1',
    issuer: 'Example Health Plan',
    deployments: [
      { chainId: 1, contract: V2, version: 'v2', deploymentBlock: 19000000, anchorers: [ANCHORER], instanceIds: [INSTANCE] },
      { chainId: 1, contract: V1, version: 'v1', deploymentBlock: 18000000 },
    ],
  };
}

/** The CONTRACT_NOT_TRUSTED error `fn` throws (fails the test when it throws nothing else). */
function notTrusted(fn: () => unknown): VerificationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(VerificationError);
    expect((error as VerificationError).code).toBe('CONTRACT_NOT_TRUSTED');
    return error as VerificationError;
  }
  throw new Error('expected CONTRACT_NOT_TRUSTED, nothing was thrown');
}

describe('loadTrustFile', () => {
  it('loads the documented claimtrail-trust-v1 file, from JSON text or parsed', () => {
    expect(TRUST_FILE_FORMAT).toBe('claimtrail-trust-v1');
    const loaded = loadTrustFile(JSON.stringify(trustFile()));
    expect(loaded.issuer).toBe('Example Health Plan');
    expect(loaded.deployments).toHaveLength(2);
    expect(loaded.deployments[0]).toMatchObject({ chainId: 1, contract: V2, version: 'v2', anchorers: [ANCHORER], instanceIds: [INSTANCE] });
    expect(loadTrustFile(trustFile())).toEqual(loaded);
    expect(Object.isFrozen(loaded)).toBe(true);
  });

  it('lists every problem at once, as a TrustFileError (INVALID_ARGUMENT: the caller gave a bad file)', () => {
    const bad = trustFile();
    bad.format = 'claimtrail-trust-v0';
    (bad.deployments as Array<Record<string, unknown>>)[0]!.contract = '0x1234';
    (bad.deployments as Array<Record<string, unknown>>)[1]!.chainId = 0;
    let error: unknown;
    try {
      loadTrustFile(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TrustFileError);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as TrustFileError).code).toBe('INVALID_ARGUMENT');
    const issues = (error as TrustFileError).issues.join('\n');
    expect(issues).toMatch(/format/);
    expect(issues).toMatch(/deployments\.0\.contract/);
    expect(issues).toMatch(/deployments\.1\.chainId/);
  });

  const rejected: Array<[string, (f: Record<string, unknown>) => void]> = [
    ['not JSON', () => undefined],
    ['no deployments', (f) => void (f.deployments = [])],
    ['an unknown top-level member', (f) => void (f.note = 'trust me')],
    ['an unknown deployment member', (f) => void ((f.deployments as Array<Record<string, unknown>>)[1]!.owner = OTHER)],
    ['an empty issuer', (f) => void (f.issuer = '')],
    ['an unknown version', (f) => void ((f.deployments as Array<Record<string, unknown>>)[1]!.version = 'v3')],
    ['a negative deployment block', (f) => void ((f.deployments as Array<Record<string, unknown>>)[1]!.deploymentBlock = -1)],
    ['an anchorer that is not an address', (f) => void ((f.deployments as Array<Record<string, unknown>>)[0]!.anchorers = ['0xzz'])],
    ['an empty anchorer list (ambiguous: no anchorer, or any?)', (f) => void ((f.deployments as Array<Record<string, unknown>>)[0]!.anchorers = [])],
    ['anchorers on a v1 deployment (v1 bundles name none: the list would check nothing)', (f) => void ((f.deployments as Array<Record<string, unknown>>)[1]!.anchorers = [ANCHORER])],
    ['the same deployment twice (any case)', (f) => void (f.deployments = [...(f.deployments as unknown[]), { chainId: 1, contract: V1.toLowerCase(), version: 'v1', deploymentBlock: 1 }])],
  ];
  it.each(rejected)('rejects %s', (what, change) => {
    const f = trustFile();
    change(f);
    expect(() => loadTrustFile(what === 'not JSON' ? '{"format": ' : f)).toThrow(TrustFileError);
  });
});

describe('pinnedTrust (from --contract / --chain-id)', () => {
  it('builds a one-deployment anchor; the chain id is optional', () => {
    expect(pinnedTrust({ contract: V1, chainId: 31337 })).toEqual({ deployments: [{ chainId: 31337, contract: V1 }] });
    expect(pinnedTrust({ contract: V1 })).toEqual({ deployments: [{ contract: V1 }] });
  });

  it('refuses a bad address or chain id (InvalidArgumentError)', () => {
    expect(() => pinnedTrust({ contract: '0x1234' })).toThrow(InvalidArgumentError);
    expect(() => pinnedTrust({ contract: V1, chainId: 0 })).toThrow(InvalidArgumentError);
    expect(() => pinnedTrust({ contract: V1, chainId: 1.5 })).toThrow(InvalidArgumentError);
  });
});

describe('checkTrust', () => {
  const file = loadTrustFile(trustFile());

  it('returns the trusted deployment the bundle names, matching the contract in any case', () => {
    expect(checkTrust({ chainId: 1, contract: V1 }, file)).toMatchObject({ contract: V1, version: 'v1' });
    expect(checkTrust({ chainId: 1, contract: V1.toLowerCase() }, file)).toMatchObject({ contract: V1 });
    expect(checkTrust({ chainId: 1, contract: `0x${V1.slice(2).toUpperCase()}` }, file)).toMatchObject({ contract: V1 });
  });

  it('refuses a contract the anchor does not list, with expected (trusted) vs computed (bundle)', () => {
    const e = notTrusted(() => checkTrust({ chainId: 1, contract: OTHER }, file));
    // chainId:contract, lower case, so two values compare by eye.
    expect(e.computed).toBe(`1:${OTHER.toLowerCase()}`);
    expect(e.expected).toBe(`1:${V2.toLowerCase()}, 1:${V1.toLowerCase()}`);
    expect(e.message).toContain(OTHER.toLowerCase());
  });

  it('refuses a listed contract on another chain', () => {
    const e = notTrusted(() => checkTrust({ chainId: 31337, contract: V1 }, file));
    expect(e.computed).toBe(`31337:${V1.toLowerCase()}`);
  });

  it('checks the anchorer only when the deployment lists anchorers and the bundle names one', () => {
    expect(checkTrust({ chainId: 1, contract: V2, anchorer: ANCHORER.toLowerCase() }, file)).toMatchObject({ contract: V2 });
    const e = notTrusted(() => checkTrust({ chainId: 1, contract: V2, anchorer: OTHER }, file));
    expect(e.expected).toBe(ANCHORER.toLowerCase());
    expect(e.computed).toBe(OTHER.toLowerCase());
    // A v1 bundle names no anchorer: the contract is the whole check.
    expect(checkTrust({ chainId: 1, contract: V2 }, file)).toMatchObject({ contract: V2 });
    // A deployment without an anchorer list trusts every anchorer of that contract.
    expect(checkTrust({ chainId: 1, contract: V1, anchorer: OTHER }, pinnedTrust({ contract: V1, chainId: 1 }))).toMatchObject({ contract: V1 });
  });

  it('a pin without a chain id trusts the contract on any chain (the verifier then checks the node is on the bundle chain)', () => {
    const pin: TrustAnchor = pinnedTrust({ contract: V1 });
    expect(checkTrust({ chainId: 5, contract: V1 }, pin)).toEqual({ contract: V1 });
    expect(notTrusted(() => checkTrust({ chainId: 5, contract: OTHER }, pin)).expected).toBe(`*:${V1.toLowerCase()}`);
  });

  it('refuses a malformed bundle anchor as the caller error it is', () => {
    expect(() => checkTrust({ chainId: 1, contract: 'nope' }, file)).toThrow(InvalidArgumentError);
  });
});
