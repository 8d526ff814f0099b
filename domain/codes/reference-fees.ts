/**
 * Reference data about procedure codes (CPT / HCPCS Level II): what a unit of service typically
 * costs, how many units one line may plausibly carry, what kind of service it is, and which lab
 * panels are made of which component tests.
 *
 * The fees are typical *billed charges* in US dollars per unit (roughly 2-3x Medicare rates, the
 * level providers put on claims), not payer-allowed amounts. `maxUnits` plays the role of CMS's
 * Medically Unlikely Edits (MUE): the most units of the code one provider can report for one
 * member on one date of service; more is treated as an impossible quantity.
 *
 * This table is demonstration data, sized for the synthetic generator and the features. A payer
 * replaces it with its own fee schedule and the CMS MUE file; codes not listed here are simply
 * not compared against a reference (features treat them as neutral).
 */

/** Kind of service a code stands for; diagnoses declare which kinds they can justify. */
export type ServiceCategory =
  | 'em_office'
  | 'em_er'
  | 'em_hospital'
  | 'critical_care'
  | 'observation'
  | 'venipuncture'
  | 'lab_panel'
  | 'lab_component'
  | 'lab'
  | 'imaging_xray'
  | 'imaging_advanced'
  | 'ultrasound'
  | 'cardio_test'
  | 'injection'
  | 'drug'
  | 'vaccine'
  | 'therapy'
  | 'derm_proc'
  | 'surgery';

export interface ProcedureReference {
  /** CPT / HCPCS code. */
  code: string;
  /** Short description, for humans. */
  description: string;
  /** Typical billed charge per unit, USD. */
  fee: number;
  /** Most units plausible on one line (one date of service); MUE-like. */
  maxUnits: number;
  category: ServiceCategory;
  /** For E/M codes: the level, 1 (lowest) to 5 (highest) within its family. */
  emLevel?: number;
}

type Row = readonly [code: string, fee: number, maxUnits: number, category: ServiceCategory, description: string, emLevel?: number];

