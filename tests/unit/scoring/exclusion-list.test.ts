import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXCLUDED_NPIS } from '../../../fixtures/generator.ts';
import { ExclusionListError, loadLeieNpis } from '../../../scoring/exclusion-list.ts';

const SHARED = '../shared/datasets/leie';

describe('OIG LEIE exclusion lists', () => {
  it('reads the NPIs of the real monthly supplements, skipping rows without an NPI', async () => {
    const npis = await loadLeieNpis([`${SHARED}/2305excl.csv`, `${SHARED}/2306excl.csv`], new Date('2024-01-01'));
    expect(npis.has('1477094274')).toBe(true);
    expect(npis.has('1124595145')).toBe(true);
    expect(npis.has('0000000000')).toBe(false);
    expect([...npis].every((n) => /^\d{10}$/.test(n))).toBe(true);
  });

  it('ships a demo list in LEIE format holding exactly the generator excluded providers', async () => {
    const npis = await loadLeieNpis(['fixtures/samples/exclusions-leie.csv']);
    expect([...npis].sort()).toEqual([...EXCLUDED_NPIS].sort());
  });

  it('honours exclusion and reinstatement dates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leie-'));
    const file = join(dir, 'list.csv');
    const header = 'LASTNAME,FIRSTNAME,MIDNAME,BUSNAME,GENERAL,SPECIALTY,UPIN,NPI,DOB,ADDRESS,CITY,STATE,ZIP,EXCLTYPE,EXCLDATE,REINDATE,WAIVERDATE,WVRSTATE';
    const row = (npi: string, excl: string, rein: string) => `,,,X,,,,${npi},,,,,,1128a1,${excl},${rein},00000000,`;
    writeFileSync(file, [header, row('1111111111', '20200101', '00000000'), row('2222222222', '20200101', '20210101'), row('3333333333', '20300101', '00000000')].join('\n'));
    expect([...(await loadLeieNpis([file], new Date('2025-06-01')))]).toEqual(['1111111111']);
  });

  it('rejects a file that is not LEIE and a file that does not exist, with a stable code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leie-'));
    const file = join(dir, 'other.csv');
    writeFileSync(file, 'a,b,c\n1,2,3\n');
    await expect(loadLeieNpis([file])).rejects.toMatchObject({ code: 'EXCLUSION_LIST_INVALID' });
    await expect(loadLeieNpis([join(dir, 'missing.csv')])).rejects.toBeInstanceOf(ExclusionListError);
  });
});
