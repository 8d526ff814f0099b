import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type IConfiguration } from 'dependency-cruiser';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const config = createRequire(import.meta.url)(join(ROOT, '.dependency-cruiser.cjs')) as { forbidden: IConfiguration['forbidden']; options: Record<string, unknown> };

/** Cruises a tree of small files laid out like the repo and returns the names of the rules broken. */
async function violations(files: Record<string, string>): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'claimtrail-depcruise-'));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const previous = process.cwd();
  process.chdir(dir);
  try {
    const result = await cruise(Object.keys(files).map((f) => f.split('/')[0]!).filter((v, i, a) => a.indexOf(v) === i), {
      validate: true,
      ruleSet: { forbidden: config.forbidden },
      doNotFollow: { path: 'node_modules' },
    });
    const output = result.output as { summary: { violations: Array<{ rule: { name: string } }> } };
    return [...new Set(output.summary.violations.map((v) => v.rule.name))].sort();
  } finally {
    process.chdir(previous);
  }
}
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('dependency rules (.dependency-cruiser.cjs)', () => {
  it('pass a tree that follows the directions', async () => {
    expect(await violations({
      'core/errors.ts': 'export const x = 1;\n',
      'domain/claim.ts': "import { x } from '../core/errors.ts';\nexport const y = x;\n",
      'scoring/scorer.ts': "import { y } from '../domain/claim.ts';\nexport const z = y;\n",
      'training/train.ts': "import { z } from '../scoring/scorer.ts';\nexport const t = z;\n",
      'cli/main.ts': "import { t } from '../training/train.ts';\nimport { s } from '../stack/dev.ts';\nexport const m = t + s;\n",
      'stack/dev.ts': "import { x } from '../core/errors.ts';\nexport const s = x;\n",
    })).toEqual([]);
  });

  it('fail when scoring imports training', async () => {
    expect(await violations({
      'training/mlp.ts': 'export const m = 1;\n',
      'scoring/ensemble.ts': "import { m } from '../training/mlp.ts';\nexport const e = m;\n",
    })).toEqual(['room-scoring']);
  });

  it('let monitoring read the review app, and fail when the review app imports monitoring', async () => {
    expect(await violations({
      'review/audit.ts': 'export const a = 1;\n',
      'monitoring/relay.ts': "import { a } from '../review/audit.ts';\nexport const r = a;\n",
    })).toEqual([]);
    expect(await violations({
      'monitoring/alerts.ts': 'export const al = 1;\n',
      'review/compliance.ts': "import { al } from '../monitoring/alerts.ts';\nexport const c = al;\n",
    })).toEqual(['room-review']);
  });

  it('fail when the pure anchoring core imports anything else of ours', async () => {
    expect(await violations({
      'core/errors.ts': 'export const x = 1;\n',
      'anchoring/core/leaf.ts': "import { x } from '../../core/errors.ts';\nexport const l = x;\n",
    })).toEqual(['room-anchoring-core']);
  });

  it('fail when a production room imports the dev stack, the tests or the benchmarks', async () => {
    expect(await violations({
      'stack/dev-signer.ts': 'export const k = 1;\n',
      'tests/support/env.ts': 'export const e = 1;\n',
      'pipeline/runtime.ts': "import { k } from '../stack/dev-signer.ts';\nexport const r = k;\n",
      'privacy/keys.ts': "import { e } from '../tests/support/env.ts';\nexport const p = e;\n",
    })).toEqual(['production-never-imports-dev-rooms', 'room-pipeline', 'room-privacy']);
  });

  it('fail on a cycle between rooms, and between modules', async () => {
    expect(await violations({
      'ingest/a.ts': "import { b } from '../scoring/b.ts';\nexport const a = 1 + b;\n",
      'scoring/b.ts': "import { a } from '../ingest/a.ts';\nexport const b = a;\n",
    })).toEqual(['no-circular', 'room-ingest', 'room-scoring']);
  });
});
