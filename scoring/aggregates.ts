import { createHash, createHmac } from 'node:crypto';
import { secretKeyObject } from '../core/secret-key-cache.ts';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { Claim } from '../domain/claim.schema.ts';
import { InvalidArgumentError } from '../core/errors.ts';
import { dayNumber } from '../domain/dates.ts';

/**
 * Entity aggregates over time windows: per billing provider and per member, claim counts and
 * charged sums over day windows, the ratio of today's volume to the entity's own history and to
 * its peers (providers of the same `providerSpecialty`), plus a duplicate-claim fingerprint (the
 * `duplicate` flag of an observation, which the duplicate rule in rules.ts reads).
 *
 * One spec, two evaluators that return the same raw integers:
 * - online: {@link RedisClaimAggregates}, one atomic Lua script per run of claims (aggregates.lua:
 *   for each claim in order, read, then add);
 * - offline: {@link OfflineClaimAggregates}, in-memory maps, point-in-time over an ordered file.
 * Both turn the raw integers into features with the same function ({@link aggregateFeatures}),
 * so offline == online exactly (tests/integration/aggregates.test.ts, on the real Redis).
 *
 * Semantics (both paths): the features of a claim aggregate the claims OBSERVED BEFORE it in
 * stream order whose event day (serviceFrom) falls in the window [day - (w - 1), day]; the claim
 * itself is added only after its features are read (no self-leakage). Offline over a file
 * ordered by event time this is point-in-time (no future leakage). Amounts are integer cents, so
 * sums are exact in Redis (HINCRBY) and in JS.
 *
 * Idempotency: each observation carries an event id (the scoring stage uses the decision id,
 * a hash of the claim's topic/partition/offset). The first observation stores its raw result
 * under `seen:<eventId>`; observing the same event again returns that stored result and changes
 * nothing, so a batch replayed after a crash neither double counts nor sees itself.
 */

export interface AggregateSpec {
  /** Window lengths in days, ascending; the first is the "today" window used by ratios. */
  windowsDays: readonly number[];
  /** Seconds every Redis key lives after its last write (wall clock). */
  ttlSeconds: number;
}

/** Defaults (not yet config variables): 1-day and 30-day windows, keys kept 37 days. */
export const DEFAULT_AGGREGATE_SPEC: Readonly<AggregateSpec> = Object.freeze({ windowsDays: Object.freeze([1, 30]), ttlSeconds: 37 * 86_400 });

const ENTITIES = ['provider', 'member'] as const;

/**
 * Service days per Redis bucket hash (aggregates.lua): `<prefix>:p:<npi>:b<floor(day / 32)>` and
 * `<prefix>:m:<member ref>:b<...>` (the member by its HMAC reference) hold fields `n<day>` /
 * `c<day>` for 32 days, so a 30-day window reads two hashes, not 30 keys. Keys written before
 * blocks (`<prefix>:<p|m>:<id>:<day>`, the member in clear) are no longer read; they expire after
 * AGGREGATE_TTL_DAYS (as after a change of the aggregate key), and erasure still deletes them.
 */
export const AGGREGATE_BLOCK_DAYS = 32;

/** The part of the spec a model depends on (the windows); TTLs are operational. */
export type AggregateWindows = Pick<AggregateSpec, 'windowsDays'>;

/** Feature names emitted by {@link aggregateFeatures} for a spec, in order. */
export function aggregateFeatureNames(spec: AggregateWindows = DEFAULT_AGGREGATE_SPEC): string[] {
  const names: string[] = [];
  for (const e of ENTITIES) {
    for (const w of spec.windowsDays) names.push(`${e}_claims_${w}d`, `${e}_log_charged_${w}d`);
    names.push(`${e}_volume_vs_own`);
  }
  names.push('provider_volume_vs_peers', 'duplicate_seen');
  return names;
}

/**
 * Raw integers of one observation: [duplicate (0/1), then per entity and window: count, cents,
 * then peer claims today, peer distinct providers today].
 */
export type AggregateRaw = readonly number[];

