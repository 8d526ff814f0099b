/**
 * Where in an X12 interchange something is, as clearinghouses report it (999 IK3/IK4): the
 * transaction set (ST02), the loop, the segment's position in the set (ST = 1) and the element
 * reference (`NM109`, `CLM05-3`). Rendered as one stable string for DLQ headers and goldens.
 */
export interface X12Position {
  /** ISA13 interchange control number. */
  interchange?: string;
  /** GS06 group control number. */
  group?: string;
  /** ST02 transaction set control number. */
  st?: string;
  /** Loop id of the TR3 (2010AA, 2300, 2400 ...). */
  loop?: string;
  /** 1-based segment position in the transaction set (ST = 1), as 999 IK302. */
  segment?: number;
  segmentId?: string;
  /** Element reference: segment id + 2-digit position, `-n` for a component (CLM05-3). */
  element?: string;
}

/** `ST=0711/loop=2010AA/seg=9:NM1/NM109`; envelope positions name ISA/GS control numbers. */
export function formatPosition(p: X12Position): string {
  const parts: string[] = [];
  if (p.interchange !== undefined) parts.push(`ISA=${p.interchange}`);
  if (p.group !== undefined) parts.push(`GS=${p.group}`);
  if (p.st !== undefined) parts.push(`ST=${p.st}`);
  if (p.loop !== undefined) parts.push(`loop=${p.loop}`);
  if (p.segment !== undefined) parts.push(`seg=${p.segment}${p.segmentId ? `:${p.segmentId}` : ''}`);
  else if (p.segmentId !== undefined) parts.push(p.segmentId);
  if (p.element !== undefined) parts.push(p.element);
  return parts.join('/');
}

/** Element reference: `ref('CLM', 5, 3)` = `CLM05-3`. */
export function elementRef(segmentId: string, element: number, component?: number): string {
  return `${segmentId}${String(element).padStart(2, '0')}${component === undefined ? '' : `-${component}`}`;
}
