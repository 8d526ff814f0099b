import { z } from 'zod';
import { ROLES } from '../review/auth/roles.ts';

/** Wire format of one access event on the access-events topic (key: the user's pseudonym). */
export const ACCESS_EVENT_FORMAT = 'claimtrail-access-v1';

const pseudonym = z.string().regex(/^[0-9a-f]{64}$/, 'a pseudonym is 64 hex digits');
const id = z.string().regex(/^[1-9][0-9]{0,18}$/, 'a positive whole number');

/**
 * One audit entry of the review app as an access event. It names people and addresses only by
 * keyed pseudonyms (review/audit/access-pseudonyms.ts): `user`, the case's `member`, `provider` and
 * `assignee`, the client `ip`. Case ids are the review app's internal numbers. `detail` keeps the
 * few non-identifying facts the monitor reads (a disposition, the queue of a take, how many cases
 * a list returned, whether it searched by member id or NPI); the entry's other details stay in the audit log.
 */
export const AccessEventSchema = z.strictObject({
  format: z.literal(ACCESS_EVENT_FORMAT),
  /** The audit log this entry comes from (review_instance id: audit ids restart in each database). */
  source: z.string().uuid(),
  auditId: id,
  /** When the entry was written, ISO 8601 UTC with microseconds. */
  at: z.string().datetime({ precision: 6 }),
  /** null for a system actor (the CLI operator), who has no review user. */
  user: pseudonym.nullable(),
  role: z.enum(ROLES),
  action: z.string().regex(/^[a-z][a-z0-9._-]{0,63}$/, 'an action name'),
  targetType: z.string().max(64).nullable(),
  /** The case the entry concerns, with its work context when the access happened. */
  case: z
    .strictObject({
      id,
      queue: z.string().max(128).nullable(),
      assignee: pseudonym.nullable(),
      status: z.enum(['open', 'assigned', 'snoozed', 'escalated', 'closed']).nullable(),
      member: pseudonym.nullable(),
      provider: pseudonym.nullable(),
    })
    .nullable(),
  ip: pseudonym.nullable(),
  detail: z.strictObject({
    disposition: z.string().max(64).optional(),
    queue: z.string().max(128).nullable().optional(),
    returned: z.number().int().min(0).optional(),
    identifierSearch: z.literal(true).optional(),
  }),
});
export type AccessEvent = z.infer<typeof AccessEventSchema>;

/** Why an access event could not be decoded: `MALFORMED` (not JSON, or not the format). */
export interface AccessEventDecodeFailure {
  ok: false;
  errors: Array<{ path: string; message: string }>;
}

/** Encodes an event (validated first: a bug never reaches the topic). */
export function encodeAccessEvent(event: AccessEvent): Buffer {
  return Buffer.from(JSON.stringify(AccessEventSchema.parse(event)));
}

/** Decodes a message value; never throws. */
export function decodeAccessEvent(value: Buffer | null): { ok: true; event: AccessEvent } | AccessEventDecodeFailure {
  if (value === null) return { ok: false, errors: [{ path: '', message: 'empty message' }] };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch {
    return { ok: false, errors: [{ path: '', message: 'not JSON' }] };
  }
  const parsed = AccessEventSchema.safeParse(json);
  if (!parsed.success) return { ok: false, errors: parsed.error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message })) };
  return { ok: true, event: parsed.data };
}
