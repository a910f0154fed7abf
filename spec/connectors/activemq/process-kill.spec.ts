import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { FileLedger } from '../../support/ledger-files.js'
import type { KillPoint } from '../../support/fault-injection.js'
import { briefly, type KillScheduleRun, runKilledUntilFinished } from '../../support/fault-process.js'
import { STOMP_PORT, StompAdmin, uniqueDestination } from '../../support/stomp-broker.js'
import { tempDir } from '../../support/temp-dir.js'

/**
 * SIGKILL mid-stream: a job process (spec/connectors/activemq/kill-job.ts) with its checkpoints in a
 * directory is killed at several moments and started again on the same directory, against the
 * machine's ActiveMQ broker over STOMP. The exactly-once source commits every message exactly once; the sink
 * loses no record.
 */
const Kill = suite('activemq process kill')
const SCRIPT = 'spec/connectors/activemq/kill-job.ts'
const N = 20_000
const KILLS: KillPoint[] = [
  { after: 'checkpoint', checkpoints: 3, delayMs: 7 },
  { after: 'running', delayMs: 250 },
  { after: 'running', delayMs: 600 },
]
let admin: StompAdmin

Kill.before(async () => {
  admin = await StompAdmin.open()
})
Kill.after(async () => {
  await admin?.cleanup()
  await admin?.close()
})

/** Runs the job process, killing it at each kill point in turn, then lets it finish; returns the log. */
function killAndRestart(args: object, workDir: string): Promise<KillScheduleRun> {
  return runKilledUntilFinished(SCRIPT, [JSON.stringify(args), workDir], KILLS, {
    timeoutMs: 60_000,
    describe: briefly,
  })
}

Kill(
  `exactly-once source: ${N} messages, SIGKILLed ${KILLS.length} times and restarted on its checkpoint directory; each committed exactly once`,
  async () => {
    const destination = uniqueDestination('queue', 'kill-src')
    await admin.publish(destination, N)
    const dir = tempDir('sluice-activemq-kill-')
    try {
      const { kills, log } = await killAndRestart({ mode: 'source', port: STOMP_PORT, destination, count: N }, dir.path)
      const where = `\n  ${log.join('\n  ')}`
      assert.ok(kills >= 2, `killed at least twice mid-stream${where}`)
      const committed = FileLedger.readCommitted<string>(`${dir.path}/ledger`)
      const distinct = new Set(committed)
      assert.is(distinct.size, N, `every message committed${where}`)
      assert.is(committed.length, N, `no duplicate (${committed.length - distinct.size} duplicates)${where}`)
      assert.is((await admin.drain(destination)).length, 0, 'every message acknowledged')
      console.log(`  source kill:\n  ${log.join('\n  ')}`)
    } finally {
      dir.remove()
    }
  },
)

Kill(
  `sink: ${N} messages relayed queue to queue, SIGKILLed ${KILLS.length} times and restarted; every one reaches the output (at-least-once)`,
  async () => {
    const input = uniqueDestination('queue', 'kill-sink-in')
    const destination = uniqueDestination('queue', 'kill-sink-out')
    await admin.publish(input, N)
    const dir = tempDir('sluice-activemq-kill-')
    try {
      const { kills, log } = await killAndRestart(
        { mode: 'sink', port: STOMP_PORT, destination, input, count: N },
        dir.path,
      )
      assert.ok(kills >= 2, `killed at least twice mid-stream\n  ${log.join('\n  ')}`)
      const got = (await admin.drain(destination)).map((m) => m.body)
      const distinct = new Set(got)
      assert.is(distinct.size, N, `nothing lost\n  ${log.join('\n  ')}`)
      assert.ok(Array.from({ length: N }, (_, i) => `m${i}`).every((m) => distinct.has(m)))
      console.log(`  sink kill: ${got.length - N} duplicate(s) after ${kills} kills\n  ${log.join('\n  ')}`)
    } finally {
      dir.remove()
    }
  },
)

Kill.run()
