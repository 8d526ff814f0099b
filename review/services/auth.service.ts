import { InvalidArgumentError } from '../../core/errors.ts';
import { ConcurrencyGate } from '../auth/concurrency-gate.ts';
import { hashPassword, newPassword, newSecret, secretHash, verifyPassword } from '../auth/credentials.ts';
import { ROLES, type Actor, type Principal, type Role } from '../auth/roles.ts';
import { ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError } from '../errors.ts';
import { type Clock, systemClock } from '../clock.ts';
import type { AuditRepository } from '../repositories/audit.repository.ts';
import type { TokenRecord, UserRecord, UserRepository } from '../repositories/user.repository.ts';

export interface AuthServiceOptions {
  users: UserRepository;
  audit: AuditRepository;
  /** Session lifetime in hours. */
  sessionHours: number;
  /** Lifetime of an API token minted without an explicit one, in days. Default 30. */
  tokenDefaultDays?: number;
  /** Longest lifetime a token may be minted with, in days. Default 90. */
  tokenMaxDays?: number;
  /** Cap on concurrent password checks during sign-in (scrypt is CPU and memory heavy). Default: 4 at once, 64 waiting. */
  scryptGate?: ConcurrencyGate;
  /** Time of session and token expiry and of their checks (review/clock.ts). Default the system clock. */
  clock?: Clock;
}

/** A user as the admin sees it: who, and whether the account is disabled or a service account. */
export interface UserInfo extends Principal {
  disabled: boolean;
  service: boolean;
}

/**
 * What creating a user hands out, once: a generated password (none for a service user) and, for
 * a service user or a user created from the CLI (the operator bootstrapping access), an API token.
 */
export interface CreatedUser {
  user: UserInfo;
  password: string | null;
  token: string | null;
}

/** A minted API token: the secret (returned once) with its id and expiry. */
export interface MintedToken {
  token: string;
  tokenId: string;
  expiresAt: string;
}

const DAY_MS = 86_400_000;
const toInfo = (u: UserRecord): UserInfo => ({ userId: u.userId, name: u.name, role: u.role, disabled: u.disabled, service: u.service });

