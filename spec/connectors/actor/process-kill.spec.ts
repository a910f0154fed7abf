import { existsSync, readFileSync } from 'node:fs'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { KillPoint } from '../../support/fault-injection.js'
import { runJobProcess } from '../../support/fault-process.js'
import { FileLedger } from '../../support/ledger-files.js'
import { tempDir } from '../../support/temp-dir.js'

/**
 * SIGKILL of a process running the actor source in 'checkpointed' mode with a sender that resends
 * every message until it is answered (spec/connectors/actor/child-job.ts): after the restores, the
 * exactly-once ledger holds every message's records exactly once. The first kill comes from inside,
 * between a checkpoint's completion and its answers (the resent ids must be recognised as
 * duplicates); the others from outside, after some checkpoints and right after start. The schedule
 * runs on both executors: on workers the reader (and the kill from inside) is in a worker thread and
 * the source's actor and the sender on the main thread.
 */
const ActorKill = suite('actor source process kill')
const SCRIPT = 'spec/connectors/actor/child-job.ts'
const MESSAGES = 600

/** The kill schedule on `executor` (the child takes it from SLUICE_EXECUTOR). */
async function killSchedule(executor: 'single-thread' | 'workers'): Promise<void> {
  const dir = tempDir('sluice-actor-kill-')
  const log: string[] = []
  try {
    const runs: Array<{ crashAt?: number; kill?: KillPoint }> = [
      { crashAt: 6 },
      { kill: { after: 'checkpoint', checkpoints: 12, delayMs: 7 } },
      { kill: { after: 'running', delayMs: 15 } },
      {},
    ]
    let duplicates = 0
    for (const [i, { crashAt, kill }] of runs.entries()) {
      const args = [dir.path, String(MESSAGES), ...(crashAt === undefined ? [] : [String(crashAt)])]
      const run = await runJobProcess(SCRIPT, args, kill, 60_000, { SLUICE_EXECUTOR: executor })
      const acked = run.lines.filter((l) => l.startsWith('acked ')).at(-1)
      log.push(`run ${i + 1}: ${run.killed || run.code === null ? 'KILLED' : `exit ${run.code}`} at ${acked}`)
      duplicates += run.lines.filter((l) => l.startsWith('duplicates ')).length
      if (i < runs.length - 1) {
        assert.ok(run.code === null, `run ${i + 1} was killed mid-stream (${log.join('; ')}) ${run.stderr}`)
        assert.ok(!run.lines.includes('done'), `run ${i + 1} was killed before the sender finished`)
      } else assert.is(run.code, 0, `the last run finished: ${log.join('; ')} ${run.stderr}`)
    }
    const committed = FileLedger.readCommitted<number>(`${dir.path}/ledger`).sort((a, b) => a - b)
    const expected = Array.from({ length: 2 * MESSAGES }, (_, k) => k + 2)
    assert.is(committed.length, expected.length, `every record once: ${log.join('; ')}`)
    assert.equal(committed, expected)
    const answered = new Set(readFileSync(`${dir.path}/acked`, 'utf8').split('\n').filter(Boolean))
    assert.is(answered.size, MESSAGES, 'every message was answered')
    assert.ok(duplicates > 0, `resent ids that a checkpoint held were answered duplicate (${log.join('; ')})`)
    assert.ok(existsSync(`${dir.path}/checkpoints`))
  } finally {
    dir.remove()
  }
}

ActorKill('checkpointed mode, a resending sender, three SIGKILLs: every record exactly once', () =>
  killSchedule('single-thread'),
)

ActorKill(
  'the same on the worker executor (the reader in a worker, the actor on the main thread): every record exactly once',
  () => killSchedule('workers'),
)

ActorKill.run()
