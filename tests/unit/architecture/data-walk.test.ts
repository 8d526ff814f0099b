import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');

/** Rows of the data-walk table: its files and functions, as written in backticks. */
function walkRows(): Array<{ step: string; files: string[]; symbols: string[] }> {
  const section = doc.split('## The walk of one claim')[1]!.split('\n## ')[0]!;
  return section
    .split('\n')
    .filter((line) => /^\| \d+ \|/.test(line))
    .map((line) => {
      const cells = line.split('|').map((c) => c.trim());
      const ticks = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
      return { step: cells[1]!, files: ticks(cells[3]!), symbols: ticks(cells[4]!) };
    });
}

/** True when `symbol` (`fn`, `Class`, `Class.method`) is defined in one of `files`. */
function defined(symbol: string, files: string[]): boolean {
  const [owner, member] = symbol.includes('.') ? symbol.split('.') : [undefined, symbol];
  return files.some((file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    if (file.endsWith('.sol')) return new RegExp(`function ${member}\\s*\\(`).test(text);
    if (owner && !new RegExp(`class ${owner}\\b`).test(text)) return false;
    const asMember = new RegExp(`^\\s+(?:async\\s+)?#?${member}\\s*\\(`, 'm');
    const asExport = new RegExp(`export (?:async )?(?:function|class|const) ${member}\\b`);
    return owner ? asMember.test(text) : asExport.test(text) || asMember.test(text);
  });
}

describe('docs/architecture.md data walk', () => {
  const rows = walkRows();

  it('walks at least from the producer to the contract and the verifier', () => {
    expect(rows.length).toBeGreaterThanOrEqual(15);
  });

  it.each(rows.map((r) => [r.step, r] as const))('step %s names files that exist and functions defined in them', (_step, row) => {
    expect(row.files.length).toBeGreaterThan(0);
    expect(row.symbols.length).toBeGreaterThan(0);
    for (const file of row.files) expect(existsSync(join(ROOT, file)), file).toBe(true);
    for (const symbol of row.symbols) expect(defined(symbol, row.files), `${symbol} in ${row.files.join(', ')}`).toBe(true);
  });

  it('lists every top-level room of the repository in the room table', () => {
    const rooms = ['core', 'domain', 'infra', 'fixtures', 'ingest', 'scoring', 'training', 'federation', 'anchoring', 'workers', 'privacy', 'proofs', 'review', 'monitoring', 'pipeline', 'contracts', 'stack', 'cli', 'bench', 'tests', 'deploy', 'docs'];
    for (const room of rooms) {
      expect(existsSync(join(ROOT, room)), room).toBe(true);
      expect(doc.includes(`\`${room}/\``), room).toBe(true);
    }
  });
});
