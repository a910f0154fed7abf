import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { tempDir } from '../../support/temp-dir.js'

const Workers = suite('actor source and sink on both executors (the refs stay on the coordinating thread)')
const run = promisify(execFile)

interface Outcome {
  readonly status: string
  readonly values: number[]
  readonly threads: number[]
  readonly answers: Record<string, number>
}

/** Runs spec/connectors/actor/workers-job.ts on `executor` in a child process. */
async function actorJob(executor: 'single-thread' | 'workers'): Promise<Outcome> {
  const dir = tempDir('sluice-actor-workers-')
  try {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'spec/connectors/actor/workers-job.ts', executor, dir.path],
      { env: { ...process.env, SLUICE_EXECUTOR: '' }, timeout: 120_000 },
    )
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as Outcome
  } finally {
    dir.remove()
  }
}

const expected = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? [10 * i, 10 * i + 1, 10 * i + 2] : [10 * i]))
  .flat()
  .sort((a, b) => a - b)

Workers(
  'checkpointed acks, backpressure, duplicates, rejections and the sink target: the same on one thread and on 2 workers',
  async () => {
    const [single, workers] = await Promise.all([actorJob('single-thread'), actorJob('workers')])
    for (const [name, outcome] of [
      ['single-thread', single],
      ['workers', workers],
    ] as const) {
      assert.is(outcome.status, 'finished', name)
      assert.equal(outcome.values, expected, `${name}: the target got every record once`)
      assert.equal(outcome.answers, { ack: 300, duplicate: 20, rejected: 1 }, name)
    }
    assert.equal(single.threads, [0], 'one thread: the records were mapped on the main thread')
    assert.is(workers.threads.length, 2, 'workers: both worker threads mapped records')
    assert.not.ok(workers.threads.includes(0), 'workers: no record was mapped on the main thread')
  },
)

Workers.run()
