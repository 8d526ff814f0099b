import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ANCHORING_ERROR_CODES, VERIFICATION_CODES } from '../../../anchoring/core/errors.ts';
import { ERROR_CODES, isErrorCode } from '../../../core/error-codes.ts';
import { VERIFY_EXIT_CODES } from '../../../cli/commands/verify.command.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SKIP = new Set(['node_modules', 'artifacts', 'cache', '.state', 'tests', 'coverage', '.git']);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (SKIP.has(name)) return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

describe('error code registry (core/error-codes.ts)', () => {
  it('registers every code the pure anchoring core throws (its mirror matches)', () => {
    for (const code of ANCHORING_ERROR_CODES) expect(isErrorCode(code), code).toBe(true);
  });

  it('gives every verification code a verify exit code', () => {
    expect(Object.keys(VERIFY_EXIT_CODES).sort()).toEqual([...VERIFICATION_CODES].sort());
  });

  it('registers every code thrown or matched in the sources', () => {
    const used = new Map<string, string>();
    const pattern = /(?:Error|super)\(\s*'([A-Z][A-Z0-9_]+)'|\.code === '([A-Z][A-Z0-9_]+)'/g;
    // Codes of other libraries matched at the edges (Node's errno codes, ethers' error codes).
    const foreign = /^(E[A-Z]+|CALL_EXCEPTION|NONCE_EXPIRED|REPLACEMENT_UNDERPRICED|INSUFFICIENT_FUNDS|TRANSACTION_REPLACED|TIMEOUT|NETWORK_ERROR|SERVER_ERROR|UNKNOWN_ERROR|BAD_DATA)$/;
    for (const file of sources(ROOT)) {
      for (const match of readFileSync(file, 'utf8').matchAll(pattern)) {
        const code = (match[1] ?? match[2])!;
        if (!foreign.test(code)) used.set(code, relative(ROOT, file));
      }
    }
    expect(used.size).toBeGreaterThan(20);
    const unregistered = [...used].filter(([code]) => !isErrorCode(code)).map(([code, file]) => `${code} (${file})`);
    expect(unregistered).toEqual([]);
  });

  it('says what each code means', () => {
    for (const [code, meaning] of Object.entries(ERROR_CODES)) expect(meaning.length, code).toBeGreaterThan(10);
  });
});
