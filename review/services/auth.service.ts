import { InvalidArgumentError } from '../../core/errors.ts';
import { hashPassword, newPassword, newSecret, secretHash, verifyPassword } from '../auth/credentials.ts';
import { ROLES, type Actor, type Principal, type Role } from '../auth/roles.ts';
import { ConflictError, NotFoundError, UnauthenticatedError } from '../errors.ts';
import type { AuditRepository } from '../repositories/audit.repository.ts';
import type { UserRepository } from '../repositories/user.repository.ts';

export interface AuthServiceOptions {
  users: UserRepository;
  audit: AuditRepository;
  /** Session lifetime in hours. */
  sessionHours: number;
}

/** What creating a user hands out, once: the generated password and an API token. */
export interface CreatedUser {
  user: Principal;
  password: string;
  token: string;
}

/** Sign-in, sessions, API tokens and user creation. */
export class AuthService {
  readonly #o: AuthServiceOptions;
  constructor(options: AuthServiceOptions) {
    if (!(options.sessionHours > 0)) throw new InvalidArgumentError(`sessionHours must be > 0, got ${options.sessionHours}`);
    this.#o = options;
  }

  /**
   * Checks a name and password and opens a session.
   * @returns the session secret (for the cookie) and the principal.
   * @throws UnauthenticatedError for an unknown user, a wrong password or a disabled account
   *   (one message for all, so names cannot be probed).
   */
  async login(name: string, password: string, ip: string | null): Promise<{ session: string; expiresAt: Date; principal: Principal }> {
    const user = await this.#o.users.findByName(name);
    // Hash even for an unknown user so response time does not reveal which names exist.
    const ok = user?.passwordHash ? await verifyPassword(password, user.passwordHash) : (await hashPassword(password), false);
    if (!user || !ok || user.disabled) throw new UnauthenticatedError('wrong user name or password');
    const session = newSecret('ctr_ses_');
    const expiresAt = new Date(Date.now() + this.#o.sessionHours * 3_600_000);
    await this.#o.users.addSession(user.userId, secretHash(session), expiresAt);
    const principal = { userId: user.userId, name: user.name, role: user.role };
    await this.#o.audit.append({ ...principal, ip }, 'auth.login', { type: 'user', id: user.userId });
    return { session, expiresAt, principal };
  }

  async logout(session: string, actor: Actor): Promise<void> {
    await this.#o.users.deleteSession(secretHash(session));
    await this.#o.audit.append(actor, 'auth.logout', { type: 'user', id: actor.userId });
  }

  /** The principal behind a bearer token or a session secret, or null. */
  async authenticate(credentials: { bearer?: string; session?: string }): Promise<Principal | null> {
    const user = credentials.bearer
      ? await this.#o.users.findByToken(secretHash(credentials.bearer))
      : credentials.session
        ? await this.#o.users.findBySession(secretHash(credentials.session))
        : null;
    return user ? { userId: user.userId, name: user.name, role: user.role } : null;
  }

  /**
   * Creates a user with a generated password and a first API token; both are returned once and
   * only their hashes are stored. `actor` is null when created from the CLI (recorded as `cli`).
   * @throws InvalidArgumentError for a bad name or role; ConflictError when the name is taken.
   */
  async createUser(name: string, role: Role, actor: Actor | null): Promise<CreatedUser> {
    if (!/^[a-z0-9][a-z0-9._-]{1,63}$/.test(name)) throw new InvalidArgumentError(`user name "${name}" must be 2-64 characters: lower-case letters, digits, . _ -, starting with a letter or digit`);
    if (!ROLES.includes(role)) throw new InvalidArgumentError(`role must be one of ${ROLES.join(', ')}`);
    const password = newPassword();
    const user = await this.#o.users.create(name, role, await hashPassword(password));
    if (!user) throw new ConflictError(`user ${name} already exists`);
    const token = await this.#issueToken(user.userId, 'initial');
    const principal = { userId: user.userId, name: user.name, role: user.role };
    await this.#o.audit.append(actor ?? { userId: user.userId, name: 'cli', role: 'admin', ip: null }, 'user.create', { type: 'user', id: user.userId }, { name, role });
    return { user: principal, password, token };
  }

  /** A new API token for an existing user, returned once. @throws NotFoundError for an unknown user. */
  async createToken(userId: string, label: string, actor: Actor): Promise<string> {
    const user = await this.#o.users.findById(userId);
    if (!user) throw new NotFoundError(`no user ${userId}`);
    const token = await this.#issueToken(userId, label);
    await this.#o.audit.append(actor, 'user.token.create', { type: 'user', id: userId }, { label });
    return token;
  }

  async listUsers(role?: Role): Promise<Principal[]> {
    return (await this.#o.users.list(role)).filter((u) => !u.disabled).map((u) => ({ userId: u.userId, name: u.name, role: u.role }));
  }

  async #issueToken(userId: string, label: string): Promise<string> {
    const token = newSecret('ctr_tok_');
    await this.#o.users.addToken(userId, secretHash(token), label);
    return token;
  }
}
