import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { appendFileSync, writeFileSync } from 'node:fs'
import { StreamEnvironment, map, type DataStream } from '../../lib/index.js'
import { Ledger, LedgerSink } from '../support/ledger-sink.js'
import { tempDir } from '../support/temp-dir.js'
import { waitFor } from '../support/wait-for.js'
import { busyWait } from '../support/fault-injection.js'
import { sharedRecord } from '../support/shared-flags.js'
import { coordinatorOnly } from '../support/worker-pass/pass-context.js'

/** Runs `build`'s stream through a map that fails once at `failAt`, with checkpoints, into a ledger. */
async function runWithOneFailure<T>(
  build: (env: StreamEnvironment) => DataStream<T>,
  failAt: (v: T) => boolean,
  parallelism = 1,
): Promise<{ ledger: Ledger<T>; restarts: number }> {
  const ledger = new Ledger<T>()
  // once over every thread and the fresh workers of the restart (worker executor)
  const flags = sharedRecord({ failed: false })
  let seen = 0
  const env = StreamEnvironment.create({
    parallelism,
    logLevel: 'silent',
    checkpointing: { intervalMs: 5 },
    restartStrategy: { kind: 'fixed-delay', attempts: 2, delayMs: 5 },
  })
  build(env)
    .pipe(
      map(
        (v: T) => {
          if (++seen % 200 === 0) busyWait(1)
          if (!flags.failed && failAt(v)) {
            flags.failed = true
            throw new Error('injected')
          }
          return v
        },
        { uid: 'faulty' },
      ),
    )
    .sinkTo(new LedgerSink(ledger), { uid: 'ledger' })
  const result = await env.execute()
  assert.ok(flags.failed, 'the failure was injected')
  return { ledger, restarts: result.metrics.restarts }
}

const numbers = Array.from({ length: 8_000 }, (_, i) => i)

test('a collection source resumes at its checkpointed index', async () => {
  const { ledger, restarts } = await runWithOneFailure(
    (env) => env.fromCollection(numbers, { uid: 'src' }),
    (v) => v === 5_000,
  )
  assert.is(restarts, 1)
  assert.equal(ledger.committed, numbers)
})

test('a parallel sequence source resumes every split', async () => {
  const { ledger } = await runWithOneFailure(
    (env) => env.fromSequence(0, 7_999, { uid: 'src' }),
    (v) => v === 6_500,
    2,
  )
  assert.equal(
    [...ledger.committed].sort((a, b) => a - b),
    numbers,
  )
})

test('an iterable made by a function is made again and skipped to its position', async () => {
  const { ledger } = await runWithOneFailure(
    (env) =>
      env.fromIterable(
        function* () {
          yield* numbers
        },
        { uid: 'src' },
      ),
    (v) => v === 4_000,
  )
  assert.equal(ledger.committed, numbers)
})

test('a text file source resumes at the byte offset of its next line', async () => {
  const dir = tempDir()
  try {
    const lines = numbers.map((n) => `line ${n} ${'é'.repeat(n % 5)}`)
    await coordinatorOnly(async () => writeFileSync(dir.file('in.txt'), `${lines.join('\r\n')}\r\n`), undefined)
    const { ledger } = await runWithOneFailure(
      (env) => env.readTextFile(dir.file('in.txt'), { uid: 'src' }),
      (v) => v.startsWith('line 6000 '),
    )
    assert.equal(ledger.committed, lines)
  } finally {
    dir.remove()
  }
})

test('the directory monitor resumes each file at its position and picks up appended lines after a restore', async () => {
  const dir = tempDir()
  try {
    await coordinatorOnly(async () => {
      writeFileSync(
        dir.file('a.log'),
        `${numbers
          .slice(0, 3_000)
          .map((n) => `a${n}`)
          .join('\n')}\n`,
      )
      writeFileSync(
        dir.file('b.log'),
        `${numbers
          .slice(0, 3_000)
          .map((n) => `b${n}`)
          .join('\n')}\n`,
      )
    }, undefined)
    const ledger = new Ledger<string>()
    const flags = sharedRecord({ failed: false })
    let seen = 0
    const env = StreamEnvironment.create({
      parallelism: 2,
      logLevel: 'silent',
      checkpointing: { intervalMs: 5 },
      restartStrategy: { kind: 'fixed-delay', attempts: 2, delayMs: 5 },
    })
    env
      .monitorDirectory(dir.path, { intervalMs: 10, uid: 'src' })
      .pipe(
        map(
          (v: string) => {
            if (++seen % 200 === 0) busyWait(1)
            if (!flags.failed && v === 'b2500') {
              flags.failed = true
              throw new Error('injected')
            }
            return v
          },
          { uid: 'faulty' },
        ),
      )
      .sinkTo(new LedgerSink(ledger), { uid: 'ledger' })
    const job = env.executeAsync()
    // what the test does to the directory and sees in the ledger: on the coordinator
    await coordinatorOnly(async () => {
      await waitFor(() => flags.failed && ledger.committed.length >= 6_000, {
        timeoutMs: 10_000,
        description: 'both files read past the failure',
      })
      appendFileSync(dir.file('a.log'), 'a-late-1\na-late-2\n')
      writeFileSync(dir.file('c.log'), 'c-new\n')
      await waitFor(() => ledger.committed.length === 6_003, {
        timeoutMs: 10_000,
        description: `appended and new lines committed (have ${ledger.committed.length})`,
      })
    }, undefined)
    await job.cancel()
    const expected = [
      ...numbers.slice(0, 3_000).map((n) => `a${n}`),
      ...numbers.slice(0, 3_000).map((n) => `b${n}`),
      'a-late-1',
      'a-late-2',
      'c-new',
    ]
    assert.equal([...ledger.committed].sort(), expected.sort())
  } finally {
    dir.remove()
  }
})

test.run()
