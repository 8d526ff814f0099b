import { relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Self time of a V8 CPU profile grouped by where the code lives: `amount` is milliseconds, per
 * group (repo folder, npm package, node internals, GC, idle) and per function, largest first.
 */
export interface ProfileSummary extends Tally {
  totalMs: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** `scoring/`, `kafkajs`, `node:internal`, `(garbage collector)`... for one frame's URL. */
function groupOf(url: string, fn: string): string {
  if (url === '') return fn.startsWith('(') ? fn : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  let path = url;
  try {
    if (url.startsWith('file:')) path = fileURLToPath(url);
  } catch {
    return url;
  }
  const nm = path.lastIndexOf(`node_modules${sep}`);
  if (nm >= 0) {
    const rest = path.slice(nm + 'node_modules/'.length).split(sep);
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? path);
  }
  const rel = relative(process.cwd(), path);
  return rel.includes(sep) ? `${rel.split(sep)[0]}/` : rel;
}

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

/** Amounts (ms, bytes) per folder / package and per function, largest first, each with its share of `total`. */
export interface Tally {
  byGroup: Array<{ group: string; amount: number; share: number }>;
  topFunctions: Array<{ fn: string; where: string; amount: number; share: number }>;
}

/** Adds up what each call frame accounts for, by group (see {@link groupOf}) and by function. */
function tally(frames: Iterable<{ callFrame: CallFrame; amount: number }>, total: number, topFunctions: number): Tally {
  const groups = new Map<string, number>();
  const fns = new Map<string, { fn: string; where: string; amount: number }>();
  for (const { callFrame, amount } of frames) {
    if (amount === 0) continue;
    const { functionName, url, lineNumber } = callFrame;
    const group = groupOf(url, functionName);
    groups.set(group, (groups.get(group) ?? 0) + amount);
    const where = url ? `${url.replace(/^file:\/\/.*?\/main\//, '')}:${lineNumber + 1}` : group;
    const key = `${functionName}@${where}`;
    const entry = fns.get(key) ?? { fn: functionName || '(anonymous)', where, amount: 0 };
    entry.amount += amount;
    fns.set(key, entry);
  }
  const share = (amount: number) => (total > 0 ? amount / total : 0);
  return {
    byGroup: [...groups].map(([group, amount]) => ({ group, amount, share: share(amount) })).sort((a, b) => b.amount - a.amount).slice(0, 15),
    topFunctions: [...fns.values()].sort((a, b) => b.amount - a.amount).slice(0, topFunctions).map((f) => ({ ...f, share: share(f.amount) })),
  };
}

/** Summarises a profile from node:inspector's Profiler.stop (same format as `node --cpu-prof` files). */
export function summariseProfile(profile: CpuProfile): ProfileSummary {
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const hits = new Map<number, number>();
  if (profile.samples && profile.timeDeltas) {
    profile.samples.forEach((id, i) => hits.set(id, (hits.get(id) ?? 0) + (profile.timeDeltas![i] ?? 0) / 1000));
  }
  return { totalMs, ...tally(profile.nodes.map((node) => ({ callFrame: node.callFrame, amount: hits.get(node.id) ?? 0 })), totalMs, 15) };
}

interface HeapProfileNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapProfileNode[];
}

/** Bytes allocated per folder / package and per function: what a sampling heap profile says. */
export interface HeapProfileSummary extends Tally {
  totalBytes: number;
}

/**
 * Summarises a sampling heap profile (node:inspector's HeapProfiler.stopSampling with
 * `includeObjectsCollectedByMajorGC` / `...MinorGC`, so it counts what was allocated over the run,
 * not what survived): allocated bytes (`amount`) by the function that allocated them.
 */
export function summariseHeapProfile(head: HeapProfileNode): HeapProfileSummary {
  const nodes: HeapProfileNode[] = [];
  for (const stack = [head]; stack.length > 0; ) {
    const node = stack.pop()!;
    nodes.push(node);
    stack.push(...node.children);
  }
  const totalBytes = nodes.reduce((sum, n) => sum + n.selfSize, 0);
  return { totalBytes, ...tally(nodes.map((n) => ({ callFrame: n.callFrame, amount: n.selfSize })), totalBytes, 20) };
}
