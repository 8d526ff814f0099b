import { type Claim, diagnosisCodeSetFor } from '../domain/claim.schema.ts';
import type { Reason } from '../domain/decision.ts';
import { dayNumber } from '../domain/dates.ts';
import type { ClaimFacts } from './features.ts';
import { procedureReference } from '../domain/codes/reference-fees.ts';

/**
 * Hard rules: deterministic checks that force the outcome `flag` whatever the models say. Each
 * has a stable reason code; a hit is reported as a Reason (code, contribution 1) listed before
 * the model's feature reasons. A hit carries no text: its sentence ({@link describeRule}) is
 * rendered at view time from the decrypted claim, for a viewer entitled to it.
 *
 * Every rule lives here, and the Scorer applies all of them on every path (streaming stage,
 * challenger, offline `scoreInOrder`). Most look at the claim alone; the duplicate rule looks at
 * the claim's history, which the caller observes (entity aggregates, scoring/aggregates.ts) and
 * passes in as a {@link ClaimHistory}.
 */

export const RULE_CODES = Object.freeze({
  /** Billing or attending NPI on the exclusion list (OIG LEIE or the payer's own). */
  excludedProvider: 'R_EXCLUDED_PROVIDER',
  /** A service dated after the member's recorded date of death. */
  serviceAfterDeath: 'R_SERVICE_AFTER_DEATH',
  /** A line dated before admission or after discharge. */
  outsideAdmission: 'R_OUTSIDE_ADMISSION',
  /** A line with more units than can be delivered on one day (above the per-code maximum). */
  impossibleUnits: 'R_IMPOSSIBLE_UNITS',
  /**
   * An identical claim (same member, billing provider, procedure codes and service dates) was
   * observed before this one, under another event id.
   */
  duplicateClaim: 'R_DUPLICATE_CLAIM',
  /**
   * Review rule (never flags, never lets the claim be approved): a dental claim, or a claim coded
   * in ICD-9-CM (services before 2015-10-01). The model was trained on professional and
   * institutional claims coded in ICD-10-CM; it has no basis for an opinion on these.
   */
  notTrainedType: 'R_NOT_TRAINED_TYPE',
});

/**
 * Claims the model cannot judge: the kinds it never saw in training (docs/formats.md, "How the
 * model scores the new types"). A hit routes the claim to `review` (unless a hard rule or the
 * score flags it): its reason, with contribution 1, is listed before the model's. Pure.
 */
export function reviewRules(claim: Claim): Reason[] {
  const icd9 = claim.diagnosisCodes.length > 0 && diagnosisCodeSetFor(claim.serviceFrom) === 'icd9';
  return claim.claimType === 'dental' || icd9 ? [rule(RULE_CODES.notTrainedType)] : [];
}

/**
 * What the rules need to know about the claims observed before this one. An
 * `AggregateObservation` (scoring/aggregates.ts, Redis or offline) is one.
 */
export interface ClaimHistory {
  /** An identical claim (the duplicate fingerprint) was observed before, under another event id. */
  duplicate: boolean;
}

export interface RulesConfig {
  /** Excluded provider NPIs. Default: empty (the rule never fires). */
  excludedNpis: ReadonlySet<string>;
  /**
   * Largest plausible units per line for a code, undefined when unknown (then not checked).
   * Default: `maxUnits` of domain/codes/reference-fees.ts.
   */
  maxUnits: (procedureCode: string) => number | undefined;
}

/** Rules config with defaults; pass `excludedNpis` (e.g. read by `loadLeieNpis` from LEIE files). */
export function createRulesConfig(options: { excludedNpis?: Iterable<string>; maxUnits?: RulesConfig['maxUnits'] } = {}): RulesConfig {
  return Object.freeze({
    excludedNpis: new Set(options.excludedNpis ?? []),
    maxUnits: options.maxUnits ?? ((code: string) => procedureReference(code)?.maxUnits),
  });
}

function rule(code: string): Reason {
  return { code, contribution: 1 };
}

function codes(list: readonly string[]): string {
  const unique = [...new Set(list)];
  return unique.length <= 4 ? unique.join(', ') : `${unique.slice(0, 4).join(', ')} and ${unique.length - 4} more`;
}

/**
 * Every rule the claim breaks, in RULE_CODES order; empty when none. Pure. `history` is what was
 * observed of the claims before this one (for the duplicate rule).
 *
 * `facts` (from `extractFeaturesInto` of the same claim) lets the date rules reuse the day
 * arithmetic feature extraction already did; the result is the same with or without them
 * (tests/unit/scoring/rules.test.ts compares both over every fixture pattern).
 */
