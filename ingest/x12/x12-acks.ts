import type { InterchangeEnvelope } from './x12-envelope.ts';
import type { X12Split } from './x12-interchange.ts';

/**
 * Acknowledgements of an interchange, as X12 text a clearinghouse recognises: a TA1 (interchange),
 * a 999 per functional group (005010X231A1: AK2/IK3/IK4/IK5 per set, AK9) and a 277CA
 * (005010X214) with one status per claim: accepted (A2:20) or rejected (A3:21 with the reason).
 * They carry control numbers, claim ids (CLM01) and provider NPIs, never a person's name.
 */
export interface AckOptions {
  /** Interchange control number of the acknowledgement interchange (9 digits). */
  control: number;
  now: Date;
}

const pad = (s: string, n: number) => s.slice(0, n).padEnd(n, ' ');

/** One acknowledgement interchange per received interchange (TA1 + 999s + 277CA), `~`-terminated. */
export function acknowledgements(split: X12Split, options: AckOptions): string[] {
  return split.interchanges.map((ix, k) => acknowledge(split, ix, { ...options, control: options.control + k }));
}

function acknowledge(split: X12Split, ix: InterchangeEnvelope, { control, now }: AckOptions): string {
  const d8 = now.toISOString().slice(0, 10).replaceAll('-', '');
  const hm = now.toISOString().slice(11, 16).replace(':', '');
  const ctl = String(control).padStart(9, '0').slice(-9);
  const segs: string[] = [];
  // The acknowledgement goes back: sender and receiver swap.
  segs.push(`ISA*00*${pad('', 10)}*00*${pad('', 10)}*${pad(ix.receiver.qualifier, 2)}*${pad(ix.receiver.id, 15)}*${pad(ix.sender.qualifier, 2)}*${pad(ix.sender.id, 15)}*${d8.slice(2)}*${hm}*^*00501*${ctl}*0*${ix.usage || 'P'}*:`);
  const rejected = ix.issues.length > 0 || (split.readError !== null);
  const ta1Code = ix.issues[0]?.ack ?? split.readError?.ta1 ?? '000';
  segs.push(`TA1*${ix.control}*${ix.date}*${ix.time}*${rejected ? 'R' : 'A'}*${ta1Code}`);
  let groups = 0;
  if (!rejected) {
    groups++;
    segs.push(`GS*FA*${ix.receiver.id}*${ix.sender.id}*${d8}*${hm}*${control}*X*005010X231A1`);
    ix.groups.forEach((g, n) => {
      const st = String(n + 1).padStart(4, '0');
      const body: string[] = [`ST*999*${st}*005010X231A1`, `AK1*${g.functionalId}*${g.control}*${g.version}`];
      let accepted = 0;
      for (const set of g.sets) {
        const issues = split.setIssues.get(set.st) ?? set.issues;
        body.push(`AK2*${set.setId}*${set.control}*${set.guide}`);
        for (const i of issues.slice(0, 20)) {
          if (i.position.segment !== undefined) body.push(`IK3*${i.position.segmentId ?? ''}*${i.position.segment}*${i.position.loop?.replace(/^(\d{4}).*$/, '$1') ?? ''}*8`);
          if (i.position.element) body.push(`IK4*${Number(i.position.element.slice(-2).replace(/-.*/, '')) || 1}**7`);
        }
        const setRejected = g.issues.length > 0 || issues.length > 0;
        if (!setRejected) accepted++;
        body.push(setRejected ? `IK5*R*${issues[0]?.ack ?? '5'}` : 'IK5*A');
      }
      const groupCode = g.issues[0]?.ack;
      body.push(`AK9*${accepted === g.sets.length && !groupCode ? 'A' : accepted === 0 ? 'R' : 'P'}*${g.sets.length}*${g.sets.length}*${accepted}${groupCode ? `*${groupCode}` : ''}`);
      body.push(`SE*${body.length + 1}*${st}`);
      for (const seg of body) segs.push(seg);
    });
    segs.push(`GE*${ix.groups.length}*${control}`);
    const claims = split.messages.filter((m) => m.interchange === ix.control);
    if (claims.length > 0) {
      groups++;
      segs.push(`GS*HN*${ix.receiver.id}*${ix.sender.id}*${d8}*${hm}*${control + 1}*X*005010X214`);
      const body: string[] = ['ST*277*0001*005010X214', `BHT*0085*08*${ctl}*${d8}*${hm}*TH`, 'HL*1**20*1', 'NM1*PR*2*CLAIMTRAIL*****PI*CLAIMTRAIL', `TRN*1*${ctl}`, `DTP*050*D8*${d8}`, `DTP*009*D8*${d8}`, 'HL*2*1*21*1', `NM1*41*2******46*${ix.sender.id}`, `TRN*2*${ix.control}`];
      const ok = claims.filter((c) => c.mapped.ok).length;
      body.push(`STC*A1:19*${d8}*WQ`, `QTY*90*${ok}`, `QTY*AA*${claims.length - ok}`);
      let hl = 2;
      for (const c of claims) {
        const provider = hl + 1;
        const npi = c.mapped.ok ? c.mapped.claim.billingProviderNpi : '';
        body.push(`HL*${provider}*2*19*1`, `NM1*85*2******XX*${npi}`);
        body.push(`HL*${provider + 1}*${provider}*PT`, 'NM1*QC*1', `TRN*2*${c.claimId}`);
        // Rejected: A3:21 (missing or invalid information), our reason code in STC12 (free-form text).
        body.push(c.mapped.ok ? `STC*A2:20*${d8}*WQ*${c.mapped.claim.totalCharged}` : ['STC', 'A3:21', d8, 'U', '', '', '', '', '', '', '', '', c.mapped.errors[0]!.code].join('*'));
        body.push(`REF*1K*${c.st}`);
        hl = provider + 1;
      }
      body.push(`SE*${body.length + 1}*0001`);
      // A loop, not push(...body): a 277CA of a big interchange has more segments than a call has arguments.
      for (const seg of body) segs.push(seg);
      segs.push(`GE*1*${control + 1}`);
    }
  }
  segs.push(`IEA*${groups}*${ctl}`);
  return `${segs.join('~')}~`;
}
