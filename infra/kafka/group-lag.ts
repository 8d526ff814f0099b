import type { Admin } from 'kafkajs';

/**
 * Messages a consumer group has yet to read on a topic: the sum over partitions of the high
 * watermark minus the group's committed offset (a partition it never committed counts from the
 * low watermark). Transaction markers count too, so an idle transactional topic shows a few.
 */
export async function groupLag(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [watermarks, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const partitions = committed.find((c) => c.topic === topic)?.partitions ?? [];
  let lag = 0n;
  for (const w of watermarks) {
    const offset = BigInt(partitions.find((p) => p.partition === w.partition)?.offset ?? '-1');
    const behind = BigInt(w.high) - (offset < 0n ? BigInt(w.low) : offset);
    if (behind > 0n) lag += behind;
  }
  return Number(lag);
}
