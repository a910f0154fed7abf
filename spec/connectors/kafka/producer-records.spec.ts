import { createRequire } from 'node:module'
import type { Message, PartitionMetadata } from 'kafkajs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RecordSerializer, TopicMessages } from '../../../lib/connectors/kafka/producer-records.js'
import type { KafkaPartitioner } from '../../../lib/connectors/kafka/options.js'

/**
 * kafkajs partitions a batch again on every retry of `sendBatch` (its own grouping function, called
 * once per attempt, with the failed attempt's sequence numbers): each message must go to the
 * partition it went to the first time, or the broker's deduplication by sequence keeps the first
 * attempt's records of a partition and drops the retry's other records (CI saw one transaction's
 * records of one partition twice and of another none).
 */
const groupMessagesPerPartition = createRequire(import.meta.url)(
  'kafkajs/src/producer/groupMessagesPerPartition.js',
) as (args: {
  topic: string
  partitionMetadata: PartitionMetadata[]
  messages: Message[]
  partitioner: (args: { topic: string; partitionMetadata: PartitionMetadata[]; message: Message }) => number
}) => Record<string, Message[]>

const partitionMetadata = [0, 1, 2].map(
  (partitionId) => ({ partitionId, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] }) as PartitionMetadata,
)

/** The values per partition of one attempt. */
function attempt(
  messages: Message[],
  partitioner: ReturnType<RecordSerializer<unknown>['createPartitioner']>,
): Record<string, string[]> {
  const grouped = groupMessagesPerPartition({ topic: 'out', partitionMetadata, messages, partitioner })
  return Object.fromEntries(Object.entries(grouped).map(([p, ms]) => [p, ms.map((m) => String(m.value))]))
}

const partitioners: Array<[string, KafkaPartitioner<string>]> = [
  ['default (null keys: round robin from a random start)', 'default'],
  ['round-robin', 'round-robin'],
  ['a custom function that does not decide the same twice', () => Math.floor(Math.random() * 3)],
]

for (const [name, partitioner] of partitioners)
  test(`${name}: a retried batch sends each record to the partition of the first attempt`, () => {
    const records = new RecordSerializer<string>('kafkaSink', { brokers: ['127.0.0.1:9'], topic: 'out', partitioner })
    const buffer = new TopicMessages()
    for (let i = 0; i < 50; i++) records.add(buffer, `v${i}`, undefined)
    const [{ messages }] = buffer.drain() as [{ topic: string; messages: Message[] }]
    const choose = records.createPartitioner()
    const first = attempt(messages, choose)
    assert.is(Object.keys(first).length, 3, 'spread over the partitions')
    assert.equal(attempt(messages, choose), first, 'the retry')
    assert.equal(attempt(messages, choose), first, 'a second retry')
  })

test('a partition the serializer names is kept, and a key hashes as kafkajs hashes it', () => {
  const records = new RecordSerializer<{ id: string; p?: number }>('kafkaSink', {
    brokers: ['127.0.0.1:9'],
    topic: 'out',
    serializer: (r) => ({ key: r.id, value: r.id, partition: r.p }),
  })
  const buffer = new TopicMessages()
  records.add(buffer, { id: 'a', p: 2 }, undefined)
  records.add(buffer, { id: 'b' }, undefined)
  const [{ messages }] = buffer.drain() as [{ topic: string; messages: Message[] }]
  const choose = records.createPartitioner()
  const first = attempt(messages, choose)
  assert.ok(first['2']?.includes('a'))
  assert.equal(attempt(messages, choose), first)
})

test.run()
