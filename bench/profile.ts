import { relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Self time of a V8 CPU profile grouped by where the code lives. */
export interface ProfileSummary {
  totalMs: number;
  /** Share of samples per group (repo folder, npm package, node internals, GC, idle), largest first. */
  byGroup: Array<{ group: string; ms: number; share: number }>;
  /** Hottest functions by self time. */
  topFunctions: Array<{ fn: string; where: string; ms: number; share: number }>;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
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

/** Summarises a profile from node:inspector's Profiler.stop (same format as `node --cpu-prof` files). */
export function summariseProfile(profile: CpuProfile): ProfileSummary {
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const hits = new Map<number, number>();
  if (profile.samples && profile.timeDeltas) {
    profile.samples.forEach((id, i) => hits.set(id, (hits.get(id) ?? 0) + (profile.timeDeltas![i] ?? 0) / 1000));
  }
  const groups = new Map<string, number>();
  const fns = new Map<string, { fn: string; where: string; ms: number }>();
  for (const node of profile.nodes) {
    const ms = hits.get(node.id) ?? 0;
    if (ms === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const group = groupOf(url, functionName);
    groups.set(group, (groups.get(group) ?? 0) + ms);
    const where = url ? `${url.replace(/^file:\/\/.*?\/main\//, '')}:${lineNumber + 1}` : group;
    const key = `${functionName}@${where}`;
    const entry = fns.get(key) ?? { fn: functionName || '(anonymous)', where, ms: 0 };
    entry.ms += ms;
    fns.set(key, entry);
  }
  const share = (ms: number) => (totalMs > 0 ? ms / totalMs : 0);
  return {
    totalMs,
    byGroup: [...groups].map(([group, ms]) => ({ group, ms, share: share(ms) })).sort((a, b) => b.ms - a.ms).slice(0, 15),
    topFunctions: [...fns.values()].sort((a, b) => b.ms - a.ms).slice(0, 15).map((f) => ({ ...f, share: share(f.ms) })),
  };
}

interface HeapProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapProfileNode[];
}

/** Bytes allocated, grouped like {@link summariseProfile}: what a sampling heap profile says. */
export interface HeapProfileSummary {
  totalBytes: number;
  byGroup: Array<{ group: string; bytes: number; share: number }>;
  topFunctions: Array<{ fn: string; where: string; bytes: number; share: number }>;
}

/**
 * Summarises a sampling heap profile (node:inspector's HeapProfiler.stopSampling with
 * `includeObjectsCollectedByMajorGC` / `...MinorGC`, so it counts what was allocated over the run,
 * not what survived): allocated bytes by the function that allocated them.
 */
export function summariseHeapProfile(head: HeapProfileNode): HeapProfileSummary {
  const groups = new Map<string, number>();
  const fns = new Map<string, { fn: string; where: string; bytes: number }>();
  let totalBytes = 0;
  const visit = (node: HeapProfileNode): void => {
    if (node.selfSize > 0) {
      const { functionName, url, lineNumber } = node.callFrame;
      const group = groupOf(url, functionName);
      groups.set(group, (groups.get(group) ?? 0) + node.selfSize);
      const where = url ? `${url.replace(/^file:\/\/.*?\/main\//, '')}:${lineNumber + 1}` : group;
      const key = `${functionName}@${where}`;
      const entry = fns.get(key) ?? { fn: functionName || '(anonymous)', where, bytes: 0 };
      entry.bytes += node.selfSize;
      fns.set(key, entry);
      totalBytes += node.selfSize;
    }
    for (const child of node.children) visit(child);
  };
  visit(head);
  const share = (bytes: number) => (totalBytes > 0 ? bytes / totalBytes : 0);
  return {
    totalBytes,
    byGroup: [...groups].map(([group, bytes]) => ({ group, bytes, share: share(bytes) })).sort((a, b) => b.bytes - a.bytes).slice(0, 15),
    topFunctions: [...fns.values()].sort((a, b) => b.bytes - a.bytes).slice(0, 20).map((f) => ({ ...f, share: share(f.bytes) })),
  };
}
