import type { Claim } from '../domain/claim.schema.ts';
import { InvalidArgumentError } from '../core/errors.ts';
import { dayNumber } from '../domain/dates.ts';
import { complexityOf, diagnosisReference } from '../domain/codes/diagnoses.ts';
import { HIGHEST_LEVEL_EM, PANEL_COMPONENTS, procedureReference, type ServiceCategory } from '../domain/codes/reference-fees.ts';

/**
 * The stateless feature vector of a claim: numbers computed from the claim alone (no history, no
 * other claims). Order and meaning are fixed: a model bundle records FEATURE_NAMES and refuses to
 * load against a different list. Adding, removing or reordering a feature is a new model.
 *
 * Every feature is finite for every schema-valid claim. Codes unknown to the reference tables
 * are neutral (they never push a ratio or a share up).
 */

export interface FeatureSpec {
  /** snake_case name, stable: it is written into model manifests. */
  name: string;
  /** Reason code used when this feature explains a score, `F_...`. */
  reasonCode: string;
  /** What the number is, with its unit. */
  doc: string;
}

export const FEATURES: readonly FeatureSpec[] = Object.freeze([
  { name: 'log_total_charged', reasonCode: 'F_TOTAL_CHARGED', doc: 'ln(1 + totalCharged in USD)' },
  { name: 'line_count', reasonCode: 'F_LINE_COUNT', doc: 'number of service lines' },
  { name: 'log_units_total', reasonCode: 'F_UNITS_TOTAL', doc: 'ln(1 + sum of units over all lines)' },
  { name: 'log_units_max', reasonCode: 'F_UNITS_MAX', doc: 'ln(1 + largest units on one line)' },
  { name: 'units_max_ratio', reasonCode: 'F_UNITS_VS_MAXIMUM', doc: 'largest units / per-line maximum (MUE-like) of the code, over known codes; 0 when none is known' },
  { name: 'log_max_charge_per_unit', reasonCode: 'F_MAX_CHARGE_PER_UNIT', doc: 'ln(1 + largest chargedAmount / units over lines), USD' },
  { name: 'charge_ratio_max', reasonCode: 'F_CHARGE_PER_UNIT', doc: 'largest (charge per unit / reference fee) over lines with a known code; 1 when none is known' },
  { name: 'charge_ratio_total', reasonCode: 'F_CHARGE_VS_REFERENCE', doc: 'sum of charges / sum of reference fee x units, over lines with a known code; 1 when none is known' },
  { name: 'em_high_share', reasonCode: 'F_HIGH_LEVEL_EM', doc: 'share of E/M lines at the top level of their family (99215, 99285, 99223, 99233); 0 without E/M' },
  { name: 'em_level_max', reasonCode: 'F_EM_LEVEL', doc: 'highest E/M level on the claim, 1-5; 0 without E/M' },
  { name: 'em_line_count', reasonCode: 'F_EM_LINES', doc: 'number of office / emergency E/M lines' },
  { name: 'dx_count', reasonCode: 'F_DIAGNOSIS_COUNT', doc: 'number of diagnosis codes' },
  { name: 'dx_complexity_max', reasonCode: 'F_DIAGNOSIS_COMPLEXITY', doc: 'highest diagnosis complexity: 1 routine, 2 chronic, 3 acute/serious' },
  { name: 'em_level_excess', reasonCode: 'F_EM_ABOVE_DIAGNOSIS', doc: 'max(0, highest office/ER E/M level - (highest diagnosis complexity + 2)): E/M levels the diagnoses do not explain' },
  { name: 'unsupported_share', reasonCode: 'F_UNSUPPORTED_SERVICES', doc: 'share of non-E/M lines whose kind of service no diagnosis on the claim supports' },
  { name: 'unsupported_lines', reasonCode: 'F_UNSUPPORTED_SERVICE_LINES', doc: 'number of non-E/M lines no diagnosis on the claim supports' },
  { name: 'lab_component_lines', reasonCode: 'F_LAB_COMPONENTS', doc: 'number of lines billing a single component test of a lab panel' },
  { name: 'panel_coverage_max', reasonCode: 'F_PANEL_UNBUNDLED', doc: 'largest share of one panel\'s component tests billed as separate lines, 0-1' },
  { name: 'modifier_59_lines', reasonCode: 'F_MODIFIER_59', doc: 'number of lines with modifier 59 (distinct procedural service)' },
  { name: 'days_of_service', reasonCode: 'F_DAYS_OF_SERVICE', doc: 'serviceTo - serviceFrom + 1, days' },
  { name: 'length_of_stay', reasonCode: 'F_LENGTH_OF_STAY', doc: 'dischargeDate (or serviceTo) - admissionDate, days; 0 without admission' },
  { name: 'distinct_service_dates', reasonCode: 'F_SERVICE_DATES', doc: 'number of distinct line service dates' },
  { name: 'distinct_categories', reasonCode: 'F_SERVICE_MIX', doc: 'number of distinct kinds of service on the claim' },
  { name: 'institutional', reasonCode: 'F_CLAIM_TYPE', doc: '1 for institutional claims, 0 for professional' },
  { name: 'pos_office', reasonCode: 'F_PLACE_OF_SERVICE', doc: '1 when place of service is 11 (office)' },
  { name: 'pos_inpatient', reasonCode: 'F_PLACE_OF_SERVICE', doc: '1 when place of service is 21 (inpatient hospital)' },
  { name: 'pos_outpatient_hospital', reasonCode: 'F_PLACE_OF_SERVICE', doc: '1 when place of service is 22 (outpatient hospital)' },
  { name: 'pos_emergency', reasonCode: 'F_PLACE_OF_SERVICE', doc: '1 when place of service is 23 (emergency room)' },
  { name: 'pos_other', reasonCode: 'F_PLACE_OF_SERVICE', doc: '1 for any other place of service' },
  { name: 'has_date_of_death', reasonCode: 'F_DATE_OF_DEATH', doc: '1 when the member has a recorded date of death' },
  { name: 'log_days_after_death', reasonCode: 'F_SERVICE_AFTER_DEATH', doc: 'ln(1 + days from the date of death to the latest service date), 0 when none is after it' },
  { name: 'lines_outside_admission', reasonCode: 'F_OUTSIDE_ADMISSION', doc: 'number of lines dated before admission or after discharge (institutional)' },
  { name: 'lines_outside_period', reasonCode: 'F_OUTSIDE_SERVICE_PERIOD', doc: 'number of lines dated outside serviceFrom..serviceTo' },
] satisfies FeatureSpec[]);

