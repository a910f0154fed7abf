import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { ActorRef } from '../../../lib/actors/actor-ref.js'
import { ActorSystem } from '../../../lib/actors/actor-system.js'
import { StreamEnvironment } from '../../../lib/api/stream-environment.js'
import {
  type ActorSourceOptions,
  type ActorSourceReply,
  ActorSource,
  actorSource,
} from '../../../lib/connectors/actor/index.js'
import { CallbackSink } from '../../../lib/connectors/collections/callback-sink.js'
import { ConfigError } from '../../../lib/errors.js'
import { asyncMap } from '../../../lib/operators/async-map.js'
import type { DeadLetter } from '../../../lib/runtime/output-tag.js'
import type { InputStatus, SourceOutput } from '../../../lib/runtime/source.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { waitFor } from '../../support/wait-for.js'

const Source = suite('actor source')

/** A ref collecting what the source answers. */
function inbox(): ActorRef<ActorSourceReply> & { replies: ActorSourceReply[] } {
  const replies: ActorSourceReply[] = []
  return {
    path: '/test/inbox',
    mailboxSize: 0,
    mailboxCapacity: 1,
    isAlive: true,
    terminated: new Promise(() => {}),
    replies,
    tell: (reply) => replies.push(reply) > 0,
    ask: () => Promise.reject(new Error('not supported')),
    stop: () => Promise.resolve(),
  }
}

/**
 * One started reader outside a job (subtask 0 of `parallelism`; the others never open), what it emitted
 * and the dead letters it sent.
 */
async function open<T>(options: ActorSourceOptions, restored: unknown[] = [], parallelism = 1) {
  const source = new ActorSource<T>(options)
  const letters: DeadLetter[] = []
  const reader = source.createReader(
    { subtask: 0, parallelism, processingTime: systemProcessingTime, deadLetter: (l) => letters.push(l) },
    restored as never[],
  )
  await reader.start()
  const records: Array<[T, number | undefined]> = []
  const output: SourceOutput<T> = {
    collect: (v, t) => void records.push([v, t]),
    emitWatermark: () => {},
    markIdle: () => {},
  }
  const poll = (): InputStatus => reader.pollNext(output)
  const drain = (): void => {
    while (poll() === 'more');
  }
  return { source, reader, records, letters, poll, drain }
}

Source('options: unknown keys and bad values fail at build time naming the option', () => {
  const fails = (options: object, path: string) =>
    assert.throws(
      () => actorSource(options as ActorSourceOptions),
      (e: unknown) => e instanceof ConfigError && e.message.includes(path),
      path,
    )
  fails({ ackmode: 'received' }, 'actorSource.ackmode')
  fails({ ackMode: 'durable' }, 'actorSource.ackMode')
  fails({ maxBufferedRecords: 0 }, 'actorSource.maxBufferedRecords')
  fails({ overflow: 'drop' }, 'actorSource.overflow')
  fails({ actorName: 'a/b' }, 'actorSource.actorName')
  fails({ system: {} }, 'actorSource.system')
  assert.throws(() => actorSource({ ackmode: 'x' } as never), /did you mean ackMode/)
})

Source('records, batches and (value, timestamp) pairs are emitted in order and acknowledged once taken', async () => {
  const system = new ActorSystem({ name: 'test' })
  const r = await open<number>({ system, actorName: 'ingest' })
  const replies = inbox()
  try {
    assert.is(r.source.ref.path, '/user/ingest')
    assert.ok(r.source.ref.isAlive)
    r.source.ref.tell({ type: 'record', value: 1, replyTo: replies })
    r.source.ref.tell({ type: 'record', value: 2, timestamp: 1_000 })
    r.source.ref.tell({ type: 'batch', values: [3, 4], timestamps: [2_000, 3_000], replyTo: replies })
    const reply = await r.source.ref.ask<ActorSourceReply>(
      (replyTo) => ({ type: 'batch', values: [5], replyTo }),
      1_000,
    )
    assert.equal(reply, { type: 'ack', id: undefined, records: 1 })
    r.drain()
    assert.equal(r.records, [
      [1, undefined],
      [2, 1_000],
      [3, 2_000],
      [4, 3_000],
      [5, undefined],
    ])
    assert.equal(
      replies.replies.map((x) => x.type === 'ack' && x.records),
      [1, 2],
    )
  } finally {
    await r.reader.close()
    await system.terminate()
  }
  assert.not.ok(r.source.ref.isAlive, 'the actor stops with the last reader')
})