export function evaluateRules(claim: Claim, config: RulesConfig, history: ClaimHistory, facts?: Pick<ClaimFacts, 'daysAfterDeath' | 'outsideAdmissionCodes'>): Reason[] {
  const hits: Reason[] = [];
  if (config.excludedNpis.has(claim.billingProviderNpi) || (claim.attendingProviderNpi !== undefined && config.excludedNpis.has(claim.attendingProviderNpi))) {
    hits.push(rule(RULE_CODES.excludedProvider));
  }
  if ((facts ? facts.daysAfterDeath : daysAfterDeathOf(claim)) > 0) hits.push(rule(RULE_CODES.serviceAfterDeath));
  if ((facts ? facts.outsideAdmissionCodes : outsideAdmissionOf(claim)).length > 0) hits.push(rule(RULE_CODES.outsideAdmission));
  if (excessiveUnits(claim, config).length > 0) hits.push(rule(RULE_CODES.impossibleUnits));
  if (history.duplicate) hits.push(rule(RULE_CODES.duplicateClaim));
  return hits;
}

/**
 * The investigator's sentence for a rule hit, recomputed from the claim it fired on (the case
 * view renders it; nothing stores it). It names codes, counts and NPIs that are on the claim,
 * never a date or member data. `config` is the scorer's rules configuration when the caller has
 * it; without it the excluded-provider sentence names the claim's NPIs instead of the listed one,
 * and unit maxima are the reference table's.
 * @returns undefined for a code that is not a rule.
 */
export function describeRule(code: string, claim: Claim, config: RulesConfig = createRulesConfig()): string | undefined {
  switch (code) {
    case RULE_CODES.excludedProvider: {
      if (config.excludedNpis.has(claim.billingProviderNpi)) return `billing provider NPI ${claim.billingProviderNpi} is on the exclusion list`;
      if (claim.attendingProviderNpi !== undefined && config.excludedNpis.has(claim.attendingProviderNpi)) return `attending provider NPI ${claim.attendingProviderNpi} is on the exclusion list`;
      const npis = [`billing NPI ${claim.billingProviderNpi}`, ...(claim.attendingProviderNpi === undefined ? [] : [`attending NPI ${claim.attendingProviderNpi}`])];
      return `a provider of this claim (${npis.join(', ')}) was on the exclusion list when it was scored`;
    }
    case RULE_CODES.serviceAfterDeath: {
      const days = daysAfterDeathOf(claim);
      return `service ${days} day${days === 1 ? '' : 's'} after the member's recorded date of death`;
    }
    case RULE_CODES.outsideAdmission: {
      const outside = outsideAdmissionOf(claim);
      return `${outside.length} line${outside.length === 1 ? '' : 's'} (${codes(outside)}) dated outside the admission period`;
    }
    case RULE_CODES.impossibleUnits: {
      const excessive = excessiveUnits(claim, config);
      return `impossible quantity: ${excessive.slice(0, 3).join('; ')}${excessive.length > 3 ? ` and ${excessive.length - 3} more` : ''}`;
    }
    case RULE_CODES.duplicateClaim:
      return 'a claim with the same member, provider, procedure codes and service dates was seen before';
    case RULE_CODES.notTrainedType:
      return claim.claimType === 'dental'
        ? 'dental claim: the model was not trained on dental claims, so it goes to review'
        : 'diagnoses coded in ICD-9-CM: the model was trained on ICD-10-CM claims, so it goes to review';
    default:
      return undefined;
  }
}

/** `<units> units of <code> (maximum <max>)` for each line above its code's per-day maximum. */
function excessiveUnits(claim: Claim, config: RulesConfig): string[] {
  const excessive: string[] = [];
  for (const l of claim.lines) {
    const max = config.maxUnits(l.procedureCode);
    if (max !== undefined && l.units > max) excessive.push(`${l.units} units of ${l.procedureCode} (maximum ${max})`);
  }
  return excessive;
}

/** Days from the member's date of death to the latest service date (0 when none is after it). */
function daysAfterDeathOf(claim: Claim): number {
  if (claim.memberDateOfDeath === undefined) return 0;
  const death = dayNumber(claim.memberDateOfDeath);
  let latest = dayNumber(claim.serviceTo);
  for (const l of claim.lines) if (l.serviceDate) latest = Math.max(latest, dayNumber(l.serviceDate));
  return Math.max(0, latest - death);
}

/** Procedure codes of the lines dated before admission or after discharge. */
function outsideAdmissionOf(claim: Claim): string[] {
  const outside: string[] = [];
  if (claim.admissionDate === undefined) return outside;
  const admission = dayNumber(claim.admissionDate);
  const discharge = claim.dischargeDate === undefined ? undefined : dayNumber(claim.dischargeDate);
  for (const l of claim.lines) {
    if (!l.serviceDate) continue;
    const day = dayNumber(l.serviceDate);
    if (day < admission || (discharge !== undefined && day > discharge)) outside.push(l.procedureCode);
  }
  return outside;
}
