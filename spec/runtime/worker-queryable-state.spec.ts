import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

const run = promisify(execFile)
const JOB = join(import.meta.dirname, '../support/child-jobs/queryable-job.ts')

interface Outcome {
  coordinatorThread: number
  counts: Record<string, number>
  expected: Record<string, number>
  threads: number[]
  poison: { code?: string; status?: number; value?: unknown }
  afterRestart: { value?: unknown; code?: string }
  restarts: number
  metrics: { countedIn: number; deadLetters: number }
  deadLetter: { operator: string; reason: string; record: unknown }
}

test('on workers at parallelism 4 on 2 threads, lookups answer from both threads, a worker dying mid-lookup answers ERR_JOB_RESTARTING, and metrics and dead letters come back', async () => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', JOB], {
    env: { ...process.env, SLUICE_EXECUTOR: '' },
    timeout: 180_000,
  })
  const outcome = JSON.parse(stdout.trim()) as Outcome
  // every page's count, read in the worker that counted it, exactly
  assert.equal(outcome.counts, outcome.expected)
  // the keys were counted, and answered, on two worker threads, neither of them the coordinator
  assert.is(outcome.threads.length, 2)
  // the workers' metrics count every click, and the dead letter, on the coordinator
  const clicks = Object.values(outcome.expected).reduce((a, b) => a + b, 0)
  assert.equal(outcome.metrics, { countedIn: clicks, deadLetters: 1 })
  // a dead letter of a worker's subtask reaches the job handle
  assert.equal(outcome.deadLetter, { operator: 'validate', reason: 'not a page', record: 'malformed' })
  assert.not.ok(outcome.threads.includes(outcome.coordinatorThread))
  // the lookup the dying worker took and never answered: the same answer as any restarting job's
  assert.equal(outcome.poison, { code: 'ERR_JOB_RESTARTING', status: 503 })
  assert.is(outcome.restarts, 1)
  // the fresh workers serve again (their state started empty: the job takes no checkpoints)
  assert.equal(outcome.afterRestart, { value: 1 })
})

test.run()
