/**
 * `npm run lint:lockfile` (part of `npm test`): fails when a package-lock.json entry that npm
 * would fetch (it has a `resolved` URL or a `version`) has no `integrity`. Without it `npm ci`
 * installs whatever tarball the registry hands out for that entry, unchecked; the other
 * platforms' builds written by stack/lockfile-foreign-platforms.js were such entries once.
 * The root entry, workspace links and packages bundled inside another are skipped: npm fetches
 * none of them. Exit 0 clean, 1 with the list of entries.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  inBundle?: boolean;
}

/** Paths (`node_modules/x`, with `@version` when known) of the entries npm fetches that lack `integrity`. */
export function lockEntriesWithoutIntegrity(lock: { packages?: Record<string, LockEntry> }): string[] {
  const missing: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    if (path === '' || entry.link || entry.inBundle) continue;
    if ((entry.resolved !== undefined || entry.version !== undefined) && !entry.integrity) missing.push(entry.version ? `${path}@${entry.version}` : path);
  }
  return missing;
}

if (import.meta.main) {
  const file = join(process.cwd(), 'package-lock.json');
  const missing = lockEntriesWithoutIntegrity(JSON.parse(readFileSync(file, 'utf8')) as { packages?: Record<string, LockEntry> });
  if (missing.length > 0) {
    process.stderr.write(`lint:lockfile: ${missing.length} package-lock.json entries have no integrity (run \`npm run lock:platforms\`):\n${missing.map((m) => `  ${m}`).join('\n')}\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write('lint:lockfile: every package-lock.json entry has an integrity\n');
  }
}
