import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment } from '../../lib/index.js'
import { resolveExecutor } from '../../lib/runtime/workers/executor-config.js'
import { configError } from '../support/config-error.js'
import { tempDir } from '../support/temp-dir.js'

const run = promisify(execFile)
const JOB = join(import.meta.dirname, '../support/child-jobs/counts-job.ts')
const LIMITER_JOB = join(import.meta.dirname, '../support/child-jobs/limiter-order-job.ts')

interface Outcome {
  executor: string
  job: string
  status: string
  restarts?: number
  error?: string
  operators?: Record<string, [number, number]>
  subtasks?: string[]
}

/** Runs the counts job file in a child process; resolves with each job's outcome and its final counts. */
async function countsJob(
  parallelism: number,
  fault?: 'crash' | 'mismatch',
): Promise<{ outcomes: Outcome[]; counts: (executor: string, job: string) => Record<string, number> }> {
  const dir = tempDir('sluice-workers-')
  try {
    const out = dir.file('counts')
    const { stdout } = await run(process.execPath, ['--import', 'tsx', JOB], {
      env: {
        ...process.env,
        SLUICE_EXECUTOR: '',
        COUNTS_PARALLELISM: String(parallelism),
        COUNTS_THREADS: '2',
        COUNTS_OUT: out,
        ...(fault === undefined ? {} : { COUNTS_FAULT: fault }),
      },
      timeout: 120_000,
    })
    const outcomes = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Outcome)
    const files = new Map<string, Record<string, number>>()
    for (const executor of ['single-thread', 'workers'])
      for (const job of ['words', 'keys']) {
        const file = `${out}-${executor}-${job}.jsonl`
        const final: Record<string, number> = {}
        if (existsSync(file))
          for (const l of readFileSync(file, 'utf8').trim().split('\n')) {
            // a restart replays the input from the start: the final count is the largest seen
            const [key, n] = JSON.parse(l) as [string, number]
            final[key] = Math.max(final[key] ?? 0, n)
          }
        files.set(`${executor}/${job}`, final)
      }
    return { outcomes, counts: (executor, job) => files.get(`${executor}/${job}`)! }
  } finally {
    dir.remove()
  }
}

const WORDS = ['to', 'be', 'or', 'not', 'that', 'is', 'the', 'question', 'whether', 'tis', 'nobler']

/** What the word count and the keyed count of the job file must give. */
function expected(job: string): Record<string, number> {
  const counts: Record<string, number> = {}
  if (job === 'words')
    for (let i = 0; i < 2000; i++)
      for (let j = 0; j < 1 + (i % 7); j++) {
        const w = WORDS[(i * 31 + j * 17) % WORDS.length]!
        counts[w] = (counts[w] ?? 0) + 1
      }
  else
    for (let i = 0; i < 10_000; i++) {
      const k = `k${(i * 7919) % 101}`
      counts[k] = (counts[k] ?? 0) + 1
    }
  return counts
}

for (const parallelism of [1, 2, 4])
  test(`word count and keyed count give the same counts and metrics on both executors at parallelism ${parallelism} (2 worker threads)`, async () => {
    const { outcomes, counts } = await countsJob(parallelism)
    assert.equal(
      outcomes.map((o) => `${o.executor}/${o.job}: ${o.status}`),
      [
        'single-thread/words: finished',
        'single-thread/keys: finished',
        'workers/words: finished',
        'workers/keys: finished',
      ],
    )
    for (const job of ['words', 'keys']) {
      assert.equal(counts('single-thread', job), expected(job), `${job} on the single-thread executor`)
      assert.equal(counts('workers', job), expected(job), `${job} on the worker executor`)
      // the workers report their subtasks' metrics: job.metrics() shows the same as on one thread
      const [single, workers] = ['single-thread', 'workers'].map(
        (e) => outcomes.find((o) => o.executor === e && o.job === job)!,
      )
      assert.equal(workers!.operators, single!.operators, `${job}: records in and out per operator`)
      assert.equal(workers!.subtasks, single!.subtasks, `${job}: the subtasks and their status`)
      assert.ok(
        Object.values(single!.operators!).every(([recordsIn, recordsOut]) => recordsIn + recordsOut > 0),
        `${job}: every operator counted records`,
      )
    }
  })

test('a subtask that throws in a worker, or a worker thread that exits, fails the deployment: the job restarts on fresh workers and counts right', async () => {
  // the word count's subtask throws once; in the keyed count a worker thread calls process.exit once
  const { outcomes, counts } = await countsJob(2, 'crash')
  const workers = outcomes.filter((o) => o.executor === 'workers')
  assert.equal(
    workers.map((o) => `${o.job}: ${o.status} after ${o.restarts} restart`),
    ['words: finished after 1 restart', 'keys: finished after 1 restart'],
  )
  for (const job of ['words', 'keys']) assert.equal(counts('workers', job), expected(job))
})

