import { describe, expect, it } from 'vitest';
import type { StoredLogIdentity } from '../../../anchoring/log-identity.repository.ts';
import { fingerprintReads, logIdentityProblems, recordFingerprint, type LiveLogIdentity } from '../../../pipeline/log-identity.ts';

const FP = recordFingerprint(Buffer.from('k'), Buffer.from('v'));
const stored = (over: Partial<StoredLogIdentity> = {}): StoredLogIdentity => ({
  clusterId: 'cluster-A',
  partitions: [{ partition: 0, firstOffset: '0', sha256: FP }],
  lastBatched: new Map([[0, 9n]]),
  ...over,
});
const live = (over: Partial<LiveLogIdentity> = {}): LiveLogIdentity => ({
  clusterId: 'cluster-A',
  partitions: [{ partition: 0, low: '0', high: '20' }],
  atFingerprint: new Map([[0, { offset: '0', sha256: FP }]]),
  ...over,
});

describe('Kafka log identity (pure comparison)', () => {
  it('accepts the same log, and a first start with nothing stored', () => {
    expect(logIdentityProblems('d', stored(), live())).toEqual([]);
    expect(logIdentityProblems('d', { clusterId: null, partitions: [], lastBatched: new Map() }, live())).toEqual([]);
  });

  it('refuses another cluster id', () => {
    expect(logIdentityProblems('d', stored(), live({ clusterId: 'cluster-B' }))).toEqual(['Kafka cluster id is cluster-B, this schema\'s batches were made on cluster cluster-A']);
  });

  it('refuses another first record, a missing one, and a log ending before the stored batches', () => {
    expect(logIdentityProblems('d', stored(), live({ atFingerprint: new Map([[0, { offset: '0', sha256: recordFingerprint(null, Buffer.from('v')) }]]) }))[0]).toContain('another record at offset 0');
    expect(logIdentityProblems('d', stored(), live({ atFingerprint: new Map([[0, null]]) }))[0]).toContain('another record');
    const short = logIdentityProblems('d', stored(), live({ partitions: [{ partition: 0, low: '0', high: '3' }] }));
    expect(short).toEqual(['d/0 high watermark 3 is not beyond the last stored batch offset 9 (topic recreated or truncated)']);
    expect(logIdentityProblems('d', stored({ partitions: [{ partition: 0, firstOffset: '5', sha256: FP }] }), live({ partitions: [{ partition: 0, low: '0', high: '3' }], atFingerprint: new Map() }))[0]).toContain('before its first record at 5');
  });

  it('refuses a partition that disappeared', () => {
    expect(logIdentityProblems('d', stored(), live({ partitions: [], atFingerprint: new Map() }))).toEqual(['d partition 0 no longer exists']);
  });

  it('does not compare a first record retention removed', () => {
    const retained = live({ partitions: [{ partition: 0, low: '4', high: '20' }], atFingerprint: new Map() });
    expect(fingerprintReads(stored(), retained).size).toBe(0);
    expect(logIdentityProblems('d', stored(), retained)).toEqual([]);
  });

  it('reads the stored offset of known partitions and the low watermark of new non-empty ones', () => {
    const reads = fingerprintReads(stored(), { partitions: [{ partition: 0, low: '0', high: '20' }, { partition: 1, low: '3', high: '7' }, { partition: 2, low: '0', high: '0' }] });
    expect([...reads]).toEqual([[0, '0'], [1, '3']]);
  });

  it('fingerprints key and value apart', () => {
    expect(recordFingerprint(Buffer.from('ab'), Buffer.from('c'))).not.toBe(recordFingerprint(Buffer.from('a'), Buffer.from('bc')));
    expect(recordFingerprint(null, Buffer.alloc(0))).not.toBe(recordFingerprint(Buffer.alloc(0), Buffer.alloc(0)));
  });
});
