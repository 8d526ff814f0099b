import { InvalidArgumentError } from '../../core/errors.ts';
import type { Outcome, Reason } from '../../domain/decision.ts';

/**
 * Queue routing of new review cases: pure functions over the rows of `review_queue_rules`
 * (migration 1732810000000_queue-routing.sql) and one decision's routing inputs.
 */

/** Outcomes that open a case; `approve` never does. */
export type CaseOutcome = Extract<Outcome, 'review' | 'flag'>;

/** Queue a case goes to when no rule matches. */
export const FALLBACK_QUEUE = 'review';

/** One row of `review_queue_rules`: every non-null condition must hold for the rule to match. */
export interface QueueRule {
  /** Rules are tried in ascending position; the first match wins. */
  position: number;
  queue: string;
  /** The claim's `claimType`; never matches a case whose line of business is unknown. */
  lineOfBusiness: string | null;
  /** Inclusive lower bound of the score band. */
  minScore: number | null;
  /** Exclusive upper bound of the score band. */
  maxScore: number | null;
  outcome: CaseOutcome | null;
  /** SQL LIKE pattern (backslash escapes) one of the decision's rule codes must match. */
  ruleCode: string | null;
}

/** What routing looks at for one decision. */
export interface RoutingInput {
  outcome: CaseOutcome;
  score: number;
  lineOfBusiness: string | null;
  /** The decision's hard-rule codes (see {@link ruleCodesOf}). */
  ruleCodes: readonly string[];
}

/** True for the outcomes that open a case. */
export function opensCase(outcome: Outcome): outcome is CaseOutcome {
  return outcome === 'review' || outcome === 'flag';
}

/** The decision's hard-rule reason codes (`R_*`), in reason order. */
export function ruleCodesOf(reasons: readonly Pick<Reason, 'code'>[]): string[] {
  return reasons.map((r) => r.code).filter((code) => typeof code === 'string' && code.startsWith('R_'));
}

const likeCache = new Map<string, RegExp>();

/**
 * SQL `value LIKE pattern` with PostgreSQL's default escape character (backslash): `%` any run
 * of characters, `_` exactly one, `\x` a literal x; case-sensitive, anchored at both ends.
 * @throws InvalidArgumentError when the pattern ends with a lone escape (PostgreSQL refuses it too).
 */
export function likeMatches(value: string, pattern: string): boolean {
  let re = likeCache.get(pattern);
  if (!re) {
    let source = '';
    const chars = [...pattern];
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]!;
      if (c === '\\') {
        const next = chars[++i];
        if (next === undefined) throw new InvalidArgumentError(`LIKE pattern ${JSON.stringify(pattern)} must not end with the escape character`);
        source += escapeRegExp(next);
      } else if (c === '%') source += '[\\s\\S]*';
      else if (c === '_') source += '[\\s\\S]';
      else source += escapeRegExp(c);
    }
    re = new RegExp(`^${source}$`, 'u');
    likeCache.set(pattern, re);
  }
  return re.test(value);
}

function escapeRegExp(c: string): string {
  // Only syntax characters: a `u` regular expression refuses any other escaped character.
  return c.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

/** Whether every non-null condition of `rule` holds for `input`. */
export function ruleMatches(rule: QueueRule, input: RoutingInput): boolean {
  if (rule.lineOfBusiness !== null && rule.lineOfBusiness !== input.lineOfBusiness) return false;
  if (rule.minScore !== null && !(input.score >= rule.minScore)) return false;
  if (rule.maxScore !== null && !(input.score < rule.maxScore)) return false;
  if (rule.outcome !== null && rule.outcome !== input.outcome) return false;
  if (rule.ruleCode !== null && !input.ruleCodes.some((code) => likeMatches(code, rule.ruleCode!))) return false;
  return true;
}

/** The queue of a new case: the first matching rule by ascending position, else {@link FALLBACK_QUEUE}. */
export function routeCase(rules: readonly QueueRule[], input: RoutingInput): string {
  const ordered = [...rules].sort((a, b) => a.position - b.position);
  return ordered.find((rule) => ruleMatches(rule, input))?.queue ?? FALLBACK_QUEUE;
}

/** Lower bounds (USD) of amount bands 1, 2, ...; band 0 is below the first, the last band is open-ended. */
export const AMOUNT_BAND_FLOORS = [100, 1_000, 10_000, 100_000, 1_000_000] as const;

/**
 * The amount band of a claim total: 0 below $100, 1 below $1,000, 2 below $10,000, 3 below
 * $100,000, 4 below $1,000,000, 5 from $1,000,000 up (capped). An unknown (null or non-finite)
 * amount is band 0. A band is a coarse, non-identifying number: it is what `cases.priority`
 * carries instead of the amount (docs/privacy.md).
 */
export function amountBand(amount: number | null): number {
  if (amount === null || !Number.isFinite(amount)) return 0;
  let band = 0;
  while (band < AMOUNT_BAND_FLOORS.length && amount >= AMOUNT_BAND_FLOORS[band]!) band++;
  return band;
}

/**
 * Work order of a case, higher first: score x (amount band + 1) ({@link amountBand}), so the
 * score alone below $100 or when the amount is unknown, and a bigger claim outranks a smaller one
 * of similar score. Never the amount itself: priority is stored in `cases` and must not reveal it.
 */
export function casePriority(score: number, amount: number | null): number {
  return score * (amountBand(amount) + 1);
}
