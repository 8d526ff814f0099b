import type { ServiceCategory } from './reference-fees.ts';

/**
 * Reference data about ICD-10-CM diagnosis codes: how complex the condition is and which kinds of
 * service it can medically justify. Features use it for two fraud signals: E/M levels far above
 * what the diagnoses warrant (upcoding) and services no diagnosis on the claim supports (phantom
 * billing). Demonstration data sized for the synthetic generator; unknown codes fall back to a
 * rule by ICD-10 chapter and are treated as supporting everything, so an unfamiliar code never
 * raises a score by itself.
 */

/** 1 = low (routine, self-limited), 2 = chronic / moderate, 3 = acute and serious. */
export type Complexity = 1 | 2 | 3;

export interface DiagnosisReference {
  code: string;
  description: string;
  complexity: Complexity;
  /** Service kinds this diagnosis can justify, on top of E/M visits (which any diagnosis can). */
  supports: ReadonlySet<ServiceCategory>;
}

const LABS: ServiceCategory[] = ['venipuncture', 'lab', 'lab_panel', 'lab_component'];
const INPATIENT: ServiceCategory[] = ['observation', 'critical_care', 'injection', 'drug', ...LABS, 'imaging_xray', 'cardio_test'];

type Row = readonly [code: string, complexity: Complexity, supports: readonly ServiceCategory[], description: string];

const ROWS: readonly Row[] = [
  // Low complexity.
  ['Z00.00', 1, [...LABS, 'vaccine', 'cardio_test'], 'general adult exam without abnormal findings'],
  ['Z23', 1, ['vaccine', 'injection'], 'encounter for immunization'],
  ['J06.9', 1, ['lab'], 'acute upper respiratory infection'],
  ['J02.9', 1, ['lab', 'injection', 'drug'], 'acute pharyngitis'],
  ['H10.9', 1, [], 'conjunctivitis'],
  ['L70.0', 1, ['derm_proc'], 'acne vulgaris'],
  ['B07.9', 1, ['derm_proc'], 'viral wart'],
  ['L82.1', 1, ['derm_proc'], 'seborrheic keratosis'],
  ['N39.0', 1, ['lab', 'venipuncture'], 'urinary tract infection'],
  ['R51.9', 1, ['lab', 'imaging_advanced', 'injection', 'drug'], 'headache'],
  ['S93.401A', 1, ['imaging_xray', 'injection', 'drug'], 'ankle sprain, initial encounter'],
  // Chronic / moderate.
  ['E11.9', 2, [...LABS], 'type 2 diabetes without complications'],
  ['I10', 2, [...LABS, 'cardio_test'], 'essential hypertension'],
  ['E78.5', 2, [...LABS], 'hyperlipidemia'],
  ['E03.9', 2, [...LABS], 'hypothyroidism'],
  ['J44.9', 2, ['imaging_xray', 'injection', 'drug', ...LABS], 'COPD'],
  ['I50.9', 2, [...LABS, 'cardio_test', 'imaging_xray', 'ultrasound', 'drug'], 'heart failure'],
  ['N18.30', 2, [...LABS, 'ultrasound'], 'chronic kidney disease, stage 3'],
  ['M17.11', 2, ['imaging_xray', 'imaging_advanced', 'injection', 'drug', 'therapy', 'surgery'], 'primary osteoarthritis, right knee'],
  ['M54.50', 2, ['imaging_xray', 'imaging_advanced', 'injection', 'drug', 'therapy'], 'low back pain'],
  ['F32.A', 2, ['lab'], 'depression, unspecified'],
  ['D48.5', 2, ['derm_proc'], 'neoplasm of uncertain behavior of skin'],
  ['Z47.1', 2, ['therapy', 'imaging_xray'], 'aftercare following joint replacement'],
  // Acute, serious.
  ['I21.4', 3, [...INPATIENT, 'ultrasound', 'imaging_advanced'], 'NSTEMI'],
  ['R07.9', 3, [...INPATIENT], 'chest pain'],
  ['J18.9', 3, [...INPATIENT], 'pneumonia'],
  ['A41.9', 3, [...INPATIENT, 'imaging_advanced', 'ultrasound'], 'sepsis'],
  ['I63.9', 3, [...INPATIENT, 'imaging_advanced', 'therapy', 'ultrasound'], 'cerebral infarction'],
  ['K35.80', 3, [...INPATIENT, 'imaging_advanced', 'ultrasound', 'surgery'], 'acute appendicitis'],
  ['K80.20', 3, [...INPATIENT, 'imaging_advanced', 'ultrasound', 'surgery'], 'gallstones'],
  ['S72.001A', 3, [...INPATIENT, 'imaging_advanced', 'surgery', 'therapy'], 'fracture of femoral neck'],
  ['R10.9', 3, [...INPATIENT, 'imaging_advanced', 'ultrasound'], 'abdominal pain'],
];

/** Every diagnosis this table knows, keyed by code without the dot (E119, not E11.9). */
export const DIAGNOSES: ReadonlyMap<string, DiagnosisReference> = new Map(
  ROWS.map(([code, complexity, supports, description]) => [normalizeIcd10(code), Object.freeze({ code, description, complexity, supports: new Set(supports) })]),
);

/** The codes of one complexity, dotted as in the table. */
export function diagnosesOf(complexity: Complexity): string[] {
  return ROWS.filter((r) => r[1] === complexity).map((r) => r[0]);
}

/** ICD-10 codes compare without their dot and in upper case. */
export function normalizeIcd10(code: string): string {
  return code.replace('.', '').toUpperCase();
}

/** Reference entry for a diagnosis code (dotted or not), or undefined when unknown. */
export function diagnosisReference(code: string): DiagnosisReference | undefined {
  return DIAGNOSES.get(normalizeIcd10(code));
}

/**
 * Complexity of any ICD-10 code: the table's value when known, otherwise a coarse chapter rule
 * (Z/R codes low, injuries S/T and infections A serious, everything else chronic).
 */
export function complexityOf(code: string): Complexity {
  const known = diagnosisReference(code);
  if (known) return known.complexity;
  const chapter = code[0]?.toUpperCase() ?? 'Z';
  if (chapter === 'Z' || chapter === 'R') return 1;
  if (chapter === 'S' || chapter === 'T' || chapter === 'A') return 3;
  return 2;
}
