import { Kafka, logLevel, type Message } from 'kafkajs'
import { createCluster, type FetchedPartition, toBatch } from '../../../lib/connectors/kafka/kafka-internals.js'
import type { SourceReaderContext } from '../../../lib/runtime/source.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { coordinatorOnly } from '../../support/worker-pass/pass-context.js'

/** A kafkajs client that logs nothing. */
export function client(brokers: string[]): Kafka {
  return new Kafka({ brokers, clientId: 'spec', logLevel: logLevel.NOTHING })
}

/**
 * Writes `messages` to `topic` (no transactions), `batch` at a time; each message may name its partition.
 * Idempotent: a send retried after a timeout or a leader change on a loaded machine must not put a batch
 * in the log twice, since the suites assert every record exactly once (a plain producer did, once: the
 * first 500 of 6,000 records twice, which looked like the source re-reading them). On the coordinator
 * only (`coordinatorOnly`): a worker of the worker-executor test pass replaying the test would write
 * them again.
 */
export function produce(brokers: string[], topic: string, messages: Message[], batch = 500): Promise<void> {
  return coordinatorOnly(() => write(brokers, topic, messages, batch), undefined)
}

async function write(brokers: string[], topic: string, messages: Message[], batch: number): Promise<void> {
  const producer = client(brokers).producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  try {
    for (let i = 0; i < messages.length; i += batch)
      await producer.send({ topic, messages: messages.slice(i, i + batch), acks: -1 })
  } finally {
    await producer.disconnect()
  }
}

/** One record as it lies in the log, with the producer id of its record batch (-1 outside transactions). */
export interface LoggedRecord {
  readonly partition: number
  readonly offset: number
  readonly key: string | null
  readonly value: string | null
  readonly headers: Record<string, string>
  readonly timestamp: number
  readonly producerId: string
}

/**
 * Every record in `topic`, read straight from the log, control records skipped. `read_committed` (as an
 * exactly-once consumer reads) leaves out the records of aborted transactions, and first waits until no
 * transaction is open (see {@link settled}): a commit returns before the broker has written its
 * markers, so a read at once could miss what was just committed; `settle: false` reads what is
 * committed so far instead (a job still writing). `read_uncommitted` (default) returns every record up
 * to the end of the log.
 *
 * @example
 * const values = (await readLog(brokers, 'out', 'read_committed')).map((r) => r.value)
 */
export async function readLog(
  brokers: string[],
  topic: string,
  isolation: 'read_committed' | 'read_uncommitted' = 'read_uncommitted',
  options: { settle?: boolean } = {},
): Promise<LoggedRecord[]> {
  const result: LoggedRecord[] = []
  await eachPartition(brokers, topic, isolation === 'read_committed' ? 1 : 0, async (partition, fetch) => {
    const high = await partitionEnd(brokers, topic, 'read_uncommitted', partition)
    if (isolation === 'read_committed' && options.settle !== false) await settled(brokers, topic, partition)
    let offset = 0
    while (offset < Number(high)) {
      const data = await fetch(offset)
      if (data === undefined || data.messages.length === 0) break
      // toBatch drops control records and, read_committed, those of aborted transactions.
      const batch = toBatch(topic, String(offset), data)
      const last = Number(data.messages[data.messages.length - 1]!.offset)
      for (const m of batch.messages as unknown as Array<{
        offset: string
        key: Buffer | null
        value: Buffer | null
        headers?: Record<string, Buffer>
        timestamp: string
        isControlRecord?: boolean
        batchContext: { producerId: string }
      }>) {
        if (Number(m.offset) < offset) continue
        const headers: Record<string, string> = {}
        for (const [k, v] of Object.entries(m.headers ?? {})) headers[k] = String(v)
        result.push({
          partition,
          offset: Number(m.offset),
          key: m.key?.toString() ?? null,
          value: m.value?.toString() ?? null,
          headers,
          timestamp: Number(m.timestamp),
          producerId: m.batchContext.producerId,
        })
      }
      offset = Math.max(offset, last + 1)
    }
  })
  return result
}

/**
 * Calls `visit` for each partition of `topic` in turn, with a Fetch of that partition from an offset
 * (straight from its leader, at `isolationLevel`: 1 read_committed), on one cluster connection.
 */
async function eachPartition(
  brokers: string[],
  topic: string,
  isolationLevel: 0 | 1,
  visit: (partition: number, fetch: (offset: number) => Promise<FetchedPartition | undefined>) => Promise<void>,
): Promise<void> {
  const cluster = createCluster(client(brokers), { isolationLevel })
  await cluster.connect()
  try {
    await cluster.addMultipleTargetTopics([topic])
    const admin = client(brokers).admin()
    await admin.connect()
    const partitions = (await admin.fetchTopicOffsets(topic)).map((o) => o.partition)
    await admin.disconnect()
    for (const partition of partitions) {
      const leader = Object.keys(cluster.findLeaderForPartitions(topic, [partition]))[0]!
      const broker = await cluster.findBroker({ nodeId: leader })
      await visit(partition, async (offset) => {
        const { responses } = await broker.fetch({
          replicaId: -1,
          isolationLevel,
          maxWaitTime: 10,
          minBytes: 1,
          maxBytes: 4 << 20,
          topics: [{ topic, partitions: [{ partition, fetchOffset: String(offset), maxBytes: 4 << 20 }] }],
        })
        return responses[0]?.partitions[0]
      })
    }
  } finally {
    await cluster.disconnect()
  }
}

