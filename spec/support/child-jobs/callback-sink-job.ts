/**
 * A job file for the CallbackSink tests, run as `node --import tsx callback-sink-job.ts`: numbers 1…2000
 * (CALLBACK_RECORDS) through a map at parallelism 2 on 2 worker threads into a `CallbackSink` whose
 * callback collects on the coordinating thread. CALLBACK_FAULT=throw makes the callback throw on record
 * 1000; CALLBACK_SLOW=1 makes it spin 1 ms every 20 records. It prints one JSON line: how the job
 * ended, what the callback received, on which threads, and how long each subtask was backpressured.
 */
import { isMainThread, threadId } from 'node:worker_threads'
import { CallbackSink, StreamEnvironment, isCoordinator, map } from '../../../lib/index.js'

const records = Number(process.env.CALLBACK_RECORDS ?? 2000)
const seen: number[] = []
let backpressuredMs: number[] = []
const mappedOn = new Set<number>()
const subtasks = new Set<number>()
let calledOffMain = 0

const env = StreamEnvironment.create({ parallelism: 2, executor: { kind: 'workers', threads: 2 } })
env
  .fromSequence(1, records)
  .pipe(map((i: number): [number, number] => [i, threadId], { uid: 'tag' }))
  .sinkTo(
    new CallbackSink<[number, number]>(([i, thread], subtask) => {
      if (process.env.CALLBACK_FAULT === 'throw' && i === 1000) throw new Error('callback refused record 1000')
      if (!isMainThread) calledOffMain++
      if (process.env.CALLBACK_SLOW === '1' && i % 20 === 0) {
        const until = performance.now() + 1
        while (performance.now() < until);
      }
      seen.push(i)
      mappedOn.add(thread)
      subtasks.add(subtask)
    }),
    { uid: 'out' },
  )

let outcome: { status: string; error?: string }
try {
  const result = await env.execute('callbacks')
  backpressuredMs = result.metrics.subtasks.map((s) => s.backpressuredMs)
  outcome = { status: result.status }
} catch (error) {
  outcome = { status: 'failed', error: String((error as Error).message) }
}
if (isCoordinator())
  console.log(
    JSON.stringify({
      ...outcome,
      seen: [...seen].sort((a, b) => a - b),
      mappedOn: [...mappedOn],
      subtasks: [...subtasks].sort(),
      calledOffMain,
      backpressuredMs,
    }),
  )
