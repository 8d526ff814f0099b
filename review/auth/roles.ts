/** The review app's roles. Each route names the roles it admits; there is no implicit hierarchy. */
export const ROLES = ['investigator', 'supervisor', 'compliance', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The authenticated caller of a request. */
export interface Principal {
  userId: string;
  name: string;
  role: Role;
}

/** Who did something and from where, for the audit log. */
export interface Actor extends Principal {
  /** Client address as the HTTP server saw it (behind a proxy: configure fastify's trustProxy). */
  ip: string | null;
}
