import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run lint:alerts`: `promtool check rules` on deploy/prometheus/alerts.yml and `promtool test
 * rules` on its unit tests (a firing and a non-firing case per alert). Without promtool on the
 * machine it prints one line and passes; .ci/run installs it (Debian package `prometheus`), so CI
 * always runs both.
 */
const here = dirname(fileURLToPath(import.meta.url));
const rules = join(here, 'prometheus', 'alerts.yml');
const tests = join(here, 'prometheus', 'alerts.test.yml');

const probe = spawnSync('promtool', ['--version'], { stdio: 'ignore' });
if (probe.error) {
  process.stdout.write('lint:alerts: skipped: promtool is not installed (apt-get install prometheus); CI installs it and runs these checks\n');
  process.exit(0);
}
for (const args of [['check', 'rules', rules], ['test', 'rules', tests]]) {
  const run = spawnSync('promtool', args, { stdio: 'inherit' });
  if (run.status !== 0) {
    process.stderr.write(`lint:alerts: promtool ${args.slice(0, 2).join(' ')} failed\n`);
    process.exit(run.status ?? 1);
  }
}