/** Feature names in vector order. */
export const FEATURE_NAMES: readonly string[] = Object.freeze(FEATURES.map((f) => f.name));

const INDEX = new Map(FEATURE_NAMES.map((n, i) => [n, i]));

/** Position of a feature in the vector; throws InvalidArgumentError for an unknown name. */
export function featureIndex(name: string): number {
  const i = INDEX.get(name);
  if (i === undefined) throw new InvalidArgumentError(`unknown feature ${name}`);
  return i;
}

/** The reason code of a feature. */
export function reasonCodeOf(name: string): string {
  return (FEATURES[featureIndex(name)] as FeatureSpec).reasonCode;
}

const EM_CATEGORIES: ReadonlySet<ServiceCategory> = new Set(['em_office', 'em_er', 'em_hospital']);
const COMPONENT_CODES: ReadonlySet<string> = new Set([...PANEL_COMPONENTS.values()].flat());

/**
 * Intermediate facts about a claim, shared by extraction and by the reason texts. Opaque to
 * callers: get them from `extractFeaturesInto` and hand them back to `describeFeature`.
 */
export interface ClaimFacts {
  unitsMaxRatio: number;
  unitsMaxRatioCode: string;
  unitsMaxRatioUnits: number;
  chargeRatioMax: number;
  chargeRatioMaxCode: string;
  chargeRatioTotal: number;
  maxChargePerUnit: number;
  maxChargePerUnitCode: string;
  unitsMax: number;
  unitsMaxCode: string;
  unitsTotal: number;
  /** Office and emergency E/M lines. */
  emLines: number;
  /** All E/M lines, hospital included. */
  emAllLines: number;
  emHighLines: number;
  emLevelMax: number;
  emLevelMaxCode: string;
  officeErLevelMax: number;
  officeErLevelMaxCode: string;
  dxComplexityMax: number;
  unsupportedCodes: string[];
  nonEmLines: number;
  componentCodes: string[];
  panelCoverageMax: number;
  panelCoverageCode: string;
  modifier59: number;
  daysOfService: number;
  lengthOfStay: number;
  serviceDates: number;
  categories: number;
  daysAfterDeath: number;
  outsideAdmissionCodes: string[];
  outsidePeriod: number;
}

