import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Redis } from 'ioredis'
import type { KillPoint } from '../../support/fault-injection.js'
import { runKilledUntilFinished } from '../../support/fault-process.js'
import { FileLedger } from '../../support/ledger-files.js'
import { SHARED } from '../../support/brokers.js'
import { tempDir } from '../../support/temp-dir.js'
import type { RedisChildPlan } from './child-job.js'
import { TestKeys, census, fillStream } from './support.js'

/**
 * SIGKILL of a job process mid-stream, restarted on the same checkpoint directory until it finishes
 * (spec/connectors/redis/child-job.ts), against the machine's Redis: the stream source delivers every
 * entry exactly once into a transactional file ledger; the sink leaves every number in the set.
 */
const RedisKill = suite('redis process kill')
const SCRIPT = 'spec/connectors/redis/child-job.ts'
const redis = new Redis(SHARED.redis)
const keys = new TestKeys()

RedisKill.after(async () => {
  await keys.cleanup(redis)
  redis.disconnect()
})

const KILLS: KillPoint[] = [
  { after: 'checkpoint', checkpoints: 3, delayMs: 0 },
  { after: 'running', delayMs: 120 },
  { after: 'checkpoint', checkpoints: 2, delayMs: 5 },
]

/** Runs the child with `plan` in `dir`, killing it at each kill point in turn, then lets it finish. */
const runKilled = (plan: RedisChildPlan, dir: string) =>
  runKilledUntilFinished(SCRIPT, [JSON.stringify(plan), dir], KILLS, { maxRuns: 10 })

RedisKill(
  'stream source, exactly-once, 2 subtasks: SIGKILLed and restarted from its checkpoint directory, every entry committed once',
  async () => {
    const stream = keys.key('kill-source')
    const records = 10_000
    await fillStream(redis, stream, records)
    const dir = tempDir('sluice-redis-kill-')
    try {
      const { kills, log } = await runKilled(
        { kind: 'source', port: SHARED.redis.port, stream, records, parallelism: 2 },
        dir.path,
      )
      assert.ok(kills >= 2, `killed ${kills} times:\n${log.join('\n')}`)
      const committed = FileLedger.readCommitted<number>(`${dir.path}/ledger`)
      const { missing, duplicates } = census(committed, records)
      assert.equal(missing.slice(0, 10), [], `lost ${missing.length}:\n${log.join('\n')}`)
      assert.is(duplicates, 0, `committed twice: ${duplicates}\n${log.join('\n')}`)
      const pending = (await redis.call('XPENDING', stream, 'g')) as unknown[]
      assert.is(Number(pending[0]), 0, 'everything acknowledged')
    } finally {
      dir.remove()
    }
  },
)

RedisKill(
  'sink: SIGKILLed and restarted from its checkpoint directory, every number is in the set (at-least-once)',
  async () => {
    const key = keys.key('kill-sink')
    const records = 10_000
    const dir = tempDir('sluice-redis-kill-')
    try {
      const { kills, log } = await runKilled(
        { kind: 'sink', port: SHARED.redis.port, key, records, parallelism: 1 },
        dir.path,
      )
      assert.ok(kills >= 2, `killed ${kills} times:\n${log.join('\n')}`)
      const members = (await redis.smembers(key)).map(Number)
      const { missing } = census(members, records)
      assert.equal(missing.slice(0, 10), [], `lost ${missing.length}:\n${log.join('\n')}`)
      assert.is(members.length, records)
    } finally {
      dir.remove()
    }
  },
)

RedisKill.run()
