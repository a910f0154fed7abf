/**
 * A job file for the worker-executor savepoint test, run as `node --import tsx savepoint-rescale-job.ts`
 * with SP_PARALLELISM, SP_THREADS, SP_OUT (the output file) and either SP_STOP_INTO (a directory: the
 * job is stopped with a savepoint there once SP_STOP_AFTER lines are written, and the savepoint's path
 * is printed) or SP_RESTORE_FROM (a savepoint: the job starts from it and runs to the end). The job is
 * a keyed running count on the worker executor: 20,000 numbers, key `k<n % 37>`, one line
 * `<key> <count>` per record appended by the sink from whichever worker thread runs it. The numbers
 * are slowed (1 ms per 20) so that the stop falls mid-stream. Every worker thread runs this file again.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs'
import { CallbackSink, StreamEnvironment, keyBy, map, onCoordinator, reduce } from '../../../lib/index.js'

const RECORDS = 20_000
const KEYS = 37

const out = process.env.SP_OUT!
const stopInto = process.env.SP_STOP_INTO
const stopAfter = Number(process.env.SP_STOP_AFTER ?? 2_000)
const restoreFrom = process.env.SP_RESTORE_FROM
const pause = new Int32Array(new SharedArrayBuffer(4))

type Pair = [string, number]

const env = StreamEnvironment.create({
  parallelism: Number(process.env.SP_PARALLELISM ?? 2),
  logLevel: 'silent',
  executor: { kind: 'workers', threads: Number(process.env.SP_THREADS ?? 2) },
  checkpointing: { intervalMs: 20 },
  ...(restoreFrom === undefined ? {} : { restoreFrom }),
})
env
  .fromSequence(0, RECORDS - 1, { uid: 'numbers' })
  .pipe(
    map(
      (i: number): Pair => {
        if (i % 20 === 0) Atomics.wait(pause, 0, 0, 1)
        return [`k${i % KEYS}`, 1]
      },
      { uid: 'pair' },
    ),
    keyBy((p: Pair) => p[0]),
    reduce((a: Pair, b: Pair): Pair => [a[0], a[1] + b[1]], { uid: 'count' }),
  )
  .sinkTo(new CallbackSink<Pair>((p) => appendFileSync(out, `${p[0]} ${p[1]}\n`)), { uid: 'out' })
const job = env.executeAsync(restoreFrom === undefined ? 'counted, then stopped' : 'restored')

const linesWritten = (): number => (existsSync(out) ? readFileSync(out, 'utf8').split('\n').length - 1 : 0)

await onCoordinator(async () => {
  if (stopInto !== undefined) {
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (linesWritten() < stopAfter) return
        clearInterval(check)
        resolve()
      }, 10)
    })
    const path = await job.stopWithSavepoint(stopInto)
    process.stdout.write(`${JSON.stringify({ savepoint: path, status: (await job.result).status })}\n`)
  } else {
    process.stdout.write(`${JSON.stringify({ status: (await job.result).status })}\n`)
  }
})
