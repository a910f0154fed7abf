import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

const run = promisify(execFile)
const JOB = join(import.meta.dirname, '../../support/child-jobs/callback-sink-job.ts')

interface Outcome {
  status: string
  error?: string
  seen: number[]
  mappedOn: number[]
  subtasks: number[]
  calledOffMain: number
  backpressuredMs: number[]
}

/** Runs the callback job file (2 worker threads) in a child process; resolves with what it printed. */
async function callbackJob(env: Record<string, string> = {}): Promise<Outcome> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', JOB], {
    env: { ...process.env, SLUICE_EXECUTOR: '', ...env },
    timeout: 120_000,
  })
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Outcome
}

test('on the worker executor a CallbackSink calls its function on the coordinating thread with every record, before the job ends', async () => {
  const outcome = await callbackJob()
  assert.is(outcome.status, 'finished')
  assert.equal(
    outcome.seen,
    Array.from({ length: 2000 }, (_, i) => i + 1),
  )
  assert.is(outcome.calledOffMain, 0)
  assert.equal(outcome.subtasks, [0, 1])
  assert.is(outcome.mappedOn.length, 2, 'the records were mapped on two threads')
  assert.not.ok(outcome.mappedOn.includes(0), 'no record was mapped on the main thread')
})

test('on the worker executor a CallbackSink whose function throws fails the job with its error', async () => {
  const outcome = await callbackJob({ CALLBACK_FAULT: 'throw' })
  assert.is(outcome.status, 'failed')
  assert.match(outcome.error ?? '', 'callback refused record 1000')
  assert.not.ok(outcome.seen.includes(1000))
})

test('on the worker executor a slow CallbackSink function backpressures the workers: at most a bounded number of records wait for it', async () => {
  // 40,000 records against a function that spins 1 ms every 20: 2 s of work on the coordinator, far
  // more than CALLBACK_RECORDS_IN_FLIGHT; without the bound the writers never wait (0 ms backpressured)
  const outcome = await callbackJob({ CALLBACK_SLOW: '1', CALLBACK_RECORDS: '40000' })
  assert.is(outcome.status, 'finished')
  assert.is(outcome.seen.length, 40_000)
  assert.ok(
    outcome.backpressuredMs.some((ms) => ms > 0),
    `a sink subtask waited for the function (${outcome.backpressuredMs})`,
  )
})

test.run()