const ROWS: readonly Row[] = [
  // Office / outpatient evaluation and management, established patient.
  ['99211', 35, 1, 'em_office', 'office visit, level 1', 1],
  ['99212', 80, 1, 'em_office', 'office visit, level 2', 2],
  ['99213', 120, 1, 'em_office', 'office visit, level 3', 3],
  ['99214', 180, 1, 'em_office', 'office visit, level 4', 4],
  ['99215', 250, 1, 'em_office', 'office visit, level 5', 5],
  // Emergency department visits.
  ['99281', 90, 1, 'em_er', 'emergency visit, level 1', 1],
  ['99282', 170, 1, 'em_er', 'emergency visit, level 2', 2],
  ['99283', 300, 1, 'em_er', 'emergency visit, level 3', 3],
  ['99284', 520, 1, 'em_er', 'emergency visit, level 4', 4],
  ['99285', 780, 1, 'em_er', 'emergency visit, level 5', 5],
  // Hospital inpatient care (levels mapped onto 1..5 so they compare with office E/M).
  ['99221', 230, 1, 'em_hospital', 'initial hospital care, low', 2],
  ['99222', 310, 1, 'em_hospital', 'initial hospital care, moderate', 3],
  ['99223', 450, 1, 'em_hospital', 'initial hospital care, high', 5],
  ['99231', 110, 1, 'em_hospital', 'subsequent hospital care, low', 2],
  ['99232', 160, 1, 'em_hospital', 'subsequent hospital care, moderate', 3],
  ['99233', 230, 1, 'em_hospital', 'subsequent hospital care, high', 5],
  ['99238', 160, 1, 'em_hospital', 'hospital discharge day', 3],
  ['99291', 850, 1, 'critical_care', 'critical care, first hour'],
  ['G0378', 70, 72, 'observation', 'hospital observation, per hour'],
  ['36415', 15, 2, 'venipuncture', 'routine venipuncture'],
  // Lab panels and single tests.
  ['80053', 60, 1, 'lab_panel', 'comprehensive metabolic panel'],
  ['80048', 45, 1, 'lab_panel', 'basic metabolic panel'],
  ['85025', 40, 1, 'lab_panel', 'complete blood count with differential'],
  ['80061', 55, 1, 'lab_panel', 'lipid panel'],
  ['83036', 45, 1, 'lab', 'hemoglobin A1c'],
  ['84443', 60, 1, 'lab', 'thyroid stimulating hormone'],
  ['81001', 18, 2, 'lab', 'urinalysis with microscopy'],
  ['87880', 35, 2, 'lab', 'rapid strep test'],
  ['87804', 40, 3, 'lab', 'rapid influenza test'],
  ['84484', 75, 3, 'lab', 'troponin, quantitative'],
  ['85610', 20, 2, 'lab', 'prothrombin time'],
  ['87086', 30, 2, 'lab', 'urine culture'],
  // Panel components (billed alone they are ordinary tests; billed together, unbundling).
  ['82040', 18, 1, 'lab_component', 'albumin'],
  ['82247', 20, 1, 'lab_component', 'bilirubin, total'],
  ['82310', 18, 1, 'lab_component', 'calcium, total'],
  ['82374', 17, 1, 'lab_component', 'carbon dioxide'],
  ['82435', 16, 1, 'lab_component', 'chloride'],
  ['82565', 20, 1, 'lab_component', 'creatinine'],
  ['82947', 14, 2, 'lab_component', 'glucose, quantitative'],
  ['84075', 18, 1, 'lab_component', 'alkaline phosphatase'],
  ['84132', 16, 1, 'lab_component', 'potassium'],
  ['84155', 14, 1, 'lab_component', 'protein, total'],
  ['84295', 17, 1, 'lab_component', 'sodium'],
  ['84450', 19, 1, 'lab_component', 'AST'],
  ['84460', 19, 1, 'lab_component', 'ALT'],
  ['84520', 15, 1, 'lab_component', 'urea nitrogen (BUN)'],
  ['85004', 25, 1, 'lab_component', 'automated differential WBC count'],
  ['85018', 12, 1, 'lab_component', 'hemoglobin'],
  ['85014', 12, 1, 'lab_component', 'hematocrit'],
  ['85041', 10, 1, 'lab_component', 'red blood cell count'],
  ['85048', 10, 1, 'lab_component', 'white blood cell count'],
  ['85049', 14, 1, 'lab_component', 'platelet count'],
  ['82465', 20, 1, 'lab_component', 'cholesterol, total'],
  ['83718', 25, 1, 'lab_component', 'HDL cholesterol'],
  ['84478', 22, 1, 'lab_component', 'triglycerides'],
  // Imaging.
  ['71046', 110, 2, 'imaging_xray', 'chest x-ray, 2 views'],
  ['73030', 95, 2, 'imaging_xray', 'shoulder x-ray'],
  ['73562', 105, 2, 'imaging_xray', 'knee x-ray, 3 views'],
  ['73610', 95, 2, 'imaging_xray', 'ankle x-ray, 3 views'],
  ['72100', 120, 2, 'imaging_xray', 'lumbar spine x-ray'],
  ['70450', 650, 1, 'imaging_advanced', 'CT head without contrast'],
  ['74177', 1500, 1, 'imaging_advanced', 'CT abdomen and pelvis with contrast'],
  ['72148', 1600, 1, 'imaging_advanced', 'MRI lumbar spine'],
  ['73721', 1500, 1, 'imaging_advanced', 'MRI knee'],
  ['76700', 420, 1, 'ultrasound', 'abdominal ultrasound'],
  // Cardiology tests.
  ['93000', 60, 2, 'cardio_test', 'electrocardiogram'],
  ['93306', 900, 1, 'cardio_test', 'echocardiogram'],
  ['93015', 450, 1, 'cardio_test', 'cardiovascular stress test'],
  // Injections, infusions, drugs (drug units are dose units).
  ['20610', 190, 2, 'injection', 'major joint injection'],
  ['96372', 45, 4, 'injection', 'therapeutic injection, IM/SC'],
  ['96374', 110, 1, 'injection', 'IV push, single drug'],
  ['96360', 180, 1, 'injection', 'IV hydration, first hour'],
  ['J1100', 4, 120, 'drug', 'dexamethasone, 1 mg'],
  ['J3301', 9, 8, 'drug', 'triamcinolone, 10 mg'],
  ['J2405', 3, 32, 'drug', 'ondansetron, 1 mg'],
  ['J1885', 6, 8, 'drug', 'ketorolac, 15 mg'],
  ['J0696', 25, 16, 'drug', 'ceftriaxone, 250 mg'],
  ['J7050', 20, 12, 'drug', 'normal saline, 250 cc'],
  ['J1030', 12, 8, 'drug', 'methylprednisolone, 40 mg'],
  ['90686', 35, 1, 'vaccine', 'influenza vaccine'],
  ['90471', 30, 1, 'vaccine', 'immunization administration'],
  // Therapy (units of 15 minutes).
  ['97110', 55, 6, 'therapy', 'therapeutic exercise, 15 min'],
  ['97140', 50, 4, 'therapy', 'manual therapy, 15 min'],
  ['97112', 55, 4, 'therapy', 'neuromuscular re-education, 15 min'],
  // Dermatology.
  ['17000', 130, 1, 'derm_proc', 'destruction of premalignant lesion, first'],
  ['17003', 20, 13, 'derm_proc', 'destruction of premalignant lesion, each additional'],
  ['11102', 160, 1, 'derm_proc', 'tangential skin biopsy'],
  // Surgery.
  ['27447', 32_000, 1, 'surgery', 'total knee arthroplasty'],
  ['47562', 12_000, 1, 'surgery', 'laparoscopic cholecystectomy'],
  ['44970', 10_000, 1, 'surgery', 'laparoscopic appendectomy'],
  ['27245', 18_000, 1, 'surgery', 'treatment of femoral fracture, intramedullary implant'],
];

/** Every code this table knows, by code. */
export const PROCEDURES: ReadonlyMap<string, ProcedureReference> = new Map(
  ROWS.map(([code, fee, maxUnits, category, description, emLevel]) => [
    code,
    Object.freeze(emLevel === undefined ? { code, description, fee, maxUnits, category } : { code, description, fee, maxUnits, category, emLevel }),
  ]),
);

/** The reference entry for a code, or undefined when the table does not know it. */
export function procedureReference(code: string): ProcedureReference | undefined {
  return PROCEDURES.get(code);
}

/**
 * Lab panels and the component tests they include. Billing most of a panel's components as
 * separate lines on one claim instead of the panel code is the classic unbundling pattern.
 */
export const PANEL_COMPONENTS: ReadonlyMap<string, readonly string[]> = new Map([
  ['80053', ['82040', '82247', '82310', '82374', '82435', '82565', '82947', '84075', '84132', '84155', '84295', '84450', '84460', '84520']],
  ['80048', ['82310', '82374', '82435', '82565', '82947', '84132', '84295', '84520']],
  ['85025', ['85004', '85018', '85014', '85041', '85048', '85049']],
  ['80061', ['82465', '83718', '84478']],
]);

/** E/M codes at the top level of their family (office 99215, ER 99285, hospital 99223/99233). */
export const HIGHEST_LEVEL_EM: ReadonlySet<string> = new Set(['99215', '99285', '99223', '99233']);