test('a worker that builds another job graph than the coordinator fails the job, naming both graphs', async () => {
  const { outcomes } = await countsJob(2, 'mismatch')
  const workers = outcomes.filter((o) => o.executor === 'workers')
  assert.equal(
    workers.map((o) => o.status),
    ['failed', 'failed'],
  )
  for (const o of workers) {
    assert.match(o.error!, /^ERR_WORKER_GRAPH_MISMATCH: worker thread \d built another job graph/)
    assert.match(o.error!, /Coordinator: .*numbers ×2\/128.*; worker: .*numbers ×3\/128/)
  }
})

test('a worker that makes its shared limiters otherwise than the coordinator fails the job, naming the limiter', async () => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', LIMITER_JOB], {
    env: { ...process.env, SLUICE_EXECUTOR: '' },
    timeout: 60_000,
  })
  const outcome = JSON.parse(stdout.trim()) as { status: string; error?: string }
  assert.is(outcome.status, 'failed')
  assert.match(
    outcome.error!,
    /ERR_WORKER_FAILED: worker thread \d failed: worker thread \d made sharedLimiter\(2\) as shared count #0, where the coordinator had made one with settings \[1\]/,
  )
})

test('the executor option is checked when the environment is created', () => {
  assert.equal(resolveExecutor(undefined, undefined), { kind: 'single-thread' })
  assert.equal(resolveExecutor({ kind: 'workers', threads: 3 }), { kind: 'workers', threads: 3 })
  assert.is(resolveExecutor(undefined, 'workers').kind, 'workers')
  assert.is(
    configError(() => StreamEnvironment.create({ executor: { kind: 'workers', threads: 0 } })).option,
    'executor.threads',
  )
  assert.is(
    configError(() => StreamEnvironment.create({ executor: { kind: 'thread' } as never })).option,
    'executor.kind',
  )
  assert.match(
    configError(() => StreamEnvironment.create({ executor: { kind: 'workers', thread: 2 } as never })).message,
    /executor\.thread.*did you mean threads/,
  )
  assert.is(configError(() => resolveExecutor(undefined, 'many')).option, 'SLUICE_EXECUTOR')
  assert.equal(resolveExecutor(undefined, 'workers', '3'), { kind: 'workers', threads: 3 })
  assert.equal(resolveExecutor(undefined, 'single-thread', '3'), { kind: 'single-thread' })
  assert.is(configError(() => resolveExecutor(undefined, 'workers', 'two')).option, 'SLUICE_WORKER_THREADS')
  assert.is(configError(() => resolveExecutor(undefined, 'workers', '0')).option, 'SLUICE_WORKER_THREADS')
})

const SAVEPOINT_JOB = join(import.meta.dirname, '../support/child-jobs/savepoint-rescale-job.ts')

test('on workers, stop-with-savepoint mid-stream and a restore at another parallelism count every record exactly once', async () => {
  const dir = tempDir('sluice-workers-savepoint-')
  try {
    const out = dir.file('counts.txt')
    const phase = async (env: Record<string, string>) =>
      JSON.parse(
        (
          await run(process.execPath, ['--import', 'tsx', SAVEPOINT_JOB], {
            env: { ...process.env, SLUICE_EXECUTOR: '', SP_OUT: out, SP_THREADS: '2', ...env },
            timeout: 120_000,
          })
        ).stdout.trim(),
      ) as { savepoint?: string; status: string }
    // parallelism 2 on 2 threads, stopped once 2,000 counts are written; then 3 subtasks on 2 threads
    const first = await phase({ SP_PARALLELISM: '2', SP_STOP_INTO: dir.file('sp'), SP_STOP_AFTER: '2000' })
    const before = readFileSync(out, 'utf8').trim().split('\n').length
    assert.ok(first.savepoint !== undefined && existsSync(first.savepoint), `a savepoint: ${JSON.stringify(first)}`)
    assert.ok(before >= 2_000 && before < 20_000, `stopped mid-stream (${before} counts written)`)
    const second = await phase({ SP_PARALLELISM: '3', SP_RESTORE_FROM: first.savepoint! })
    assert.is(second.status, 'finished')
    // every key counted 1, 2, … n once each across both runs (n: how many of the 20,000 numbers it has)
    const seen = new Map<string, number[]>()
    for (const line of readFileSync(out, 'utf8').trim().split('\n')) {
      const [key, count] = line.split(' ')
      seen.set(key!, [...(seen.get(key!) ?? []), Number(count)])
    }
    assert.is(seen.size, 37)
    for (const [key, counts] of seen) {
      const n = Math.floor((20_000 - 1 - Number(key!.slice(1))) / 37) + 1
      assert.equal(
        counts.sort((a, b) => a - b),
        Array.from({ length: n }, (_, i) => i + 1),
        `${key}: each count once`,
      )
    }
  } finally {
    dir.remove()
  }
})

test.run()