/**
 * `topic`'s log as its record batches, one line a partition, for the message of a failed exactly-once
 * check: each batch's offsets, producer id and epoch ("txn" when transactional), each control batch as
 * COMMIT or ABORT of its producer, and the aborted transactions a read_committed Fetch lists
 * (producer id @ first offset). Tells a writer's fault (a batch in the wrong transaction) from a
 * reader's (a batch read against the list).
 *
 * @example
 * assert.equal(problems, [], `${plan}\n${await describeLog(brokers, 'out')}`)
 * // p0: 0-16 P1000e0 txn | 17 P1000 ABORT | … aborted: P1000@0
 */
export async function describeLog(brokers: string[], topic: string): Promise<string> {
  const lines: string[] = []
  await eachPartition(brokers, topic, 1, async (partition, fetch) => {
    const batches: string[] = []
    const aborted = new Set<string>()
    let offset = 0
    for (;;) {
      const data = await fetch(offset)
      if (data === undefined || data.messages.length === 0) break
      for (const a of data.abortedTransactions ?? []) aborted.add(`P${a.producerId}@${a.firstOffset}`)
      let seen: unknown
      for (const m of data.messages as unknown as Array<{
        offset: string
        key: Buffer | null
        batchContext: LogBatch
      }>) {
        const b = m.batchContext
        if (b === seen || Number(m.offset) < offset) continue
        seen = b
        const first = Number(b.firstOffset)
        const span = b.lastOffsetDelta === 0 ? `${first}` : `${first}-${first + b.lastOffsetDelta}`
        const marker = m.key !== null && m.key.length >= 4 && m.key.readInt16BE(2) === 1 ? 'COMMIT' : 'ABORT'
        batches.push(
          b.isControlBatch
            ? `${span} P${b.producerId} ${marker}`
            : `${span} P${b.producerId}e${b.producerEpoch}${b.inTransaction ? ' txn' : ''}`,
        )
      }
      offset = Number(data.messages[data.messages.length - 1]!.offset) + 1
    }
    lines.push(`p${partition}: ${batches.join(' | ')}; aborted: ${[...aborted].join(' ') || 'none'}`)
  })
  return lines.join('\n')
}

/** The fields of a kafkajs record batch that {@link describeLog} prints. */
interface LogBatch {
  readonly firstOffset: string
  readonly lastOffsetDelta: number
  readonly producerId: string
  readonly producerEpoch: number
  readonly inTransaction: boolean
  readonly isControlBatch: boolean
}

/**
 * The end offset of `topic`'s `partition`: read_committed its last stable offset (before the first open
 * transaction), read_uncommitted the end of its log (markers included).
 *
 * @example
 * await partitionEnd(brokers, 'out', 'read_uncommitted') // 8
 */
export async function partitionEnd(
  brokers: string[],
  topic: string,
  isolation: 'read_committed' | 'read_uncommitted',
  partition = 0,
): Promise<number> {
  const cluster = createCluster(client(brokers), { isolationLevel: isolation === 'read_committed' ? 1 : 0 })
  type Offsets = { fetchTopicsOffset(q: unknown[]): Promise<Array<{ partitions: Array<{ offset: string }> }>> }
  await cluster.connect()
  try {
    await cluster.addMultipleTargetTopics([topic])
    const [answer] = await (cluster as unknown as Offsets).fetchTopicsOffset([
      { topic, partitions: [{ partition }], fromBeginning: false },
    ])
    return Number(answer!.partitions[0]!.offset)
  } finally {
    await cluster.disconnect()
  }
}

/**
 * Waits until no transaction is open on `topic`'s `partition`: its last stable offset reached the end of
 * its log (each transaction committed, aborted, or timed out by the broker). Fails after `timeoutMs`.
 *
 * @example
 * await settled(brokers, 'out', 0)
 */
export async function settled(brokers: string[], topic: string, partition = 0, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const [stable, all] = await Promise.all(
      (['read_committed', 'read_uncommitted'] as const).map((isolation) =>
        partitionEnd(brokers, topic, isolation, partition),
      ),
    )
    if (stable === all) return
    if (performance.now() > deadline)
      throw new Error(`${topic}/${partition}: a transaction still open after ${timeoutMs} ms (${stable} < ${all})`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** A reader context outside a job. */
export function readerContext(subtask = 0, parallelism = 1): SourceReaderContext {
  return { subtask, parallelism, processingTime: systemProcessingTime }
}

/** Spins the CPU for `ms` (slows a job down so checkpoints fall between records). */
export function busy(ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end);
}

/** Sorted copy, numbers ascending. */
export function ascending(values: number[]): number[] {
  return [...values].sort((a, b) => a - b)
}

/** 0..n-1 */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i)
}
