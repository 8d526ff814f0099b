import { describe, expect, it } from 'vitest';
import { loadTrustFile, pinnedTrust } from '../../../anchoring/core/trust.ts';
import { deploymentsFor, pinBundleV2 } from '../../../proofs/bundle-verification.ts';
import { ANCHORER, CONTRACT, plainV2, sampleBundleV2 } from '../anchoring/fixtures-v2.ts';
import { loadProofBundleV2 } from '../../../anchoring/core/proof-bundle-v2.ts';

/**
 * How a v2 bundle is pinned to the caller's trust anchor before the chain is asked: only a
 * deployment that names the bundle's anchorer pins it; otherwise UNPINNED (never PASS) or
 * CONTRACT_NOT_TRUSTED. The chain half runs on anvil (tests/integration/verify-vectors.cli.test.ts).
 */
const OTHER = '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc';
const V1_CONTRACT = '0xe7f1725e7734ce288f8367e1bb143e90bb3f0512';
const bundle = sampleBundleV2();

describe('pinBundleV2', () => {
  it('pins the matched deployment with the bundle\'s (listed) anchorer', () => {
    expect(pinBundleV2(bundle, pinnedTrust({ contract: CONTRACT.toUpperCase().replace('0X', '0x'), chainId: 31337, anchorer: ANCHORER }))).toEqual({
      ok: true,
      pin: { chainId: 31337, contract: CONTRACT.toUpperCase().replace('0X', '0x'), anchorer: ANCHORER },
    });
    // Without --chain-id, the bundle's chain is pinned and the reader's chain is checked against it.
    expect(pinBundleV2(bundle, pinnedTrust({ contract: CONTRACT, anchorer: ANCHORER }))).toMatchObject({ ok: true, pin: { chainId: 31337 } });
  });

  it('UNPINNED without a trust anchor, or with one that names no anchorer', () => {
    expect(pinBundleV2(bundle, null)).toMatchObject({ ok: false, code: 'UNPINNED' });
    expect(pinBundleV2(bundle, pinnedTrust({ contract: CONTRACT, chainId: 31337 }))).toMatchObject({ ok: false, code: 'UNPINNED', message: expect.stringContaining('names no anchorer') });
  });

  it('CONTRACT_NOT_TRUSTED for another anchorer, contract or chain, or a v1 deployment of the same address', () => {
    for (const trust of [
      pinnedTrust({ contract: CONTRACT, chainId: 31337, anchorer: OTHER }),
      pinnedTrust({ contract: OTHER, chainId: 31337, anchorer: ANCHORER }),
      pinnedTrust({ contract: CONTRACT, chainId: 1, anchorer: ANCHORER }),
      loadTrustFile({ format: 'claimtrail-trust-v1', issuer: 't', deployments: [{ chainId: 31337, contract: CONTRACT, version: 'v1', deploymentBlock: 0 }] }),
    ]) {
      expect(pinBundleV2(bundle, trust)).toMatchObject({ ok: false, code: 'CONTRACT_NOT_TRUSTED' });
    }
  });

  it('a tampered bundle fails with its own code whatever the trust anchor', () => {
    const tampered = plainV2(bundle);
    tampered.decision.outcome = tampered.decision.outcome === 'flag' ? 'approve' : 'flag';
    expect(pinBundleV2(tampered as never, null)).toMatchObject({ ok: false, code: 'LEAF_MISMATCH' });
    expect(pinBundleV2(tampered as never, pinnedTrust({ contract: CONTRACT, anchorer: ANCHORER }))).toMatchObject({ ok: false, code: 'LEAF_MISMATCH' });
  });

  it('a trust file pins through its v2 deployment\'s anchorers', () => {
    const file = loadTrustFile({
      format: 'claimtrail-trust-v1',
      issuer: 't',
      deployments: [
        { chainId: 31337, contract: V1_CONTRACT, version: 'v1', deploymentBlock: 0 },
        { chainId: 31337, contract: CONTRACT, version: 'v2', deploymentBlock: 0, anchorers: [OTHER, ANCHORER] },
      ],
    });
    expect(pinBundleV2(loadProofBundleV2(bundle), file)).toEqual({ ok: true, pin: { chainId: 31337, contract: CONTRACT, anchorer: ANCHORER } });
    expect(deploymentsFor(file, 'v1').deployments.map((d) => d.contract)).toEqual([V1_CONTRACT]);
  });
});