export interface AggregateObservation {
  raw: AggregateRaw;
  duplicate: boolean;
  /** Feature values, named by {@link aggregateFeatureNames}. */
  features: number[];
}

/**
 * Raw -> features, shared by both paths. Counts are the raw counts, sums ln(1 + USD), volume vs
 * own history = (today + 1) / (mean daily count over the rest of the longest window + 1), volume
 * vs peers = (provider today + 1) / (peer claims today / peer providers today + 1).
 */
export function aggregateFeatures(raw: AggregateRaw, spec: AggregateWindows = DEFAULT_AGGREGATE_SPEC): number[] {
  const W = spec.windowsDays.length;
  const longest = spec.windowsDays[W - 1] as number;
  const out: number[] = [];
  let at = 1;
  for (let e = 0; e < ENTITIES.length; e++) {
    const today = raw[at] as number;
    let longCount = 0;
    for (let w = 0; w < W; w++) {
      const n = raw[at + 2 * w] as number;
      const cents = raw[at + 2 * w + 1] as number;
      out.push(n, Math.log1p(cents / 100));
      longCount = n;
    }
    const restMean = longest > 1 ? (longCount - today) / (longest - 1) : 0;
    out.push((today + 1) / (restMean + 1));
    at += 2 * W;
  }
  const providerToday = raw[1] as number;
  const peerClaims = raw[at] as number;
  const peerProviders = raw[at + 1] as number;
  out.push((providerToday + 1) / (peerProviders > 0 ? peerClaims / peerProviders + 1 : 1));
  out.push(raw[0] as number);
  return out;
}

/** Reason code of an aggregate feature, for model explanations (`F_*`: a feature, not a rule). */
export function aggregateReasonCode(name: string): string {
  if (name === 'duplicate_seen') return 'F_DUPLICATE_SEEN';
  if (name === 'provider_volume_vs_peers') return 'F_PROVIDER_VS_PEERS';
  if (name.startsWith('provider_')) return 'F_PROVIDER_VOLUME';
  if (name.startsWith('member_')) return 'F_MEMBER_FREQUENCY';
  throw new InvalidArgumentError(`unknown aggregate feature ${name}`);
}

/**
 * The investigator's sentence for an aggregate reason code (`F_PROVIDER_VOLUME`, ...). The
 * observation behind it (counts and sums of other claims in Redis at scoring time) is not stored
 * and cannot be derived from the claim, so the sentence says which entity's history raised the
 * score without its numbers. Never an id or a date.
 * @returns undefined for a code that is not an aggregate's.
 */
export function describeAggregateReason(code: string): string | undefined {
  switch (code) {
    case 'F_DUPLICATE_SEEN':
      return 'an identical claim (member, provider, codes, dates) was seen before';
    case 'F_PROVIDER_VS_PEERS':
      return "the billing provider's claims on the service day, compared with providers of the same specialty, raised the score";
    case 'F_PROVIDER_VOLUME':
      return "the billing provider's recent claims and charges (up to the service day) raised the score";
    case 'F_MEMBER_FREQUENCY':
      return "the member's recent claims and charges (up to the service day) raised the score";
    default:
      return undefined;
  }
}

function observation(raw: AggregateRaw, spec: AggregateWindows): AggregateObservation {
  return { raw, duplicate: raw[0] === 1, features: aggregateFeatures(raw, spec) };
}

/**
 * What makes two claims duplicates: same member, billing provider, procedure codes (multiset) and
 * service dates. A replacement (7) or void (8) of a claim (frequency code) re-sends the same facts
 * on purpose: it gets its own material, so it is not a duplicate of the original, while a second
 * identical void still is. Originals keep the material they always had.
 */
function duplicateMaterial(claim: Claim): string {
  const codes = claim.lines.map((l) => l.procedureCode).sort();
  const dates = claim.lines.map((l) => l.serviceDate ?? '').sort();
  const parts: unknown[] = [claim.memberId, claim.billingProviderNpi, codes, claim.serviceFrom, claim.serviceTo, dates];
  if (claim.frequencyCode === '7' || claim.frequencyCode === '8') parts.push(`frequency:${claim.frequencyCode}`, claim.originalClaimRef ?? claim.claimId);
  return JSON.stringify(parts);
}

