import { AbiCoder, concat, keccak256 } from 'ethers';
import { canonicalBytes } from '../../anchoring/core/canonical-json.ts';

/**
 * Audit entries sealed into Merkle batches, anchored like decision batches. A batch of audit
 * entries (a seal) is stored in `audit_seals` with the range of audit ids it covers; its id is
 * keccak256(abi.encode(topic, partition, first, last)) like any batch's, with
 * {@link auditLogTopic} of this database as the topic, partition 0 and the audit id range as
 * offsets, so the anchor worker anchors it beside decision batches with the one signer.
 */
export const AUDIT_LOG_TOPIC_PREFIX = 'claimtrail.audit-log.';

/**
 * The pseudo-topic of one database's audit log (the topic of its seals' batch ids). The random instance id (review_instance) keeps
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
