import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { ActorRef } from '../../../lib/actors/actor-ref.js'
import { ActorSystem } from '../../../lib/actors/actor-system.js'
import { StreamEnvironment } from '../../../lib/api/stream-environment.js'
import { MemoryStorage } from '../../../lib/checkpoint/memory-storage.js'
import { type ActorSinkAck, type ActorSinkMessage, actorSink } from '../../../lib/connectors/actor/index.js'
import { ConfigError } from '../../../lib/errors.js'
import { ManualClock } from '../../time/manual-clock.js'
import { waitFor } from '../../support/wait-for.js'

const Sink = suite('actor sink')

/**
 * A target that keeps every message and holds its acks until `release()` (or acks at once with
 * `auto`), counting the most records it ever had unacknowledged.
 */
function spawnTarget(system: ActorSystem, name: string, auto = false) {
  const messages: Array<ActorSinkMessage<number>> = []
  const held: Array<ActorRef<ActorSinkAck>> = []
  let maxHeld = 0
  const ref = system.spawn<ActorSinkMessage<number>>(
    () => ({
      receive: (m) => {
        messages.push(m)
        if (m.type !== 'init' && m.type !== 'record') return
        if (auto) m.replyTo.tell({ type: 'ack' })
        else {
          held.push(m.replyTo)
          maxHeld = Math.max(maxHeld, held.length)
        }
      },
    }),
    { name },
  )
  const release = (n = held.length): void => {
    for (const replyTo of held.splice(0, n)) replyTo.tell({ type: 'ack' })
  }
  const records = () => messages.flatMap((m) => (m.type === 'record' ? [m.value] : []))
  return { ref, messages, records, release, held, maxHeld: () => maxHeld }
}

Sink('options: a missing target and bad values fail at build time naming the option', () => {
  assert.throws(() => actorSink({} as never), /actorSink\.target/)
  assert.throws(
    () => actorSink({ target: { tell: () => true } as never, maxUnacknowledged: 0 }),
    /actorSink\.maxUnacknowledged/,
  )
  assert.throws(
    () => actorSink({ target: { tell: () => true } as never, ackTimout: 5 } as never),
    (e: unknown) => e instanceof ConfigError && /did you mean ackTimeoutMs/.test(e.message),
  )
})

Sink('init first, records in order with at most maxUnacknowledged waiting, complete at the end of input', async () => {
  const system = new ActorSystem({ name: 'sink-test' })
  const target = spawnTarget(system, 'collector')
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  env.fromSequence(1, 500).sinkTo(actorSink({ target: target.ref, maxUnacknowledged: 8 }))
  const job = env.executeAsync('actor sink job')
  try {
    // the target acks in small bursts, as a slow consumer would
    while (!target.messages.some((m) => m.type === 'complete')) {
      await waitFor(() => target.held.length > 0 || target.messages.some((m) => m.type === 'complete'))
      target.release(3)
    }
    assert.is((await job.result).status, 'finished')
    assert.is(target.messages[0]!.type, 'init')
    assert.is(target.messages.at(-1)!.type, 'complete')
    assert.equal(
      target.records(),
      Array.from({ length: 500 }, (_, i) => i + 1),
    )
    assert.ok(target.maxHeld() <= 8, `at most 8 unacknowledged, saw ${target.maxHeld()}`)
    assert.ok(target.maxHeld() >= 2, 'the window was used')
  } finally {
    await system.terminate()
  }
})

Sink('a checkpoint completes only once the target acknowledged every record before its barrier', async () => {
  const system = new ActorSystem({ name: 'sink-barrier' })
  const target = spawnTarget(system, 'collector')
  const storage = new MemoryStorage()
  const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: 10, storage } })
  env.fromSequence(1, 1_000_000, { uid: 'numbers' }).sinkTo(actorSink({ target: target.ref, maxUnacknowledged: 4 }))
  const job = env.executeAsync('actor sink barrier job')
  /** How many records were before the barrier of the latest completed checkpoint (the source's position). */
  const recordsBefore = async (): Promise<number> => {
    const handle = (await storage.latest())?.operators.numbers?.subtasks[0]
    if (!handle) return 0
    const [split] = (await storage.readState(handle)).split as Array<{ next: number }>
    return split!.next - 1
  }
  try {
    await waitFor(() => target.held.length === 1)
    target.release() // init
    await waitFor(() => target.held.length === 4)
    // nothing acknowledged: the writer waits, and no checkpoint with a record before its barrier can
    // complete (one whose barrier left the source before the first record may: on the worker executor
    // the first barrier can)
    await waitFor(() => job.checkpoints().some((c) => c.status === 'in-progress'))
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.is(target.records().length, 4)
    assert.is(await recordsBefore(), 0, 'no checkpoint covering a held record completed')
    target.release()
    await waitFor(() => target.held.length > 0)
    for (let i = 0; i < 200 && (await recordsBefore()) === 0; i++) {
      target.release()
      await waitFor(() => target.held.length > 0)
    }
    assert.ok((await recordsBefore()) > 0, 'checkpoints covering records complete once acks flow')
  } finally {
    await job.cancel()
    target.release()
    await system.terminate()
  }
  assert.is(target.messages.at(-1)!.type, 'failure', 'a cancelled job tells the target failure')
})

Sink('the target stopping fails the job with ERR_TARGET_TERMINATED', async () => {
  const system = new ActorSystem({ name: 'sink-dies' })
  const target = spawnTarget(system, 'collector', true)
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  env.fromSequence(1, 100_000_000).sinkTo(actorSink({ target: target.ref }))
  const job = env.executeAsync('actor sink target dies')
  await waitFor(() => target.records().length > 100)
  await target.ref.stop()
  const error = await job.result.then(
    () => undefined,
    (e: unknown) => e as { code?: string; message: string },
  )
  assert.ok(error !== undefined, 'the job failed')
  assert.match(error!.message, /collector (terminated|has terminated)/)
  await system.terminate()
})

Sink('a record left unacknowledged for ackTimeoutMs fails the writer with ERR_ACK_TIMEOUT', async () => {
  const system = new ActorSystem({ name: 'sink-timeout' })
  const target = spawnTarget(system, 'collector')
  const time = new ManualClock(0)
  const writer = actorSink({ target: target.ref, ackTimeoutMs: 1_000 }).createWriter({
    subtask: 0,
    parallelism: 1,
    processingTime: time,
  })
  try {
    await waitFor(() => target.held.length === 1)
    target.release()
    assert.is(writer.ready(), undefined)
    writer.write(1, undefined)
    time.advanceTo(999)
    assert.is(writer.ready(), undefined, 'not yet')
    time.advanceTo(1_000)
    await writer.ready()!.then(
      () => assert.unreachable('should fail'),
      (e: { code: string; message: string }) => {
        assert.is(e.code, 'ERR_ACK_TIMEOUT')
        assert.match(e.message, /did not acknowledge a record within 1000 ms/)
      },
    )
    assert.throws(() => writer.write(2, undefined), /did not acknowledge/)
  } finally {
    writer.close()
    await system.terminate()
  }
})

Sink.run()
