import { id } from 'ethers';
import { describe, expect, it } from 'vitest';
import { federationCitationOf, modelMetadataURI } from '../../../anchoring/chain/model-registration.ts';

const HASH = `0x${'Ab'.repeat(32)}`;

describe('model registration metadata on DecisionAnchorV2', () => {
  it('names the model alone for a model trained in one place', () => {
    expect(modelMetadataURI(HASH)).toBe(`claimtrail-model:0x${'ab'.repeat(32)}`);
    expect(federationCitationOf(undefined)).toBeUndefined();
    expect(federationCitationOf({ cv: { folds: 5 } })).toBeUndefined();
  });

  it('cites the federation id, the lineage digest and the round count of a federated model', () => {
    const digest = 'cd'.repeat(32);
    const training = { federation: { federation: 'consortium-2026', lineageDigest: digest, rounds: [{}, {}, {}] } };
    const citation = federationCitationOf(training);
    expect(citation).toEqual({ federation: 'consortium-2026', lineageDigest: digest, rounds: 3 });
    expect(modelMetadataURI(HASH, citation)).toBe(`claimtrail-model:0x${'ab'.repeat(32)}?federation=${id('consortium-2026')}&lineage=0x${digest}&rounds=3`);
    // With or without 0x, the same URI: verification recomputes it from the bundle's lineage.
    expect(modelMetadataURI(HASH, { ...citation!, lineageDigest: `0x${digest}` })).toBe(modelMetadataURI(HASH, citation));
  });

  it('does not take a malformed lineage for a federation', () => {
    expect(federationCitationOf({ federation: { federation: 7, lineageDigest: 'x', rounds: [] } })).toBeUndefined();
    expect(federationCitationOf({ federation: { federation: 'f', lineageDigest: 'cd', rounds: 'three' } })).toBeUndefined();
  });
});
