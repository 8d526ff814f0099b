import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockEntriesWithoutIntegrity } from '../../../stack/lockfile-check.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');

/**
 * Every package-lock.json entry npm would fetch (it has a `resolved` URL or a `version`) carries
 * the registry's `integrity`, so `npm ci` checks each tarball, including the other platforms'
 * builds stack/lockfile-foreign-platforms.js adds. `npm run lint:lockfile` runs the same check.
 */
describe('package-lock.json integrity', () => {
  it('has an integrity for every entry with resolved or version', () => {
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8'));
    expect(lockEntriesWithoutIntegrity(lock)).toEqual([]);
  });

  it('reports entries without integrity, and skips the root, links and bundled packages', () => {
    const lock = {
      packages: {
        '': { name: 'x', version: '1.0.0' },
        'node_modules/a': { version: '1.0.0', resolved: 'https://registry.npmjs.org/a/-/a-1.0.0.tgz', integrity: 'sha512-AAAA' },
        'node_modules/b': { version: '2.0.0', optional: true, os: ['darwin'] },
        'node_modules/c': { resolved: 'https://registry.npmjs.org/c/-/c-1.0.0.tgz' },
        'node_modules/d': { resolved: '../d', link: true },
        'node_modules/a/node_modules/e': { version: '1.0.0', inBundle: true },
      },
    };
    expect(lockEntriesWithoutIntegrity(lock)).toEqual(['node_modules/b@2.0.0', 'node_modules/c']);
  });
});
