import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import { ClaimtrailError } from '../core/errors.ts';

/** The header of the OIG LEIE CSV (List of Excluded Individuals/Entities), 18 columns. */
export const LEIE_COLUMNS = [
  'LASTNAME', 'FIRSTNAME', 'MIDNAME', 'BUSNAME', 'GENERAL', 'SPECIALTY', 'UPIN', 'NPI', 'DOB', 'ADDRESS',
  'CITY', 'STATE', 'ZIP', 'EXCLTYPE', 'EXCLDATE', 'REINDATE', 'WAIVERDATE', 'WVRSTATE',
] as const;

/** An exclusion list file could not be read or is not in the LEIE format. */
export class ExclusionListError extends ClaimtrailError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('EXCLUSION_LIST_INVALID', message, options);
  }
}

/**
 * NPIs excluded as of `asOf` from OIG LEIE files (the monthly supplements or the full list).
 * Rows without an NPI (LEIE writes ten zeros) are skipped: they cannot match a claim. A row whose
 * REINDATE (YYYYMMDD) is on or before `asOf` was reinstated and is skipped too; so is a row
 * excluded only after `asOf`.
 * @throws ExclusionListError when a file is missing or its header is not LEIE's.
 */
export async function loadLeieNpis(paths: readonly string[], asOf: Date = new Date()): Promise<Set<string>> {
  const today = Number(asOf.toISOString().slice(0, 10).replaceAll('-', ''));
  const npis = new Set<string>();
  for (const path of paths) {
    let header = true;
    try {
      const rows = parse({ relax_column_count: true, skip_empty_lines: true, bom: true });
      // pipe() does not forward a read error (missing file): hand it to the parser, or the loop hangs.
      createReadStream(path).on('error', (error) => rows.destroy(error)).pipe(rows);
      for await (const row of rows as AsyncIterable<string[]>) {
        if (header) {
          header = false;
          if (row.length < LEIE_COLUMNS.length || LEIE_COLUMNS.some((c, i) => row[i]?.trim().toUpperCase() !== c)) {
            throw new ExclusionListError(`${path}: not an LEIE CSV (expected the header ${LEIE_COLUMNS.join(',')})`);
          }
          continue;
        }
        const npi = (row[7] ?? '').trim();
        if (!/^\d{10}$/.test(npi) || /^0+$/.test(npi)) continue;
        const excluded = Number(row[14] ?? 0);
        const reinstated = Number(row[15] ?? 0);
        if (excluded > today) continue;
        if (reinstated > 0 && reinstated <= today) continue;
        npis.add(npi);
      }
    } catch (error) {
      if (error instanceof ExclusionListError) throw error;
      throw new ExclusionListError(`${path}: cannot read exclusion list (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
    }
  }
  return npis;
}
