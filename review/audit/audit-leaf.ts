import { AbiCoder, concat, keccak256 } from 'ethers';
import { canonicalBytes } from '../../anchoring/core/canonical-json.ts';

/**
 * Audit entries sealed into Merkle batches, anchored like decision batches. A batch of audit
 * entries is stored as a row of `batches` whose "topic" is {@link auditLogTopic} of this
 * database, partition 0, and whose offset range is the range of audit ids it covers; its id is
 * the same keccak256(abi.encode(topic, partition, first, last)) as any batch, so the anchor
 * worker anchors it with the one signer, unchanged.
 */
export const AUDIT_LOG_TOPIC_PREFIX = 'claimtrail.audit-log.';

/**
 * The pseudo-topic of one database's audit log. The random instance id (review_instance) keeps
 * batch ids of different databases apart on a shared contract: audit ids restart at 1 in each.
 */
export function auditLogTopic(instanceId: string): string {
  return `${AUDIT_LOG_TOPIC_PREFIX}${instanceId}`;
}

/** Leaf tuple: (audit id, keccak256 of the canonical JSON of the whole entry). */
export const AUDIT_LEAF_TYPES = Object.freeze(['uint256', 'bytes32'] as const);

/** An audit row exactly as sealed: every column, the time as text with microseconds (UTC). */
export interface SealedAuditEntry {
  auditId: string;
  /** `YYYY-MM-DDTHH:MM:SS.ffffffZ`, as PostgreSQL stored it (no precision lost). */
  at: string;
  userId: string | null;
  userName: string;
  role: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  details: Record<string, unknown>;
}

/**
 * The Merkle leaf of one audit entry, OpenZeppelin StandardMerkleTree style:
 * keccak256(bytes.concat(keccak256(abi.encode(auditId, keccak256(canonicalJson(entry)))))).
 * Any change to any column of the entry changes the leaf.
 */
export function auditLeaf(entry: SealedAuditEntry): string {
  const contentHash = keccak256(canonicalBytes(entry));
  return keccak256(concat([keccak256(AbiCoder.defaultAbiCoder().encode(AUDIT_LEAF_TYPES, [BigInt(entry.auditId), contentHash]))]));
}
