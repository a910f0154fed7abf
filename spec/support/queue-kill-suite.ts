import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { KillPoint } from './fault-injection.js'
import { briefly, type KillScheduleRun, runKilledUntilFinished } from './fault-process.js'
import { FileLedger } from './ledger-files.js'
import type { QueueKillArgs } from './queue-kill-job.js'
import { tempDir } from './temp-dir.js'

/** A broker as the queue kill suite drives it from outside the job. */
export interface QueueKillBroker {
  /** A queue no other run uses, named after `label`. */
  queue(label: string): Promise<string>
  /** Sends the texts `m0` … `m<count - 1>`, with whatever the connector's exactly-once source recognises them by. */
  publish(queue: string, count: number): Promise<void>
  /** Takes every message waiting in `queue`, at least `expected` of them: their texts, in order. */
  drain(queue: string, expected: number): Promise<string[]>
  close(): Promise<void>
}

const N = 20_000
const KILLS: KillPoint[] = [
  { after: 'checkpoint', checkpoints: 3, delayMs: 7 },
  { after: 'running', delayMs: 250 },
  { after: 'running', delayMs: 600 },
]

/**
 * SIGKILL mid-stream for a queue connector: its kill job (a script on spec/support/queue-kill-job.ts),
 * with its checkpoints in a directory, is killed at several moments and started again on the same
 * directory, against the machine's broker. The exactly-once source commits every message exactly once;
 * the sink loses no record.
 *
 * @example
 * queueKillSuite('rabbitmq', 'spec/connectors/rabbitmq/kill-job.ts', async () => rabbitBroker(await AmqpAdmin.open()))
 */
export function queueKillSuite(name: string, script: string, open: () => Promise<QueueKillBroker>): void {
  const Kill = suite(`${name} process kill`)
  let broker: QueueKillBroker

  Kill.before(async () => {
    broker = await open()
  })
  Kill.after(async () => {
    await broker?.close()
  })

  /** Runs the job process, killing it at each kill point in turn, then lets it finish; returns the log. */
  const killAndRestart = (args: QueueKillArgs, workDir: string): Promise<KillScheduleRun> =>
    runKilledUntilFinished(script, [JSON.stringify(args), workDir], KILLS, { timeoutMs: 60_000, describe: briefly })

  Kill(
    `exactly-once source: ${N} messages, SIGKILLed ${KILLS.length} times and restarted on its checkpoint directory; each committed exactly once`,
    async () => {
      const queue = await broker.queue('kill-src')
      await broker.publish(queue, N)
      const dir = tempDir(`sluice-${name}-kill-`)
      try {
        const { kills, log } = await killAndRestart({ mode: 'source', queue, count: N }, dir.path)
        const where = `\n  ${log.join('\n  ')}`
        assert.ok(kills >= 2, `killed at least twice mid-stream${where}`)
        const committed = FileLedger.readCommitted<string>(`${dir.path}/ledger`)
        const distinct = new Set(committed)
        assert.is(distinct.size, N, `every message committed${where}`)
        assert.is(committed.length, N, `no duplicate (${committed.length - distinct.size} duplicates)${where}`)
        assert.is((await broker.drain(queue, 0)).length, 0, 'every message acknowledged')
        console.log(`  source kill:${where}`)
      } finally {
        dir.remove()
      }
    },
  )

  Kill(
    `sink: ${N} messages relayed queue to queue, SIGKILLed ${KILLS.length} times and restarted; every one reaches the output (at-least-once)`,
    async () => {
      const input = await broker.queue('kill-sink-in')
      const queue = await broker.queue('kill-sink-out')
      await broker.publish(input, N)
      const dir = tempDir(`sluice-${name}-kill-`)
      try {
        const { kills, log } = await killAndRestart({ mode: 'sink', queue, input, count: N }, dir.path)
        const where = `\n  ${log.join('\n  ')}`
        assert.ok(kills >= 2, `killed at least twice mid-stream${where}`)
        const got = await broker.drain(queue, N)
        const distinct = new Set(got)
        assert.is(distinct.size, N, `nothing lost${where}`)
        assert.ok(Array.from({ length: N }, (_, i) => `m${i}`).every((m) => distinct.has(m)))
        console.log(`  sink kill: ${got.length - N} duplicate(s) after ${kills} kills${where}`)
      } finally {
        dir.remove()
      }
    },
  )

  Kill.run()
}
