/**
 * A job file for the executor tests, run as `node --import tsx counts-job.ts` with COUNTS_PARALLELISM,
 * COUNTS_THREADS and COUNTS_OUT (a path prefix). It runs a word count and a keyed count, each on the
 * single-thread executor and on the worker executor; each sink appends JSON lines to
 * `${COUNTS_OUT}-<executor>-<job>.jsonl` from whichever thread runs it. Every worker thread runs this
 * file again and builds the same jobs. COUNTS_FAULT makes the worker-executor jobs misbehave:
 * `crash` (in the word count a subtask throws once, in the keyed count a worker thread exits once),
 * `mismatch` (workers build another graph than the coordinator). It prints one JSON line per job: its name, how it
 * ended, and its final metrics (records in and out per operator, each subtask's status).
 */
import { appendFileSync, existsSync, writeFileSync } from 'node:fs'
import {
  CallbackSink,
  type DataStream,
  StreamEnvironment,
  flatMap,
  isCoordinator,
  keyBy,
  map,
  onCoordinator,
  reduce,
} from '../../../lib/index.js'

const parallelism = Number(process.env.COUNTS_PARALLELISM ?? 2)
const threads = Number(process.env.COUNTS_THREADS ?? 2)
const out = process.env.COUNTS_OUT!
const fault = process.env.COUNTS_FAULT

const WORDS = ['to', 'be', 'or', 'not', 'that', 'is', 'the', 'question', 'whether', 'tis', 'nobler']

/** Deterministic lines of words. */
function line(i: number): string {
  return Array.from({ length: 1 + (i % 7) }, (_, j) => WORDS[(i * 31 + j * 17) % WORDS.length]).join(' ')
}

/** Misbehaves once per job (a marker file remembers it), on record 500, as COUNTS_FAULT says. */
function faultOnce(job: string, i: number): void {
  if (fault !== 'crash' || i !== 500) return
  const marker = `${out}-${job}.fault`
  if (existsSync(marker)) return
  writeFileSync(marker, 'done')
  if (job === 'keys') process.exit(7)
  throw new Error(`injected failure in ${job}`)
}

type Pair = [string, number]
const sum = (a: Pair, b: Pair): Pair => [a[0], a[1] + b[1]]

function counts(stream: DataStream<number>, job: string, workers: boolean): DataStream<Pair> {
  const faulty = map((i: number) => {
    if (workers) faultOnce(job, i)
    return i
  })
  if (job === 'words')
    return stream.pipe(
      faulty,
      map((i: number) => line(i), { name: 'line', uid: 'line' }),
      flatMap((l: string) => l.split(' '), { name: 'split', uid: 'split' }),
      map((w: string): Pair => [w, 1], { name: 'pair', uid: 'pair' }),
      keyBy((p: Pair) => p[0]),
      reduce(sum, { name: 'count', uid: 'count' }),
    )
  return stream.pipe(
    faulty,
    map((i: number): Pair => [`k${(i * 7919) % 101}`, 1], { name: 'key', uid: 'key' }),
    keyBy((p: Pair) => p[0]),
    reduce(sum, { name: 'count', uid: 'count' }),
  )
}

for (const executor of ['single-thread', 'workers'] as const) {
  for (const job of ['words', 'keys']) {
    const workers = executor === 'workers'
    const p = workers && fault === 'mismatch' && !isCoordinator() ? parallelism + 1 : parallelism
    const env = StreamEnvironment.create({
      parallelism: p,
      logLevel: 'silent',
      executor: workers ? { kind: 'workers', threads } : { kind: 'single-thread' },
      restartStrategy: { kind: 'fixed-delay', attempts: 2, delayMs: 10 },
    })
    const file = `${out}-${executor}-${job}.jsonl`
    counts(env.fromSequence(0, job === 'words' ? 1999 : 9999, { uid: 'numbers' }), job, workers).sinkTo(
      new CallbackSink<Pair>((pair) => appendFileSync(file, `${JSON.stringify(pair)}\n`)),
      { name: 'out', uid: 'out' },
    )
    const outcome = await env.execute(`${job} on ${executor}`).then(
      (r) => ({
        status: r.status,
        restarts: r.metrics.restarts,
        // what job.metrics() shows of each operator and subtask, wherever they ran
        operators: Object.fromEntries(r.metrics.operators.map((o) => [o.operator, [o.recordsIn, o.recordsOut]])),
        subtasks: r.metrics.subtasks.map((s) => `${s.vertex} #${s.subtask}: ${s.status}`).sort(),
      }),
      (error: Error) => ({ status: 'failed', error: `${(error as { code?: string }).code}: ${error.message}` }),
    )
    onCoordinator(() => process.stdout.write(`${JSON.stringify({ executor, job, ...outcome })}\n`))
  }
}
