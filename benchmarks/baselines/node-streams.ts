// Baseline: Node's own `stream.pipeline` in object mode, one record per chunk and arrays of 1,000
// records per chunk (what a Node program does to amortise the per-chunk cost, as the engine batches).
import { Readable, Transform, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { RssSampler, type RunResult } from '../measure.js'

/** Records per chunk of the chunked variants. */
export const CHUNK = 1000

function mapper<A, B>(fn: (a: A) => B): Transform {
  return new Transform({ objectMode: true, transform: (x: A, _enc, cb) => cb(null, fn(x)) })
}

function filterer<A>(predicate: (a: A) => boolean): Transform {
  return new Transform({ objectMode: true, transform: (x: A, _enc, cb) => (predicate(x) ? cb(null, x) : cb()) })
}

/** Counts and sums single records. */
function counter(): { sink: Writable; result: (records: number) => RunResult } {
  let output = 0
  let checksum = 0
  const sink = new Writable({
    objectMode: true,
    write(v: number, _enc, cb) {
      output++
      checksum += v
      cb()
    },
  })
  return { sink, result: (records) => ({ records, output, checksum }) }
}

/** Counts and sums arrays of records. */
function chunkCounter(): { sink: Writable; result: (records: number) => RunResult } {
  let output = 0
  let checksum = 0
  const sink = new Writable({
    objectMode: true,
    write(chunk: number[], _enc, cb) {
      for (let i = 0; i < chunk.length; i++) checksum += chunk[i]!
      output += chunk.length
      cb()
    },
  })
  return { sink, result: (records) => ({ records, output, checksum }) }
}

/** Case stateless, one record per chunk. */
export async function statelessChain(data: readonly number[]): Promise<RunResult> {
  const { sink, result } = counter()
  await pipeline(
    Readable.from(data),
    mapper((x: number) => x * 2),
    filterer((x: number) => x % 3 !== 0),
    sink,
  )
  return result(data.length)
}

/** Case stateless, arrays of {@link CHUNK} records per chunk (`chunked` is `data` cut up beforehand). */
export async function statelessChainChunked(chunked: readonly number[][], records: number): Promise<RunResult> {
  const { sink, result } = chunkCounter()
  await pipeline(
    Readable.from(chunked),
    mapper((c: number[]) => c.map((x) => x * 2)),
    mapper((c: number[]) => c.filter((x) => x % 3 !== 0)),
    sink,
  )
  return result(records)
}

/** A Map of counts per key x % 1000; `count` returns the key's new count. */
function keyCounter(): (x: number) => number {
  const counts = new Map<number, number>()
  return (x) => {
    const key = x % 1000
    const n = (counts.get(key) ?? 0) + 1
    counts.set(key, n)
    return n
  }
}

/** Case keyed, one record per chunk. */
export async function keyedCount(data: readonly number[]): Promise<RunResult> {
  const { sink, result } = counter()
  await pipeline(
    Readable.from(data),
    mapper((x: number) => x + 1),
    filterer((x: number) => x % 3 !== 0),
    mapper(keyCounter()),
    sink,
  )
  return result(data.length)
}

/** Case keyed, arrays of {@link CHUNK} records per chunk. */
export async function keyedCountChunked(chunked: readonly number[][], records: number): Promise<RunResult> {
  const { sink, result } = chunkCounter()
  const count = keyCounter()
  await pipeline(
    Readable.from(chunked),
    mapper((c: number[]) => c.map((x) => x + 1)),
    mapper((c: number[]) => c.filter((x) => x % 3 !== 0)),
    mapper((c: number[]) => c.map(count)),
    sink,
  )
  return result(records)
}

/**
 * Case backpressure: a fast generated source (1 … n, nothing preallocated), map(x+1), into a slow
 * Writable that yields to the event loop (setImmediate) every `slowEvery` records. Resident memory is
 * sampled while it runs.
 */
export async function slowSink(n: number, slowEvery: number, highWaterMark: number): Promise<RunResult> {
  function* sequence(): Generator<number> {
    for (let i = 1; i <= n; i++) yield i
  }
  let output = 0
  let checksum = 0
  let sinceYield = 0
  const sink = new Writable({
    objectMode: true,
    highWaterMark,
    write(v: number, _enc, cb) {
      output++
      checksum += v
      if (++sinceYield >= slowEvery) {
        sinceYield = 0
        setImmediate(cb)
      } else cb()
    },
  })
  const sampler = new RssSampler(50)
  await pipeline(
    Readable.from(sequence()),
    mapper((x: number) => x + 1),
    sink,
  )
  const rss = sampler.stop()
  return { records: n, output, checksum, extra: { 'max RSS growth (MB)': rss.maxGrowthMB } }
}
