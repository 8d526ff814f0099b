import type { Claim } from '../domain/claim.schema.ts';
import type { Reason } from '../domain/decision.ts';
import { dayNumber } from '../domain/dates.ts';
import type { ClaimFacts } from './features.ts';
import { procedureReference } from '../domain/codes/reference-fees.ts';

/**
 * Hard rules: deterministic checks that force the outcome `flag` whatever the models say. Each
 * has a stable reason code; a hit is reported as a Reason with contribution 1 and listed before
 * the model's feature reasons. Texts carry codes and counts, never dates or member data.
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
});

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

function rule(code: string, text: string): Reason {
  return { code, contribution: 1, text };
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
  if (config.excludedNpis.has(claim.billingProviderNpi)) {
    hits.push(rule(RULE_CODES.excludedProvider, `billing provider NPI ${claim.billingProviderNpi} is on the exclusion list`));
  } else if (claim.attendingProviderNpi !== undefined && config.excludedNpis.has(claim.attendingProviderNpi)) {
    hits.push(rule(RULE_CODES.excludedProvider, `attending provider NPI ${claim.attendingProviderNpi} is on the exclusion list`));
  }

  const daysAfterDeath = facts ? facts.daysAfterDeath : daysAfterDeathOf(claim);
  if (daysAfterDeath > 0) hits.push(rule(RULE_CODES.serviceAfterDeath, `service ${daysAfterDeath} day${daysAfterDeath === 1 ? '' : 's'} after the member's recorded date of death`));

  const outside = facts ? facts.outsideAdmissionCodes : outsideAdmissionOf(claim);
  if (outside.length > 0) hits.push(rule(RULE_CODES.outsideAdmission, `${outside.length} line${outside.length > 1 ? 's' : ''} (${codes(outside)}) dated outside the admission period`));

  const excessive: string[] = [];
  for (const l of claim.lines) {
    const max = config.maxUnits(l.procedureCode);
    if (max !== undefined && l.units > max) excessive.push(`${l.units} units of ${l.procedureCode} (maximum ${max})`);
  }
  if (excessive.length > 0) hits.push(rule(RULE_CODES.impossibleUnits, `impossible quantity: ${excessive.slice(0, 3).join('; ')}${excessive.length > 3 ? ` and ${excessive.length - 3} more` : ''}`));

  if (history.duplicate) hits.push(rule(RULE_CODES.duplicateClaim, 'a claim with the same member, provider, procedure codes and service dates was seen before'));
  return hits;
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