/**
 * Unkeyed duplicate fingerprint (SHA-256 of {@link duplicateMaterial}), for the in-memory offline
 * evaluator only: never a Redis key name, since anyone knowing a member's claim could recompute it.
 */
export function duplicateFingerprint(claim: Claim): string {
  return createHash('sha256').update(duplicateMaterial(claim)).digest('hex').slice(0, 32);
}

/** Shortest HMAC key the online evaluator takes, bytes. */
const MIN_FINGERPRINT_KEY_BYTES = 32;

/**
 * The duplicate fingerprint of the Redis keys: HMAC-SHA256 under the aggregate key
 * (scoring/aggregate-key.ts), 128 bits hex. Two claims get the same one exactly when they get
 * the same {@link duplicateFingerprint}, so online and offline agree on what a duplicate is;
 * without the key the name can neither be derived from a claim nor tied to a member.
 */
export function keyedDuplicateFingerprint(key: Buffer, claim: Claim): string {
  return createHmac('sha256', secretKeyObject(key)).update('claimtrail-aggregate-dup-v1\0').update(duplicateMaterial(claim)).digest('hex').slice(0, 32);
}

/** Keyed reference of a member (HMAC under the aggregate key): names its duplicate-key index (`<prefix>:md:<ref>`) and its bucket hashes (`<prefix>:m:<ref>:b<n>`), so the member id never appears in Redis. */
export function memberRef(key: Buffer, memberId: string): string {
  return createHmac('sha256', secretKeyObject(key)).update('claimtrail-aggregate-member-v1\0').update(memberId).digest('hex').slice(0, 32);
}

function cents(claim: Claim): number {
  return Math.round(claim.totalCharged * 100);
}

function peerGroup(claim: Claim): string {
  return claim.providerSpecialty ?? '-';
}

export interface ClaimAggregates {
  /**
   * For each claim in order: reads its aggregates (claims observed before it), then adds it.
   * `eventId` must be stable across replays (e.g. the decision id).
   */
  observeBatch(items: ReadonlyArray<{ eventId: string; claim: Claim }>): Promise<AggregateObservation[]>;
}

/** Offline, point-in-time evaluator of the same spec (in memory). */
export class OfflineClaimAggregates implements ClaimAggregates {
  readonly #spec: AggregateWindows;
  readonly #buckets = new Map<string, { n: number; c: number }>();
  readonly #peers = new Map<string, { n: number; providers: Set<string> }>();
  readonly #dup = new Map<string, string>();
  readonly #seen = new Map<string, AggregateRaw>();

  constructor(spec: AggregateWindows = DEFAULT_AGGREGATE_SPEC) {
    this.#spec = spec;
  }