function analyze(claim: Claim): ClaimFacts {
  const supported = new Set<ServiceCategory>();
  let anyUnknownDx = false;
  let dxComplexityMax = 1;
  for (const code of claim.diagnosisCodes) {
    const ref = diagnosisReference(code);
    if (ref) for (const s of ref.supports) supported.add(s);
    else anyUnknownDx = true;
    dxComplexityMax = Math.max(dxComplexityMax, ref ? ref.complexity : complexityOf(code));
  }
  const from = dayNumber(claim.serviceFrom);
  const to = dayNumber(claim.serviceTo);
  const admission = claim.admissionDate ? dayNumber(claim.admissionDate) : undefined;
  const discharge = claim.dischargeDate ? dayNumber(claim.dischargeDate) : undefined;
  const death = claim.memberDateOfDeath ? dayNumber(claim.memberDateOfDeath) : undefined;

  const f: ClaimFacts = {
    unitsMaxRatio: 0, unitsMaxRatioCode: '', unitsMaxRatioUnits: 0,
    chargeRatioMax: 0, chargeRatioMaxCode: '', chargeRatioTotal: 1,
    maxChargePerUnit: 0, maxChargePerUnitCode: '', unitsMax: 0, unitsMaxCode: '', unitsTotal: 0,
    emLines: 0, emAllLines: 0, emHighLines: 0, emLevelMax: 0, emLevelMaxCode: '', officeErLevelMax: 0, officeErLevelMaxCode: '',
    dxComplexityMax, unsupportedCodes: [], nonEmLines: 0, componentCodes: [],
    panelCoverageMax: 0, panelCoverageCode: '', modifier59: 0,
    daysOfService: to - from + 1, lengthOfStay: 0, serviceDates: 0, categories: 0,
    daysAfterDeath: 0, outsideAdmissionCodes: [], outsidePeriod: 0,
  };
  let knownCharged = 0;
  let knownReference = 0;
  let latest = to;
  // Distinct dates and categories in small arrays: claims have a handful of lines, and a Set per
  // claim was a measurable share of scoring's garbage.
  const dates: string[] = [];
  const categories: string[] = [];
  let anyPanelComponent = false;
  for (const line of claim.lines) {
    const ref = procedureReference(line.procedureCode);
    const perUnit = line.chargedAmount / line.units;
    if (COMPONENT_CODES.has(line.procedureCode)) anyPanelComponent = true;
    f.unitsTotal += line.units;
    if (line.units > f.unitsMax) [f.unitsMax, f.unitsMaxCode] = [line.units, line.procedureCode];
    if (perUnit > f.maxChargePerUnit) [f.maxChargePerUnit, f.maxChargePerUnitCode] = [perUnit, line.procedureCode];
    if (line.modifiers?.includes('59')) f.modifier59++;
    if (line.serviceDate) {
      if (!dates.includes(line.serviceDate)) dates.push(line.serviceDate);
      const day = dayNumber(line.serviceDate);
      latest = Math.max(latest, day);
      if (day < from || day > to) f.outsidePeriod++;
      if (admission !== undefined && (day < admission || (discharge !== undefined && day > discharge))) f.outsideAdmissionCodes.push(line.procedureCode);
    }
    const category = ref?.category ?? `other:${line.procedureCode.slice(0, 2)}`;
    if (!categories.includes(category)) categories.push(category);
    if (!ref) continue;
    const chargeRatio = perUnit / ref.fee;
    if (chargeRatio > f.chargeRatioMax) [f.chargeRatioMax, f.chargeRatioMaxCode] = [chargeRatio, ref.code];
    knownCharged += line.chargedAmount;
    knownReference += ref.fee * line.units;
    const unitsRatio = line.units / ref.maxUnits;
    if (unitsRatio > f.unitsMaxRatio) [f.unitsMaxRatio, f.unitsMaxRatioCode, f.unitsMaxRatioUnits] = [unitsRatio, ref.code, line.units];
    if (EM_CATEGORIES.has(ref.category)) {
      f.emAllLines++;
      if (ref.category !== 'em_hospital') f.emLines++;
      if (HIGHEST_LEVEL_EM.has(ref.code)) f.emHighLines++;
      const level = ref.emLevel ?? 0;
      if (level > f.emLevelMax) [f.emLevelMax, f.emLevelMaxCode] = [level, ref.code];
      if (ref.category !== 'em_hospital' && level > f.officeErLevelMax) [f.officeErLevelMax, f.officeErLevelMaxCode] = [level, ref.code];
    } else {
      f.nonEmLines++;
      if (!anyUnknownDx && !supported.has(ref.category)) f.unsupportedCodes.push(ref.code);
    }
    if (COMPONENT_CODES.has(ref.code)) f.componentCodes.push(ref.code);
  }
  if (knownReference > 0) f.chargeRatioTotal = knownCharged / knownReference;
  if (f.chargeRatioMaxCode === '') f.chargeRatioMax = 1;
  // Coverage is 0 for every panel unless some line bills one of its components.
  const codes = anyPanelComponent ? new Set(claim.lines.map((l) => l.procedureCode)) : undefined;
  for (const [panel, components] of codes ? PANEL_COMPONENTS : []) {
    let billed = 0;
    for (const c of components) if (codes?.has(c)) billed++;
    const coverage = billed / components.length;
    if (coverage > f.panelCoverageMax) [f.panelCoverageMax, f.panelCoverageCode] = [coverage, panel];
  }
  if (admission !== undefined) f.lengthOfStay = Math.max(0, (discharge ?? to) - admission);
  f.serviceDates = dates.length;
  f.categories = categories.length;
  if (death !== undefined) f.daysAfterDeath = Math.max(0, latest - death);
  return f;
}

