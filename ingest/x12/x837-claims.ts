import type { SegmentTable } from './x12-segments.ts';
import { type EnvelopeIssue, type TransactionSetEnvelope, guideKind } from './x12-envelope.ts';
import { elementRef } from './x12-position.ts';

/**
 * The claims of one 837 transaction set: the HL hierarchy (2000A billing provider, 2000B
 * subscriber, 2000C patient) checked, and every CLM with the segment ranges it is read from.
 * Index ranges are into the SegmentTable, `[start, end)`.
 */
export interface ClaimUnit {
  kind: 'professional' | 'institutional' | 'dental';
  /** 2000A billing provider loop: its HL and the segments before the next HL / first CLM. */
  billing: [number, number];
  /** 2000B subscriber loop, same rule. */
  subscriber: [number, number];
  /** 2000C patient loop when the patient is not the subscriber. */
  patient: [number, number] | null;
  /** The claim: CLM up to the next CLM, HL or SE. */
  claim: [number, number];
}

interface HlNode {
  index: number;
  id: string;
  parent: string;
  level: string;
  childCode: string;
  /** Exclusive end of the loop's own segments (next HL or first CLM). */
  ownEnd: number;
  hasChild: boolean;
}

const LEVEL_PARENT: Record<string, string | null> = { '20': null, '22': '20', '23': '22' };

/**
 * Walks one transaction set (its envelope already read; `slice` for a claim slice, where HL ids
 * skip the loops of other claims). Structural defects of the HL chain
 * reject the set: they come back as issues (999 IK3/IK4), and no claim is returned then.
 */
export function claimUnits(table: SegmentTable, set: TransactionSetEnvelope, options: { slice?: boolean } = {}): { units: ClaimUnit[]; issues: EnvelopeIssue[] } {
  const kind = guideKind(set.guide)!;
  const issues: EnvelopeIssue[] = [];
  const hls = new Map<string, HlNode>();
  const units: ClaimUnit[] = [];
  const last = set.se ?? set.end;
  let current: HlNode | null = null;
  let previousId = 0;
  let claimStart = -1;
  const position = (i: number) => i - set.st + 1;
  const issue = (i: number, code: string, message: string, element: string | undefined, ik304: string) =>
    issues.push({ code, message, position: { st: set.control, loop: loopOf(current), segment: position(i), segmentId: table.id(i), ...(element ? { element } : {}) }, ack: ik304, segmentIndex: i });

  const closeClaim = (end: number) => {
    if (claimStart === -1 || current === null) return;
    const chain = chainOf(current, hls);
    if (chain) units.push({ kind, billing: [chain.billing.index, chain.billing.ownEnd], subscriber: [chain.subscriber.index, chain.subscriber.ownEnd], patient: chain.patient ? [chain.patient.index, chain.patient.ownEnd] : null, claim: [claimStart, end] });
    claimStart = -1;
  };

  for (let i = set.st + 1; i < last; i++) {
    const id = table.id(i);
    if (id === 'HL') {
      closeClaim(i);
      if (current && current.ownEnd === -1) current.ownEnd = i;
      const e = table.elements(i);
      const node: HlNode = { index: i, id: e[1] ?? '', parent: e[2] ?? '', level: e[3] ?? '', childCode: e[4] ?? '', ownEnd: -1, hasChild: false };
      // A claim slice keeps only the claim's parent loops: ids increase there, without the gaps filled.
      const expected = options.slice ? Number(node.id) > previousId : Number(node.id) === previousId + 1;
      if (!/^\d+$/.test(node.id) || !expected) issue(i, 'X12_HL_INVALID', `HL01 '${node.id}' should be ${previousId + 1} (HL ids count up from 1)`, elementRef('HL', 1), '8');
      previousId = Number(node.id) || previousId + 1;
      if (!(node.level in LEVEL_PARENT)) issue(i, 'X12_HL_INVALID', `HL03 '${node.level}' is not 20, 22 or 23`, elementRef('HL', 3), '8');
      else {
        const wanted = LEVEL_PARENT[node.level];
        const parent = hls.get(node.parent);
        if (wanted === null && node.parent !== '') issue(i, 'X12_HL_INVALID', `billing provider HL ${node.id} must have no parent (HL02 '${node.parent}')`, elementRef('HL', 2), '8');
        if (wanted !== null && (!parent || parent.level !== wanted)) issue(i, 'X12_HL_INVALID', `HL02 '${node.parent}' of level ${node.level} must name an earlier HL of level ${wanted}`, elementRef('HL', 2), '8');
        if (parent) parent.hasChild = true;
      }
      if (node.childCode !== '0' && node.childCode !== '1' && node.childCode !== '') issue(i, 'X12_HL_INVALID', `HL04 '${node.childCode}' is not 0 or 1`, elementRef('HL', 4), '7');
      if (hls.has(node.id)) issue(i, 'X12_HL_INVALID', `HL01 '${node.id}' is used twice`, elementRef('HL', 1), '8');
      hls.set(node.id, node);
      current = node;
    } else if (id === 'CLM') {
      closeClaim(i);
      if (current === null || current.level === '20') issue(i, 'X12_LOOP_INVALID', 'CLM (loop 2300) must follow a subscriber (2000B) or patient (2000C) HL', undefined, '2');
      else if (current.ownEnd === -1) current.ownEnd = i;
      claimStart = i;
    }
  }
  closeClaim(last);
  if (current && current.ownEnd === -1) current.ownEnd = last;
  for (const node of options.slice ? [] : hls.values()) {
    if (node.childCode === '1' && !node.hasChild) issue(node.index, 'X12_HL_INVALID', `HL ${node.id} says it has children (HL04 = 1) but none follows`, elementRef('HL', 4), '7');
    if (node.childCode === '0' && node.hasChild) issue(node.index, 'X12_HL_INVALID', `HL ${node.id} says it has no children (HL04 = 0) but one names it as parent`, elementRef('HL', 4), '7');
  }
  if (issues.length === 0 && units.length === 0) issues.push({ code: 'X12_NO_CLAIMS', message: `transaction set ${set.control} holds no CLM`, position: { st: set.control }, ack: '5' });
  return issues.length > 0 ? { units: [], issues } : { units, issues };
}

function loopOf(node: HlNode | null): string | undefined {
  if (!node) return undefined;
  return node.level === '20' ? '2000A' : node.level === '22' ? '2000B' : node.level === '23' ? '2000C' : undefined;
}

function chainOf(node: HlNode, hls: Map<string, HlNode>): { billing: HlNode; subscriber: HlNode; patient: HlNode | null } | null {
  if (node.level === '23') {
    const subscriber = hls.get(node.parent);
    const billing = subscriber ? hls.get(subscriber.parent) : undefined;
    return subscriber && billing ? { billing, subscriber, patient: node } : null;
  }
  if (node.level === '22') {
    const billing = hls.get(node.parent);
    return billing ? { billing, subscriber: node, patient: null } : null;
  }
  return null;
}