  observe(eventId: string, claim: Claim): AggregateObservation {
    const prior = this.#seen.get(eventId);
    if (prior) return observation(prior, this.#spec);
    const day = dayNumber(claim.serviceFrom);
    const fp = duplicateFingerprint(claim);
    const owner = this.#dup.get(fp);
    const raw: number[] = [owner !== undefined && owner !== eventId ? 1 : 0];
    if (owner === undefined) this.#dup.set(fp, eventId);
    const ids = [claim.billingProviderNpi, claim.memberId];
    for (let e = 0; e < ENTITIES.length; e++) {
      for (const w of this.#spec.windowsDays) {
        let n = 0;
        let c = 0;
        for (let k = 0; k < w; k++) {
          const b = this.#buckets.get(`${e}:${ids[e]}:${day - k}`);
          if (b) {
            n += b.n;
            c += b.c;
          }
        }
        raw.push(n, c);
      }
    }
    const peerKey = `${peerGroup(claim)}:${day}`;
    const peer = this.#peers.get(peerKey);
    raw.push(peer?.n ?? 0, peer?.providers.size ?? 0);
    for (let e = 0; e < ENTITIES.length; e++) {
      const key = `${e}:${ids[e]}:${day}`;
      const b = this.#buckets.get(key) ?? { n: 0, c: 0 };
      b.n += 1;
      b.c += cents(claim);
      this.#buckets.set(key, b);
    }
    const p = peer ?? { n: 0, providers: new Set<string>() };
    p.n += 1;
    p.providers.add(claim.billingProviderNpi);
    this.#peers.set(peerKey, p);
    this.#seen.set(eventId, raw);
    return observation(raw, this.#spec);
  }

  observeBatch(items: ReadonlyArray<{ eventId: string; claim: Claim }>): Promise<AggregateObservation[]> {
    return Promise.resolve(items.map((i) => this.observe(i.eventId, i.claim)));
  }
}

/** Atomic read-then-add of a run of claims; KEYS and ARGV are documented in the script's header. */
const OBSERVE_LUA = readFileSync(new URL('./aggregates.lua', import.meta.url), 'utf8');

/** Options of {@link RedisClaimAggregates}. */
export interface RedisClaimAggregatesOptions {
  /** Key prefix (AGGREGATE_KEY_PREFIX); every key is `<prefix>:...`. */
  prefix: string;
  /**
   * HMAC key of the duplicate-claim keys and the member index (at least 32 bytes; from an
   * AggregateKeySource, scoring/aggregate-key.ts). No default: a secret.
   */
  fingerprintKey: Buffer;
  /** Windows and key lifetime; default {@link DEFAULT_AGGREGATE_SPEC}. */
  spec?: AggregateSpec;
}

/** What {@link RedisClaimAggregates.forgetMember} deleted. */
export interface ForgottenAggregates {
  /** The member's day buckets (`<prefix>:m:<member>:<day>`). */
  buckets: number;
  /** The member's duplicate-claim keys (`<prefix>:dup:<HMAC>`), found through its keyed index. */
  duplicates: number;
}

/**
 * Claims per script call: each call reads a hot provider's block hashes once and sets every key's
 * lifetime once, and holds Redis for a few milliseconds at most (BullMQ shares it).
 */
export const OBSERVE_CHUNK_CLAIMS = 256;

/**
 * Online evaluator in Redis: one EVALSHA per run of up to {@link OBSERVE_CHUNK_CLAIMS} claims, all
 * runs of a batch in one pipeline (one round trip); Redis runs them one after the other in order,
 * each atomically, and each runs its claims in order.
 * Keys are `<prefix>:...`; with several scoring processes on different partitions the order of
 * claims across partitions is the arrival order (offline == online holds for one ordered stream).
 * Duplicate-claim keys are named by {@link keyedDuplicateFingerprint} and listed in the member's
 * index `<prefix>:md:<HMAC of member>`, so erasure finds them without the member id in clear.
 */
export class RedisClaimAggregates implements ClaimAggregates {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #spec: AggregateSpec;
  readonly #key: Buffer;

  /** @throws InvalidArgumentError when the fingerprint key is shorter than 32 bytes. */
  constructor(redis: Redis, options: RedisClaimAggregatesOptions) {
    if (!Buffer.isBuffer(options.fingerprintKey) || options.fingerprintKey.length < MIN_FINGERPRINT_KEY_BYTES) {
      throw new InvalidArgumentError(`fingerprintKey must be at least ${MIN_FINGERPRINT_KEY_BYTES} bytes (AGGREGATE_KEY_SECRET)`);
    }
    this.#redis = redis;
    this.#prefix = options.prefix;
    this.#spec = options.spec ?? DEFAULT_AGGREGATE_SPEC;
    this.#key = Buffer.from(options.fingerprintKey);
    if (!('claimtrailObserve' in redis)) redis.defineCommand('claimtrailObserve', { lua: OBSERVE_LUA });
  }

  async observeBatch(items: ReadonlyArray<{ eventId: string; claim: Claim }>): Promise<AggregateObservation[]> {
    if (items.length === 0) return [];
    const spec = this.#spec;
    const M = spec.windowsDays[spec.windowsDays.length - 1] as number;
    // Blocks a window of M days can touch (see aggregates.lua): at most this many, whatever the day.
    const NB = Math.floor((M - 1) / AGGREGATE_BLOCK_DAYS) + 2;
    const head = [String(spec.ttlSeconds), String(ENTITIES.length), String(M), String(spec.windowsDays.length), ...spec.windowsDays.map(String), String(AGGREGATE_BLOCK_DAYS), String(NB)];
    const p = this.#prefix;
    const pipeline = this.#redis.pipeline();
    for (let from = 0; from < items.length; from += OBSERVE_CHUNK_CLAIMS) {
      const chunk = items.slice(from, from + OBSERVE_CHUNK_CLAIMS);
      const keys: string[] = [];
      const argv: string[] = [...head, String(chunk.length)];
      for (const { eventId, claim } of chunk) {
        const day = dayNumber(claim.serviceFrom);
        const firstBlock = Math.floor((day - M + 1) / AGGREGATE_BLOCK_DAYS);
        const member = memberRef(this.#key, claim.memberId);
        keys.push(`${p}:seen:${eventId}`, `${p}:dup:${keyedDuplicateFingerprint(this.#key, claim)}`, `${p}:md:${member}`);
        // The member's buckets are named by its keyed reference, never by the member id.
        for (let j = 0; j < NB; j++) keys.push(`${p}:p:${claim.billingProviderNpi}:b${firstBlock + j}`);
        for (let j = 0; j < NB; j++) keys.push(`${p}:m:${member}:b${firstBlock + j}`);
        keys.push(`${p}:g:${peerGroup(claim)}:${day}`);
        argv.push(eventId, String(cents(claim)), claim.billingProviderNpi, String(day));
      }
      (pipeline as unknown as { claimtrailObserve(n: number, ...args: string[]): void }).claimtrailObserve(keys.length, ...keys, ...argv);
    }
    const replies = (await pipeline.exec()) ?? [];
    return replies.flatMap(([error, reply]) => {
      if (error) throw error;
      return (reply as string[]).map((raw) => observation(raw.split(',').map(Number), spec));
    });
  }

  /**
   * For erasure: deletes a member's day buckets (`<prefix>:m:<member>:<day>`, the only keys that
   * name a member) and its duplicate-claim keys, listed in its keyed index (deleted too).
   */
  async forgetMember(memberId: string): Promise<ForgottenAggregates> {
    const index = `${this.#prefix}:md:${memberRef(this.#key, memberId)}`;
    const listed = (await this.#redis.smembers(index)).filter((k) => k.startsWith(`${this.#prefix}:dup:`));
    const duplicates = listed.length > 0 ? await this.#redis.del(...listed) : 0;
    await this.#redis.del(index);
    // Block buckets under the keyed reference, and day buckets written before blocks, named in clear.
    const buckets = (await this.#forgetBuckets(memberRef(this.#key, memberId))) + (await this.#forgetBuckets(memberId));
    return { buckets, duplicates };
  }

  async #forgetBuckets(name: string): Promise<number> {
    const head = `${this.#prefix}:m:${name}:`;
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await this.#redis.scan(cursor, 'MATCH', `${head.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
      cursor = next;
      // Only block (b<n>) or, from before blocks, day-number suffixes: member "A" must not take
      // member "A:1"'s buckets with it.
      const mine = keys.filter((k) => /^b?-?\d+$/.test(k.slice(head.length)));
      if (mine.length > 0) deleted += await this.#redis.del(...mine);
    } while (cursor !== '0');
    return deleted;
  }
}

/**
 * The aggregate observations of `claims` taken as one stream in the given order, point-in-time
 * (each claim sees only the claims before it): the same raw integers, features and duplicate flag
 * the streaming path gets from Redis for the same order (the Lua script and
 * {@link OfflineClaimAggregates} implement one spec; tests/integration/aggregates.test.ts). For
 * training and offline scoring; event ids are the positions, so every claim is a distinct event.
 * `windows` only shapes the features; the duplicate flag does not depend on it.
 */
export function offlineObservations(claims: readonly Claim[], windows: AggregateWindows = DEFAULT_AGGREGATE_SPEC): AggregateObservation[] {
  const offline = new OfflineClaimAggregates(windows);
  return claims.map((claim, i) => offline.observe(`offline:${i}`, claim));
}