/** Sign-in, sessions, API tokens (minting, expiry, revocation) and user administration. */
export class AuthService {
  readonly #o: AuthServiceOptions;
  readonly #tokenDefaultDays: number;
  readonly #tokenMaxDays: number;
  readonly #scryptGate: ConcurrencyGate;
  readonly #clock: Clock;
  constructor(options: AuthServiceOptions) {
    if (!(options.sessionHours > 0)) throw new InvalidArgumentError(`sessionHours must be > 0, got ${options.sessionHours}`);
    this.#tokenDefaultDays = options.tokenDefaultDays ?? 30;
    this.#tokenMaxDays = options.tokenMaxDays ?? 90;
    if (!(this.#tokenMaxDays >= 1)) throw new InvalidArgumentError(`tokenMaxDays must be >= 1, got ${this.#tokenMaxDays}`);
    if (!(this.#tokenDefaultDays >= 1 && this.#tokenDefaultDays <= this.#tokenMaxDays)) throw new InvalidArgumentError(`tokenDefaultDays must be between 1 and tokenMaxDays (${this.#tokenMaxDays}), got ${this.#tokenDefaultDays}`);
    this.#scryptGate = options.scryptGate ?? new ConcurrencyGate();
    this.#clock = options.clock ?? systemClock;
    this.#o = options;
  }

  /**
   * Checks a name and password and opens a session.
   * @returns the session secret (for the cookie) and the principal.
   * @throws UnauthenticatedError for an unknown user, a wrong password or a disabled account
   *   (one message for all, so names cannot be probed); RateLimitedError when too many password
   *   checks are already running or waiting (the scrypt gate).
   */
  async login(name: string, password: string, ip: string | null): Promise<{ session: string; expiresAt: Date; principal: Principal }> {
    const user = await this.#o.users.findByName(name);
    // Hash even for an unknown user so response time does not reveal which names exist.
    const hash = user?.passwordHash;
    const ok = await this.#scryptGate.run(async () => (hash ? verifyPassword(password, hash) : (await hashPassword(password), false)));
    if (!user || !ok || user.disabled) throw new UnauthenticatedError('wrong user name or password');
    const session = newSecret('ctr_ses_');
    const expiresAt = new Date(this.#clock.now().getTime() + this.#o.sessionHours * 3_600_000);
    await this.#o.users.addSession(user.userId, secretHash(session), expiresAt);
    const principal = { userId: user.userId, name: user.name, role: user.role };
    await this.#o.audit.append({ ...principal, ip }, 'auth.login', { type: 'user', id: user.userId });
    return { session, expiresAt, principal };
  }

  async logout(session: string, actor: Actor): Promise<void> {
    await this.#o.users.deleteSession(secretHash(session), this.#clock.now());
    await this.#o.audit.append(actor, 'auth.logout', { type: 'user', id: actor.userId });
  }

  /** The principal behind an unexpired, unrevoked bearer token or a session secret of an enabled user, or null. */
  async authenticate(credentials: { bearer?: string; session?: string }): Promise<Principal | null> {
    const user = credentials.bearer
      ? await this.#o.users.findByToken(secretHash(credentials.bearer), this.#clock.now())
      : credentials.session
        ? await this.#o.users.findBySession(secretHash(credentials.session), this.#clock.now())
        : null;
    return user ? { userId: user.userId, name: user.name, role: user.role } : null;
  }

  /**
   * Creates a user. A person gets a generated password (returned once); a `service` user gets no
   * password and an API token instead. `actor` is null when created from the CLI (recorded as
   * `cli`): the operator, who holds the database anyway, then also gets a first token for the
   * user; an admin over the API never gets a token for a person (they would act as them).
   * @throws InvalidArgumentError for a bad name or role; ConflictError when the name is taken.
   */
  async createUser(name: string, role: Role, actor: Actor | null, options: { service?: boolean } = {}): Promise<CreatedUser> {
    if (!/^[a-z0-9][a-z0-9._-]{1,63}$/.test(name)) throw new InvalidArgumentError(`user name "${name}" must be 2-64 characters: lower-case letters, digits, . _ -, starting with a letter or digit`);
    if (!ROLES.includes(role)) throw new InvalidArgumentError(`role must be one of ${ROLES.join(', ')}`);
    const service = options.service ?? false;
    const password = service ? null : newPassword();
    const user = await this.#o.users.create(name, role, password === null ? null : await hashPassword(password), service);
    if (!user) throw new ConflictError(`user ${name} already exists`);
    const token = service || actor === null ? (await this.#issueToken(user.userId, 'initial', this.#tokenDefaultDays)).token : null;
    await this.#o.audit.append(actor ?? { userId: user.userId, name: 'cli', role: 'admin', ip: null }, 'user.create', { type: 'user', id: user.userId }, { name, role, service, token: token !== null });
    return { user: toInfo(user), password, token };
  }

  /**
   * A new API token for `userId`, returned once, expiring after `expiresInDays` (default
   * tokenDefaultDays). Only for the actor themselves or for a service user: nobody mints a token
   * to act as another person.
   * @throws NotFoundError for an unknown user; ForbiddenError for another person; ConflictError
   *   for a disabled user; InvalidArgumentError above tokenMaxDays.
   */
  async createToken(actor: Actor, userId: string, label: string, expiresInDays?: number): Promise<MintedToken> {
    const user = await this.#o.users.findById(userId);
    if (!user) throw new NotFoundError(`no user ${userId}`);
    if (user.userId !== actor.userId && !user.service) throw new ForbiddenError(`${user.name} is a person, not a service user: tokens are minted only by their owner`);
    if (user.disabled) throw new ConflictError(`user ${user.name} is disabled`);
    const days = expiresInDays ?? this.#tokenDefaultDays;
    if (!(days >= 1 && days <= this.#tokenMaxDays)) throw new InvalidArgumentError(`expiresInDays must be between 1 and ${this.#tokenMaxDays}`);
    const minted = await this.#issueToken(userId, label, days);
    await this.#o.audit.append(actor, 'user.token.create', { type: 'user', id: userId }, { label, tokenId: minted.tokenId, expiresAt: minted.expiresAt });
    return minted;
  }

  /** The tokens of a user (ids, labels, times; never the secrets). @throws NotFoundError for an unknown user. */
  async tokens(userId: string): Promise<TokenRecord[]> {
    if (!(await this.#o.users.findById(userId))) throw new NotFoundError(`no user ${userId}`);
    return this.#o.users.tokens(userId);
  }

  /**
   * Revokes a token by id: any token for an admin (`ownerId` omitted), or only the owner's own.
   * @throws NotFoundError when there is no such token (of that owner).
   */
  async revokeToken(actor: Actor, tokenId: string, ownerId?: string): Promise<TokenRecord> {
    const revoked = await this.#o.users.revokeToken(tokenId, ownerId);
    if (!revoked) throw new NotFoundError(`no token ${tokenId}`);
    await this.#o.audit.append(actor, 'user.token.revoke', { type: 'user', id: revoked.userId }, { tokenId });
    return revoked;
  }

  /**
   * Disables (ending every session and revoking every token) or re-enables a user; re-enabling
   * revives neither. @throws NotFoundError for an unknown user; ConflictError for disabling oneself.
   */
  async setDisabled(actor: Actor, userId: string, disabled: boolean): Promise<UserInfo> {
    if (disabled && userId === actor.userId) throw new ConflictError('you cannot disable your own account');
    const user = await this.#o.users.setDisabled(userId, disabled);
    if (!user) throw new NotFoundError(`no user ${userId}`);
    await this.#o.audit.append(actor, disabled ? 'user.disable' : 'user.enable', { type: 'user', id: userId });
    return toInfo(user);
  }

  /** Enabled users (of `role` when given), for assignment lists. */
  async listUsers(role?: Role): Promise<Principal[]> {
    return (await this.#o.users.list(role)).filter((u) => !u.disabled).map((u) => ({ userId: u.userId, name: u.name, role: u.role }));
  }

  /** Every user with their state, for the admin. */
  async listAllUsers(): Promise<UserInfo[]> {
    return (await this.#o.users.list()).map(toInfo);
  }

  async #issueToken(userId: string, label: string, days: number): Promise<MintedToken> {
    const token = newSecret('ctr_tok_');
    const record = await this.#o.users.addToken(userId, secretHash(token), label, new Date(this.#clock.now().getTime() + days * DAY_MS));
    return { token, tokenId: record.tokenId, expiresAt: record.expiresAt };
  }
}