/**
 * Writes the feature vector of a claim into `out[offset..offset + FEATURES.length)`, in
 * FEATURE_NAMES order, and returns the facts behind it (for `describeFeature`). Pure and
 * deterministic; every value finite. The claim must be schema-valid (domain/claim.schema.ts).
 */
export function extractFeaturesInto(claim: Claim, out: Float64Array, offset: number): ClaimFacts {
  const f = analyze(claim);
  const pos = claim.placeOfService;
  let k = offset;
  out[k++] = Math.log1p(claim.totalCharged);
  out[k++] = claim.lines.length;
  out[k++] = Math.log1p(f.unitsTotal);
  out[k++] = Math.log1p(f.unitsMax);
  out[k++] = f.unitsMaxRatio;
  out[k++] = Math.log1p(f.maxChargePerUnit);
  out[k++] = f.chargeRatioMax;
  out[k++] = f.chargeRatioTotal;
  out[k++] = f.emAllLines > 0 ? f.emHighLines / f.emAllLines : 0;
  out[k++] = f.emLevelMax;
  out[k++] = f.emLines;
  out[k++] = claim.diagnosisCodes.length;
  out[k++] = f.dxComplexityMax;
  out[k++] = f.officeErLevelMax > 0 ? Math.max(0, f.officeErLevelMax - (f.dxComplexityMax + 2)) : 0;
  out[k++] = f.nonEmLines > 0 ? f.unsupportedCodes.length / f.nonEmLines : 0;
  out[k++] = f.unsupportedCodes.length;
  out[k++] = f.componentCodes.length;
  out[k++] = f.panelCoverageMax;
  out[k++] = f.modifier59;
  out[k++] = f.daysOfService;
  out[k++] = f.lengthOfStay;
  out[k++] = f.serviceDates;
  out[k++] = f.categories;
  out[k++] = claim.claimType === 'institutional' ? 1 : 0;
  out[k++] = pos === '11' ? 1 : 0;
  out[k++] = pos === '21' ? 1 : 0;
  out[k++] = pos === '22' ? 1 : 0;
  out[k++] = pos === '23' ? 1 : 0;
  out[k++] = pos === '11' || pos === '21' || pos === '22' || pos === '23' ? 0 : 1;
  out[k++] = claim.memberDateOfDeath ? 1 : 0;
  out[k++] = Math.log1p(f.daysAfterDeath);
  out[k++] = f.outsideAdmissionCodes.length;
  out[k++] = f.outsidePeriod;
  return f;
}

