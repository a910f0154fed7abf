import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { RedisStreamEntry } from '../../../lib/connectors/redis/index.js'
import type { SourceReaderContext } from '../../../lib/runtime/source.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { coordinatorOnly, passValue } from '../../support/worker-pass/pass-context.js'

/**
 * Keys on a shared Redis, unique per test run (in a worker of the worker-executor test pass replaying a
 * test, the coordinator's), removed by `cleanup()`.
 */
export class TestKeys {
  readonly prefix = `sluice-spec:${passValue(() => randomUUID().slice(0, 8))}`
  private readonly used = new Set<string>()

  key(name: string): string {
    const key = `${this.prefix}:${name}`
    this.used.add(key)
    return key
  }

  async cleanup(redis: Redis): Promise<void> {
    if (this.used.size > 0) await redis.del(...this.used)
  }
}

/**
 * Appends `count` entries `{ n: '<i>', payload: '{"n":i}' }` (i from `from`) to a stream, pipelined.
 * On the coordinator only (`coordinatorOnly`): a worker of the worker-executor test pass replaying the
 * test would append them again.
 *
 * @example
 * await fillStream(redis, key, 10_000)
 */
export function fillStream(
  redis: Redis,
  stream: string,
  count: number,
  from = 0,
  payload = (n: number): string => JSON.stringify({ n }),
): Promise<void> {
  return coordinatorOnly(() => append(redis, stream, count, from, payload), undefined)
}

async function append(
  redis: Redis,
  stream: string,
  count: number,
  from: number,
  payload: (n: number) => string,
): Promise<void> {
  for (let i = from; i < from + count; i += 1000) {
    const pipeline = redis.pipeline()
    for (let n = i; n < Math.min(i + 1000, from + count); n++)
      pipeline.xadd(stream, '*', 'n', String(n), 'payload', payload(n))
    await pipeline.exec()
  }
}

/** The `n` field of an entry. */
export const entryNumber = (entry: RedisStreamEntry): number => Number(entry.fields.n)

/** 0 … count-1. */
export const range = (count: number, from = 0): number[] => Array.from({ length: count }, (_, i) => from + i)

/** A reader context for driving a reader by hand. */
export function readerContext(subtask = 0, parallelism = 1): SourceReaderContext {
  return { subtask, parallelism, processingTime: systemProcessingTime }
}

/** Spins the CPU for `ms` (a job slower than its input, without timers). */
export function busy(ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end);
}

/** Duplicates and missing numbers of `received` against 0 … expected-1. */
export function census(received: readonly number[], expected: number): { missing: number[]; duplicates: number } {
  const seen = new Uint8Array(expected)
  let duplicates = 0
  for (const n of received) {
    if (seen[n] === 1) duplicates++
    seen[n] = 1
  }
  const missing: number[] = []
  for (let i = 0; i < expected; i++) if (seen[i] === 0) missing.push(i)
  return { missing, duplicates }
}