Source('a malformed batch is refused with its reason and becomes a dead letter', async () => {
  const r = await open<number>({})
  const replies = inbox()
  try {
    r.source.ref.tell({ type: 'batch', values: [1, 2], timestamps: [1], replyTo: replies })
    r.source.ref.tell({ type: 'batch', values: 'oops' as never, replyTo: replies })
    r.source.ref.tell({ type: 'nonsense', replyTo: replies } as never)
    await waitFor(() => replies.replies.length === 3)
    assert.ok(replies.replies.every((x) => x.type === 'rejected'))
    assert.match((replies.replies[0] as { reason: string }).reason, /one timestamp per value/)
    assert.match((replies.replies[1] as { reason: string }).reason, /array of values/)
    assert.match((replies.replies[2] as { reason: string }).reason, /not an actor source message/)
    assert.is(r.letters.length, 3)
    r.drain()
    assert.equal(r.records, [])
  } finally {
    await r.reader.close()
  }
})

Source(
  'backpressure by acknowledgement: a full buffer delays the ack, later messages wait in the mailbox (one of two readers)',
  async () => {
    // at parallelism 2 every message goes through the actor: the reader never reads the mailbox itself
    const r = await open<number>({ maxBufferedRecords: 4, mailboxCapacity: 10 }, [], 2)
    const replies = inbox()
    try {
      for (let i = 0; i < 10; i++) assert.ok(r.source.ref.tell({ type: 'record', value: i, replyTo: replies }))
      await waitFor(() => r.reader.bufferedRecords === 4 && r.source.ref.mailboxSize === 5)
      assert.is(replies.replies.length, 4, 'only the taken records are acknowledged')
      r.drain()
      // the poll that made room took the waiting message (4) at once and emitted it; 5–8 then filled the buffer
      await waitFor(() => replies.replies.length === 9)
      assert.is(r.reader.bufferedRecords, 4)
      assert.is(r.source.ref.mailboxSize, 0, 'message 9 waits for room with the actor')
      r.drain()
      await waitFor(() => replies.replies.length === 10)
      r.drain()
      assert.equal(
        r.records.map(([v]) => v),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      )
    } finally {
      await r.reader.close()
    }
  },
)

Source(
  'the only reader: a poll empties the buffer, takes the waiting message, then takes from the mailbox itself, in order',
  async () => {
    const r = await open<number>({ maxBufferedRecords: 4, mailboxCapacity: 12 })
    const replies = inbox()
    try {
      for (let i = 0; i < 8; i++) assert.ok(r.source.ref.tell({ type: 'record', value: i, replyTo: replies }))
      assert.ok(r.source.ref.tell({ type: 'batch', values: [8, 9], timestamps: [80, 90], replyTo: replies }))
      assert.ok(r.source.ref.tell({ type: 'batch', values: [10], timestamps: [], replyTo: replies }))
      assert.ok(r.source.ref.tell({ type: 'record', value: 11, replyTo: replies }))
      // the actor took 0–3 and waits with 4; 5–7, the batches and 11 wait in the mailbox
      await waitFor(() => r.reader.bufferedRecords === 4 && r.source.ref.mailboxSize === 6)
      assert.is(replies.replies.length, 4)
      r.drain()
      assert.is(r.source.ref.mailboxSize, 2, 'the malformed batch stops the poll: the actor refuses it')
      assert.equal(
        r.records.map(([v]) => v),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      )
      assert.equal(r.records.slice(8), [
        [8, 80],
        [9, 90],
      ])
      assert.equal(
        replies.replies.map((x) => x.type === 'ack' && x.records),
        [1, 1, 1, 1, 1, 1, 1, 1, 2],
        'acknowledged as they were taken',
      )
      assert.is(r.reader.bufferedRecords, 0, 'what a poll takes from the mailbox it emits at once')
      await waitFor(() => replies.replies.length === 11)
      assert.match((replies.replies[9] as { reason: string }).reason, /one timestamp per value/)
      assert.is(r.letters.length, 1)
      r.drain()
      assert.equal(r.records.at(-1), [11, undefined])
      r.source.ref.tell({ type: 'record', value: 12 })
      r.source.ref.tell({ type: 'complete' })
      r.source.ref.tell({ type: 'record', value: 13, replyTo: replies })
      await waitFor(() => replies.replies.length === 12)
      assert.match((replies.replies[11] as { reason: string }).reason, /the source is completed/)
      assert.is(r.poll(), 'more')
      assert.is(r.poll(), 'end')
      assert.equal(r.records.at(-1), [12, undefined], 'complete ends the stream after the records before it')
    } finally {
      await r.reader.close()
    }
  },
)

