import { describe, expect, it } from 'vitest';
import { auditLeaf, auditLogTopic, type SealedAuditEntry } from '../../../review/audit/audit-leaf.ts';

const entry: SealedAuditEntry = {
  auditId: '42',
  at: '2026-11-24T00:12:34.567891Z',
  userId: '7',
  userName: 'ivy',
  role: 'investigator',
  action: 'case.view',
  targetType: 'case',
  targetId: '12',
  ip: '10.0.0.5',
  details: { claimId: 'C-1', phi: true },
};

describe('audit leaf', () => {
  it('is a 32-byte hash that ignores the key order of details', () => {
    expect(auditLeaf(entry)).toMatch(/^0x[0-9a-f]{64}$/);
    expect(auditLeaf({ ...entry, details: { phi: true, claimId: 'C-1' } })).toBe(auditLeaf(entry));
  });

  it('changes when any column changes', () => {
    const base = auditLeaf(entry);
    const variants: Array<Partial<SealedAuditEntry>> = [
      { auditId: '43' },
      { at: '2026-11-24T00:12:34.567892Z' },
      { userId: null },
      { userName: 'ian' },
      { role: 'supervisor' },
      { action: 'case.dispose' },
      { targetType: null },
      { targetId: '13' },
      { ip: '10.0.0.6' },
      { details: { claimId: 'C-1', phi: false } },
    ];
    for (const v of variants) expect(auditLeaf({ ...entry, ...v }), JSON.stringify(v)).not.toBe(base);
  });

  it('names one pseudo-topic per database instance', () => {
    expect(auditLogTopic('6f1c7a2e-0000-4000-8000-000000000001')).toBe('claimtrail.audit-log.6f1c7a2e-0000-4000-8000-000000000001');
  });
});
