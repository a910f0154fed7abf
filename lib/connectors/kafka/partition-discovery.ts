import type { Admin } from 'kafkajs'
import type { TopicPartition } from './start-position.js'

/** Which topics a source reads: a fixed list, or every topic matching a pattern. */
export type TopicSelection = { readonly topics: readonly string[] } | { readonly pattern: RegExp }

/**
 * Every partition of the selected topics, as the cluster's metadata has them now. Internal topics
 * (names starting with '__') never match a pattern; a listed topic that does not exist has none.
 *
 * @example
 * await listPartitions(admin, { pattern: /^orders-/ }) // [{ topic: 'orders-eu', partition: 0 }, …]
 */
export async function listPartitions(admin: Admin, selection: TopicSelection): Promise<TopicPartition[]> {
  let topics: string[]
  if ('pattern' in selection) {
    const pattern = selection.pattern
    topics = (await admin.listTopics()).filter((t) => !t.startsWith('__') && testPattern(pattern, t)).sort()
    if (topics.length === 0) return []
  } else {
    // A listed topic that does not exist yet has no partitions until it is created (and discovered).
    const existing = new Set(await admin.listTopics())
    topics = selection.topics.filter((t) => existing.has(t))
    if (topics.length === 0) return []
  }
  const { topics: metadata } = await admin.fetchTopicMetadata({ topics })
  const result: TopicPartition[] = []
  for (const t of metadata) for (const p of t.partitions) result.push({ topic: t.name, partition: p.partitionId })
  return result.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))
}

function testPattern(pattern: RegExp, topic: string): boolean {
  pattern.lastIndex = 0
  return pattern.test(topic)
}

/**
 * The subtask that owns a partition when subtasks split the partitions among themselves (Flink's
 * KafkaSourceEnumerator rule): partitions of one topic go round-robin from a start that depends on
 * the topic's name, so several topics spread evenly. Deterministic, so every subtask — and a job
 * restored at another parallelism — agrees without talking to the others.
 *
 * @example
 * partitionOwner('orders', 3, 2) // 0 or 1
 */
export function partitionOwner(topic: string, partition: number, parallelism: number): number {
  const start = ((javaStringHash(topic) * 31) & 0x7fffffff) % parallelism
  return (start + partition) % parallelism
}

/** Java's String.hashCode, so assignments match Flink's for the same topics. */
function javaStringHash(text: string): number {
  let hash = 0
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0
  return hash
}