Source("overflow 'reject': a message finding the mailbox full is answered rejected and is a dead letter", async () => {
  const r = await open<number>({ maxBufferedRecords: 1, mailboxCapacity: 2 })
  const replies = inbox()
  try {
    const tell = (value: number) => r.source.ref.tell({ type: 'record', value, id: `m${value}`, replyTo: replies })
    assert.ok(tell(0) && tell(1))
    // 0 is taken, 1 waits in receive for room; then 2 and 3 wait in the mailbox, 4 and 5 find it full
    await waitFor(() => r.reader.bufferedRecords === 1 && r.source.ref.mailboxSize === 0)
    assert.equal([2, 3, 4, 5].map(tell), [true, true, false, false])
    const rejected = replies.replies.filter((x) => x.type === 'rejected')
    assert.match((rejected[0] as { reason: string }).reason, /mailbox full/)
    assert.equal(
      rejected.map((x) => x.id),
      ['m4', 'm5'],
    )
    assert.is(r.letters.length, 2)
    while (r.records.length < 4) {
      r.drain()
      await new Promise((resolve) => setImmediate(resolve))
    }
    assert.equal(
      r.records.map(([v]) => v),
      [0, 1, 2, 3],
    )
  } finally {
    await r.reader.close()
  }
})

Source("overflow 'fail': a sender that does not wait for acks fails the source with ERR_OVERFLOW", async () => {
  const r = await open<number>({ maxBufferedRecords: 1, mailboxCapacity: 1, overflow: 'fail' })
  try {
    for (let value = 0; value < 5; value++) r.source.ref.tell({ type: 'record', value })
    assert.throws(
      () => r.drain(),
      (e: unknown) => (e as { code?: string }).code === 'ERR_OVERFLOW',
    )
  } finally {
    await r.reader.close()
  }
})

Source(
  'checkpointed: acknowledged only when the covering checkpoint completes; a resent id is not taken twice',
  async () => {
    const r = await open<number>({ ackMode: 'checkpointed' })
    const replies = inbox()
    try {
      r.source.ref.tell({ type: 'batch', values: [1, 2], id: 'a', replyTo: replies })
      r.source.ref.tell({ type: 'record', value: 3, id: 'b', replyTo: replies })
      await waitFor(() => r.reader.bufferedRecords === 3)
      r.drain()
      r.source.ref.tell({ type: 'record', value: 3, id: 'b', replyTo: replies })
      const state = r.reader.snapshotState(1)
      assert.equal(state[0]!.keys, [
        ['a', 0],
        ['b', 0],
      ])
      await new Promise((resolve) => setImmediate(resolve))
      assert.is(replies.replies.length, 0, 'nothing acknowledged before the checkpoint completed')
      r.reader.notifyCheckpointComplete(1)
      assert.equal(
        replies.replies.map((x) => x.type),
        ['ack', 'ack', 'ack'],
        'the resend of b waiting with the first is answered with it',
      )
      r.source.ref.tell({ type: 'record', value: 3, id: 'b', replyTo: replies })
      await waitFor(() => replies.replies.length === 4)
      assert.equal(replies.replies[3], { type: 'duplicate', id: 'b' })
      r.drain()
      assert.equal(
        r.records.map(([v]) => v),
        [1, 2, 3],
      )
      // a restored reader knows the ids the checkpoint held
      const restored = await open<number>({ ackMode: 'checkpointed', actorName: 'restored' }, state)
      try {
        const again = await restored.source.ref.ask<ActorSourceReply>(
          (replyTo) => ({ type: 'record', value: 3, id: 'b', replyTo }),
          1_000,
        )
        assert.equal(again, { type: 'duplicate', id: 'b' })
      } finally {
        await restored.reader.close()
      }
    } finally {
      await r.reader.close()
    }
  },
)

Source(
  'checkpointed, the only reader: ids taken from the mailbox by a poll are answered as those the actor takes',
  async () => {
    const r = await open<number>({ ackMode: 'checkpointed', maxBufferedRecords: 1 })
    const replies = inbox()
    const tell = (value: number, id: string) => r.source.ref.tell({ type: 'record', value, id, replyTo: replies })
    try {
      tell(1, 'a')
      tell(2, 'b')
      // the actor took a and waits with b
      await waitFor(() => r.reader.bufferedRecords === 1 && r.source.ref.mailboxSize === 0)
      tell(3, 'c')
      tell(2, 'b')
      tell(4, 'd')
      tell(4, 'd')
      r.drain()
      assert.is(r.source.ref.mailboxSize, 0)
      assert.equal(
        r.records.map(([v]) => v),
        [1, 2, 3, 4],
        'a resend of a message not yet covered is not taken again',
      )
      assert.equal(r.reader.snapshotState(1)[0]!.keys, [
        ['a', 0],
        ['b', 0],
        ['c', 0],
        ['d', 0],
      ])
      assert.is(replies.replies.length, 0, 'nothing acknowledged before the checkpoint completed')
      r.reader.notifyCheckpointComplete(1)
      assert.equal(
        replies.replies.map((x) => [x.type, x.id]),
        [
          ['ack', 'a'],
          ['ack', 'b'],
          ['ack', 'b'],
          ['ack', 'c'],
          ['ack', 'd'],
          ['ack', 'd'],
        ],
      )
      tell(3, 'c')
      tell(5, 'e')
      // before the actor's turn: the poll takes both itself
      r.drain()
      assert.equal(replies.replies.slice(6), [{ type: 'duplicate', id: 'c' }])
      assert.equal(
        r.records.map(([v]) => v),
        [1, 2, 3, 4, 5],
      )
    } finally {
      await r.reader.close()
    }
  },
)

