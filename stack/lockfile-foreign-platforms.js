// The package registry reachable from our build machines serves only some platform builds of
// packages with native parts (Hardhat's EDR, Rollup, Foundry's anvil/cast, msgpackr-extract);
// the other platforms 404 there, so `npm install` writes a lockfile without them, and `npm ci`
// then refuses that lockfile as out of sync with package.json. This script adds a lock entry
// (name, version, optional, and the os/cpu/libc read from the package name) for each optional
// dependency the lockfile lacks, with the `resolved` tarball URL and the `integrity` the registry
// publishes for it (`npm view <pkg>@<version> dist`), so `npm ci` on a machine of that platform
// checks the tarball like any other. Entries added earlier without integrity are completed the
// same way. Run it after any `npm install` that changes the lockfile: `npm run lock:platforms`;
// `npm run lint:lockfile` (in `npm test`) fails on any entry left without integrity.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const OS = ['darwin', 'linux', 'win32', 'android', 'freebsd', 'openbsd', 'openharmony', 'sunos', 'aix', 'netbsd'];
const CPU = { x64: 'x64', amd64: 'x64', arm64: 'arm64', arm: 'arm', ia32: 'ia32', loong64: 'loong64', ppc64: 'ppc64', riscv64: 'riscv64', s390x: 's390x' };

/** Platform fields npm checks, read from a platform package's name (e.g. edr-linux-arm64-musl). */
function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find((p) => OS.includes(p));
  const cpuPart = parts.find((p) => p in CPU);
  const fields = {};
  if (os) fields.os = [os];
  if (cpuPart) fields.cpu = [CPU[cpuPart]];
  if (parts.some((p) => p.startsWith('musl'))) fields.libc = ['musl'];
  else if (os === 'linux' && parts.some((p) => p.startsWith('gnu'))) fields.libc = ['glibc'];
  return fields;
}

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
let added = 0;
for (const entry of Object.values(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (lock.packages[key]) continue;
    lock.packages[key] = { version, ...(entry.dev ? { dev: true } : {}), optional: true, ...platformOf(name) };
    added += 1;
  }
}
/** The registry's tarball URL and integrity of name@version (npm view, through the configured registry). */
function registryDist(name, version) {
  const out = execFileSync('npm', ['view', `${name}@${version}`, 'dist', '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const dist = JSON.parse(out);
  if (typeof dist?.integrity !== 'string' || typeof dist?.tarball !== 'string') throw new Error(`npm view ${name}@${version}: no dist.integrity / dist.tarball`);
  return { resolved: dist.tarball, integrity: dist.integrity };
}

let completed = 0;
for (const [key, entry] of Object.entries(lock.packages)) {
  if (key === '' || entry.link || entry.inBundle || entry.integrity || entry.version === undefined) continue;
  const name = key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
  const { resolved, integrity } = registryDist(name, entry.version);
  // npm's field order: version, resolved, integrity first.
  const { version, ...rest } = entry;
  lock.packages[key] = { version, resolved, integrity, ...rest };
  completed += 1;
}
// npm keeps lock entries sorted by path (localeCompare, "en"); keep the root ("") first.
const [root, ...rest] = Object.entries(lock.packages);
lock.packages = Object.fromEntries([root, ...rest.sort(([a], [b]) => a.localeCompare(b, 'en'))]);
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lockfile: added ${added} entries for optional platform packages this registry lacks; filled resolved + integrity of ${completed} from the registry`);
