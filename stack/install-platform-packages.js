// npm decides which optional platform packages to install by the Node that runs npm, not the
// Node our scripts run on. On a machine whose system Node is 20, `npm ci` marks the native
// packages of Hardhat's EDR (engines: node >= 22) as "inert" and leaves them out, although every
// npm script runs on the Node 24 of the `node` devDependency. This postinstall step runs on that
// Node 24 (lifecycle scripts get node_modules/.bin first on PATH), so the nested `npm install`
// below evaluates engines against Node 24 and adds exactly what the lockfile already pins.
// --ignore-scripts stops it from re-entering this script; --no-save leaves the lockfile alone.
import { execFileSync, spawnSync } from 'node:child_process';

/** Loads EDR in a fresh process: Node caches a failed resolution inside this one. */
function edrLoads() {
  const probe = spawnSync(process.execPath, ['-e', "require('@nomicfoundation/edr')"], { stdio: 'ignore' });
  return probe.status === 0;
}

if (!edrLoads()) {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22) {
    console.error(`claimtrail postinstall: running on Node ${process.versions.node}; expected the Node 24 from node_modules/.bin. Run npm from the project root.`);
    process.exit(1);
  }
  console.log(`claimtrail postinstall: adding platform packages npm skipped (re-resolving on Node ${process.versions.node})`);
  execFileSync('npm', ['install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (!edrLoads()) {
    console.error('claimtrail postinstall: @nomicfoundation/edr still cannot load its native package; see README "Troubleshooting".');
    process.exit(1);
  }
}