Source('a ref told while no job runs the source refuses the message and counts it', async () => {
  const source = actorSource<number>({})
  const replies = inbox()
  assert.not.ok(source.ref.tell({ type: 'record', value: 1, replyTo: replies }))
  assert.equal(replies.replies, [{ type: 'rejected', id: undefined, reason: 'the source is not running' }])
  await assert.not.ok(
    await source.ref.ask((replyTo) => ({ type: 'record', value: 1, replyTo }), 100).catch(() => false),
  )
  assert.is(source.undelivered, 2)
})

Source('in a job at parallelism 2: every record arrives, ids route to one subtask, complete ends the job', async () => {
  const system = new ActorSystem({ name: 'app' })
  const source = actorSource<number>({ system, actorName: 'numbers', maxBufferedRecords: 8 })
  const received: number[] = []
  const env = StreamEnvironment.create({ logLevel: 'silent', parallelism: 2 })
  env
    .fromSource(source, { uid: 'actors' })
    .pipe(asyncMap(async (n: number) => n, { capacity: 4 }))
    .sinkTo(new CallbackSink((n: number) => void received.push(n)))
  const job = env.executeAsync('actor job')
  try {
    // every reader opened (on the worker executor the second may open in another thread after the first)
    await job.running
    assert.ok(source.ref.isAlive)
    assert.is(system.actors.length, 1, 'one actor per source, in the application system')
    const replies: ActorSourceReply[] = []
    for (let i = 0; i < 2_000; i++) {
      // a sender that waits for each ack: nothing is ever refused
      replies.push(await source.ref.ask((replyTo) => ({ type: 'record', value: i, id: `n${i}`, replyTo }), 5_000))
    }
    assert.ok(replies.every((r) => r.type === 'ack'))
    source.ref.tell({ type: 'complete' })
    const result = await job.result
    assert.is(result.status, 'finished')
    assert.equal(
      received.sort((a, b) => a - b),
      Array.from({ length: 2_000 }, (_, i) => i),
    )
    await waitFor(() => system.actors.length === 0)
  } finally {
    await job.cancel().catch(() => {})
    await system.terminate()
  }
})

Source(
  'in a job at parallelism 1: a sender keeping 64 messages unanswered gets every record through once, in order',
  async () => {
    const source = actorSource<number>({ maxBufferedRecords: 16, mailboxCapacity: 64 })
    const received: number[] = []
    const env = StreamEnvironment.create({ logLevel: 'silent' })
    env.fromSource(source, { uid: 'actors' }).sinkTo(new CallbackSink((n: number) => void received.push(n)))
    const job = env.executeAsync('windowed sender')
    const n = 20_000
    let next = 0
    let acked = 0
    let refused = 0
    const replyTo = {
      ...inbox(),
      tell: (reply: ActorSourceReply) => {
        if (reply.type === 'ack') acked++
        else refused++
        if (next < n) source.ref.tell({ type: 'record', value: next++, replyTo })
        return true
      },
    }
    try {
      await waitFor(() => source.ref.isAlive)
      while (next < 64) source.ref.tell({ type: 'record', value: next++, replyTo })
      await waitFor(() => acked + refused === n, { timeoutMs: 10_000 })
      assert.is(refused, 0, 'a sender that keeps its window never overflows the mailbox')
      source.ref.tell({ type: 'complete' })
      assert.is((await job.result).status, 'finished')
      assert.equal(
        received,
        Array.from({ length: n }, (_, i) => i),
      )
    } finally {
      await job.cancel().catch(() => {})
    }
  },
)

Source('a fail message fails the job with the reason', async () => {
  const source = actorSource<number>({})
  const env = StreamEnvironment.create({ logLevel: 'silent' })
  env.fromSource(source, { uid: 'actors' }).sinkTo(new CallbackSink(() => {}))
  const job = env.executeAsync('failing actor job')
  await waitFor(() => source.ref.isAlive)
  source.ref.tell({ type: 'fail', error: new Error('upstream broke') })
  const error = await job.result.then(
    () => undefined,
    (e: unknown) => e as Error,
  )
  assert.ok(error !== undefined, 'the job failed')
  assert.match(String(error?.message), /upstream broke/)
})

Source.run()
