// The workload of case f (queryable state), shared by the contenders that run in the harness and the
// job file of the worker-executor contender (queryable-workers-job.ts): the keyed count serving its
// counts, and the 32 keep-alive clients that ask for random keys.
import { Agent, request } from 'node:http'
import { readFileSync } from 'node:fs'
import type { StreamEnvironment } from '../../lib/api/stream-environment.js'
import type { JobHandle } from '../../lib/runtime/job-handle.js'
import { keyBy } from '../../lib/operators/key-by.js'
import { StreamOperator } from '../../lib/runtime/stream-operator.js'
import { ValueStateDescriptor } from '../../lib/state/descriptors.js'
import type { ValueState } from '../../lib/state/value-state.js'
import type { RunResult } from '../measure.js'

export const KEYS = 10_000
export const CLIENTS = 32

class CountPerKey extends StreamOperator<number, number> {
  private count!: ValueState<number>
  override open(): void {
    this.count = this.keyedState!.getState(
      new ValueStateDescriptor<number>('count', { defaultValue: 0, queryable: 'count' }),
    )
  }
  processRecord(x: number): void {
    const n = this.count.value()! + 1
    this.count.update(n)
    if (n === 1) this.output.collect(x, undefined)
  }
}

/**
 * Builds the job of case f on `env`: an endless stream over {@link KEYS} keys, counted per key into the
 * queryable state `count` (operator uid `count`); `counted` is called for each key's first record.
 *
 * @example
 * countingJob(env, () => void processed++); const job = env.executeAsync('bench')
 */
export function countingJob(env: StreamEnvironment, counted: () => void): void {
  env
    .fromIterable(function* () {
      for (let i = 0; ; i++) yield i % KEYS
    })
    .pipe(keyBy((x: number) => x))
    .transform('count', () => new CountPerKey(), { uid: 'count' })
    .sinkTo({
      name: 'none',
      guarantee: 'at-least-once',
      createWriter: () => ({ write: counted, close() {} }),
    })
}

/** The engine dispatcher's default time slice (`timeSliceMs`): the bare job's slice, for an equal share of the thread. */
export const JOB_SLICE_MS = 4

/** A running {@link countingLoop}. */
export interface CountingLoop {
  /** Records counted so far. */
  readonly counted: number
  stop(): void
}

/**
 * The bare contender's job, of the engine job's weight on the thread: counts an endless stream over
 * {@link KEYS} keys into `counts` for `sliceMs` of continuous work, then yields to the event loop with
 * `setImmediate`, as the engine's dispatcher does after each time slice. The engine's job takes one
 * 4.0–4.1 ms slice per event-loop turn here (measured), so both jobs leave the thread's remaining time to
 * HTTP; only what each does with a lookup differs.
 *
 * @example
 * const loop = countingLoop(counts); await lookups(); loop.stop()
 */
export function countingLoop(counts: Map<number, number>, sliceMs = JOB_SLICE_MS): CountingLoop {
  let counted = 0
  let stopped = false
  const slice = (): void => {
    if (stopped) return
    const deadline = performance.now() + sliceMs
    let i = counted
    do {
      // the clock is read every 1,024 records, as the dispatcher reads it between turns
      for (const end = i + 1_024; i < end; i++) {
        const key = i % KEYS
        counts.set(key, (counts.get(key) ?? 0) + 1)
      }
    } while (performance.now() < deadline)
    counted = i
    setImmediate(slice)
  }
  slice()
  return {
    get counted() {
      return counted
    },
    stop: () => {
      stopped = true
    },
  }
}

/**
 * Sends GETs from {@link CLIENTS} loops over keep-alive connections for `ms`; counts answers and their
 * checksum (the sum of the bodies' lengths).
 *
 * @example
 * const { answers } = await hammer((key) => `${base}${key}`, 3_000)
 */
export async function hammer(url: (key: number) => string, ms: number): Promise<{ answers: number; checksum: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS })
  const deadline = performance.now() + ms
  let answers = 0
  let checksum = 0
  let seed = 1
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      const body = await get(url(seed % KEYS), agent)
      answers++
      checksum = (checksum + body.length) | 0
    }
  }
  await Promise.all(Array.from({ length: CLIENTS }, loop))
  agent.destroy()
  return { answers, checksum }
}

function get(url: string, agent: Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, { agent }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (text += chunk))
      res.on('end', () =>
        res.statusCode === 200 ? resolve(text) : reject(new Error(`HTTP ${res.statusCode}: ${text}`)),
      )
    })
      .on('error', reject)
      .end()
  })
}

/**
 * The CPU time so far of this process's main thread alone, in ms (Linux: `/proc/self/task/<pid>/stat`,
 * 10 ms ticks); undefined elsewhere. Node 20 has no `process.threadCpuUsage()`.
 *
 * @example
 * const before = mainThreadCpuMs(); await work(); const spent = mainThreadCpuMs()! - before!
 */
export function mainThreadCpuMs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')
    // the fields after the command name (which may hold spaces) start at the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[11]) + Number(fields[12]) // utime, stime (fields 14 and 15 of stat)
    return ticks * 10
  } catch {
    return undefined
  }
}

/**
 * Measures one run of case f against a running counting job: waits until every key was counted once
 * and 200 ms more, then lets the clients ask for `ms`; the result's `ms` and `cpuMs` are those of the
 * lookups (`cpuMs` the main thread's CPU time), and the job is cancelled afterwards.
 *
 * @example
 * const job = env.executeAsync('bench'); return lookupsDuringJob(job, 3_000)
 */
export async function lookupsDuringJob(job: JobHandle, ms: number): Promise<RunResult> {
  const countedIn = (): number => job.metrics().operators.find((o) => o.operator === 'count')?.recordsIn ?? 0
  await job.running
  while (countedIn() < KEYS) await new Promise((r) => setTimeout(r, 5))
  const warm = performance.now() + 200
  while (performance.now() < warm) await new Promise((r) => setTimeout(r, 10))
  const base = `${job.queryableStateUrl}/jobs/${job.id}/states/count?key=`
  const before = countedIn()
  const run = await timedLookups((key) => base + key, ms)
  const after = countedIn()
  await job.cancel()
  return {
    ...run,
    extra: { 'records/s processed meanwhile': Math.round(((after - before) * 1000) / run.ms), ...run.extra },
  }
}

/**
 * Lets the clients ask `url(key)` for `ms` and times it: `ms` and `cpuMs` of the lookups (`cpuMs` the
 * main thread's CPU time, which serves and asks), the CPU of every thread beside it.
 *
 * @example
 * const run = await timedLookups((key) => `http://127.0.0.1:${port}/?key=${key}`, 3_000)
 */
export async function timedLookups(
  url: (key: number) => string,
  ms: number,
): Promise<RunResult & { readonly ms: number }> {
  const started = performance.now()
  const cpu = process.cpuUsage()
  const threadCpu = mainThreadCpuMs()!
  const { answers, checksum } = await hammer(url, ms)
  const threadCpuMs = mainThreadCpuMs()! - threadCpu
  const { user, system } = process.cpuUsage(cpu)
  return {
    records: answers,
    output: answers,
    checksum,
    ms: performance.now() - started,
    cpuMs: threadCpuMs,
    extra: { 'process CPU ms': Math.round((user + system) / 1000) },
  }
}
