/**
 * The consortium's registry file: the coordinator's and every participant's registered Ed25519
 * public key. It is the trust anchor of every signature check, so each member keeps its own copy
 * from the consortium's agreement (or reads the same list from its governance), never from the
 * coordinator at run time.
 *
 * ```json
 * { "format": "claimtrail-federation-registry-v1",
 *   "coordinator": { "id": "coordinator", "publicKey": "<64 hex>" },
 *   "participants": [ { "id": "insurer-a", "publicKey": "<64 hex>" } ] }
 * ```
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { InvalidArgumentError } from '../core/errors.ts';
import { ParticipantRegistry } from './secure-aggregation/identity.ts';

const Key = z.strictObject({ id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/), publicKey: z.string().regex(/^[0-9a-f]{64}$/) });
export const RegistryFileSchema = z.strictObject({
  format: z.literal('claimtrail-federation-registry-v1'),
  coordinator: Key,
  participants: z.array(Key).min(2),
});
export type RegistryFile = z.infer<typeof RegistryFileSchema>;

/** Reads and validates a registry file. @throws InvalidArgumentError naming the file and the problem. */
export async function readRegistryFile(file: string): Promise<{ file: RegistryFile; participants: ParticipantRegistry; coordinator: ParticipantRegistry }> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (cause) {
    throw new InvalidArgumentError(`registry ${file} cannot be read as JSON`, { cause });
  }
  const parsed = RegistryFileSchema.safeParse(json);
  if (!parsed.success) throw new InvalidArgumentError(`registry ${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return { file: parsed.data, participants: new ParticipantRegistry(parsed.data.participants), coordinator: new ParticipantRegistry([parsed.data.coordinator]) };
}