/**
 * The feature vector of a claim, in FEATURE_NAMES order. Pure and deterministic; every value
 * finite. The claim must be schema-valid (see domain/claim.schema.ts).
 */
export function extractFeatures(claim: Claim): Float64Array {
  const out = new Float64Array(FEATURES.length);
  extractFeaturesInto(claim, out, 0);
  return out;
}

function listCodes(codes: readonly string[], max = 4): string {
  const unique = [...new Set(codes)];
  return unique.length <= max ? unique.join(', ') : `${unique.slice(0, max).join(', ')} and ${unique.length - max} more`;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
const fmt = (x: number, digits = 1): string => (Number.isInteger(x) ? String(x) : x.toFixed(digits));
/** `$1,234.50`: same text as toLocaleString('en-US', 2 decimals), without Intl's cost per call. */
const usd = (x: number): string => {
  const [whole = '0', cents = '00'] = Math.abs(x).toFixed(2).split('.');
  return `${x < 0 ? '-' : ''}$${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${cents}`;
};

/**
 * Human text explaining one feature of a claim, for investigators. Built from codes and numbers
 * only: never a member id, a name or a date (PHI). `value` is the feature's value for this claim;
 * `facts` (from `extractFeaturesInto` on the same claim) saves re-analysing it.
 *
 * @throws InvalidArgumentError for an unknown feature name.
 */
export function describeFeature(name: string, value: number, claim: Claim, facts?: ClaimFacts): string {
  featureIndex(name);
  const f = facts ?? analyze(claim);
  switch (name) {
    case 'log_total_charged':
      return `total charged ${usd(claim.totalCharged)}`;
    case 'line_count':
      return plural(claim.lines.length, 'service line');
    case 'log_units_total':
      return `${plural(f.unitsTotal, 'unit')} billed in total`;
    case 'log_units_max':
      return `${plural(f.unitsMax, 'unit')} on one line of ${f.unitsMaxCode}`;
    case 'units_max_ratio':
      return f.unitsMaxRatioCode ? `${plural(f.unitsMaxRatioUnits, 'unit')} of ${f.unitsMaxRatioCode}, ${fmt(f.unitsMaxRatio)}x the per-line maximum of ${procedureReference(f.unitsMaxRatioCode)?.maxUnits}` : 'no line with a known per-line maximum';
    case 'log_max_charge_per_unit':
      return `charge of ${usd(f.maxChargePerUnit)} per unit for ${f.maxChargePerUnitCode}`;
    case 'charge_ratio_max':
      return f.chargeRatioMaxCode ? `charge per unit ${fmt(f.chargeRatioMax)}x the reference fee for ${f.chargeRatioMaxCode}` : 'no line with a reference fee';
    case 'charge_ratio_total':
      return `charges ${fmt(f.chargeRatioTotal)}x the reference fees of the billed services`;
    case 'em_high_share':
      return `highest-level E/M code${f.emLevelMaxCode ? ` (${f.emLevelMaxCode})` : ''} on ${f.emHighLines} of ${plural(f.emAllLines, 'E/M line')}`;
    case 'em_level_max':
      return f.emLevelMax > 0 ? `E/M level ${f.emLevelMax} (${f.emLevelMaxCode})` : 'no E/M service';
    case 'em_line_count':
      return `${plural(f.emLines, 'office or emergency E/M line')} on one claim`;
    case 'dx_count':
      return plural(claim.diagnosisCodes.length, 'diagnosis code');
    case 'dx_complexity_max':
      return `highest diagnosis complexity ${['', 'routine', 'chronic', 'acute'][f.dxComplexityMax]} (${listCodes(claim.diagnosisCodes, 3)})`;
    case 'em_level_excess':
      return `E/M level ${f.officeErLevelMax}${f.officeErLevelMaxCode ? ` (${f.officeErLevelMaxCode})` : ''} for diagnoses of ${['', 'routine', 'chronic', 'acute'][f.dxComplexityMax]} complexity (${listCodes(claim.diagnosisCodes, 3)})`;
    case 'unsupported_share':
    case 'unsupported_lines':
      return `${f.unsupportedCodes.length} of ${plural(f.nonEmLines, 'non-E/M line')}${f.unsupportedCodes.length ? ` (${listCodes(f.unsupportedCodes)})` : ''} not supported by any diagnosis on the claim (${listCodes(claim.diagnosisCodes, 3)})`;
    case 'lab_component_lines':
      return `${plural(f.componentCodes.length, 'lab component test')} billed as separate lines (${listCodes(f.componentCodes)})`;
    case 'panel_coverage_max':
      return f.panelCoverageCode ? `${Math.round(f.panelCoverageMax * 100)}% of the component tests of panel ${f.panelCoverageCode} billed separately` : 'no panel components billed';
    case 'modifier_59_lines':
      return `modifier 59 on ${plural(f.modifier59, 'line')}`;
    case 'days_of_service':
      return `${plural(f.daysOfService, 'day')} of service`;
    case 'length_of_stay':
      return `length of stay ${plural(f.lengthOfStay, 'day')}`;
    case 'distinct_service_dates':
      return `services on ${plural(f.serviceDates, 'distinct date')}`;
    case 'distinct_categories':
      return `${plural(f.categories, 'kind')} of service on one claim`;
    case 'institutional':
      return `${claim.claimType} claim`;
    case 'pos_office':
    case 'pos_inpatient':
    case 'pos_outpatient_hospital':
    case 'pos_emergency':
    case 'pos_other':
      return `place of service ${claim.placeOfService}`;
    case 'has_date_of_death':
      return claim.memberDateOfDeath ? 'member has a recorded date of death' : 'no recorded date of death';
    case 'log_days_after_death':
      return f.daysAfterDeath > 0 ? `service ${plural(f.daysAfterDeath, 'day')} after the member's recorded date of death` : 'no service after a recorded date of death';
    case 'lines_outside_admission':
      return `${plural(f.outsideAdmissionCodes.length, 'line')}${f.outsideAdmissionCodes.length ? ` (${listCodes(f.outsideAdmissionCodes)})` : ''} dated outside the admission period`;
    case 'lines_outside_period':
      return `${plural(f.outsidePeriod, 'line')} dated outside the claim's service period`;
    default:
      return `${name} = ${fmt(value, 3)}`;
  }
}
