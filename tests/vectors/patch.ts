/**
 * The tiny subset of JSON Patch (RFC 6902) the verifier vectors use: `replace`, `add` and
 * `remove` with JSON Pointer paths (RFC 6901). Kept here so every walker (vitest, Hardhat, CLI
 * test) applies a vector the same way; a third party can use any RFC 6902 library instead.
 */

/** One patch operation. `value` is required for `replace` and `add`. */
export interface PatchOp {
  op: 'replace' | 'add' | 'remove';
  path: string;
  value?: unknown;
}

/**
 * Applies `patch` to a deep copy of `doc` and returns the copy.
 * @throws Error when a path does not exist (replace/remove) or its parent does not (add): a
 *   broken vector file, never a verifier result.
 */
export function applyPatch<T>(doc: T, patch: readonly PatchOp[]): T {
  const out = structuredClone(doc) as unknown;
  for (const { op, path, value } of patch) {
    const keys = path.split('/').slice(1).map((k) => k.replaceAll('~1', '/').replaceAll('~0', '~'));
    const last = keys.pop();
    if (last === undefined) throw new Error(`patch path ${JSON.stringify(path)} names the whole document`);
    let parent = out as Record<string, unknown>;
    for (const key of keys) {
      const next = parent[key];
      if (typeof next !== 'object' || next === null) throw new Error(`patch path ${path}: ${key} is not an object or array`);
      parent = next as Record<string, unknown>;
    }
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(index) || index < 0 || index > parent.length || (op !== 'add' && index === parent.length)) {
        throw new Error(`patch path ${path}: no index ${last}`);
      }
      if (op === 'remove') parent.splice(index, 1);
      else if (op === 'add') parent.splice(index, 0, value);
      else parent[index] = value;
    } else {
      if (op !== 'add' && !Object.hasOwn(parent, last)) throw new Error(`patch path ${path}: no member ${last}`);
      if (op === 'remove') delete parent[last];
      else parent[last] = value;
    }
  }
  return out as T;
}
