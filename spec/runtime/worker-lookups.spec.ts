import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { QueryableRegistry } from '../../lib/queryable/queryable-registry.js'
import { KeyGroupRange } from '../../lib/state/key-groups.js'
import { answerLookups } from '../../lib/runtime/workers/lookup-answers.js'
import { LookupSignal } from '../../lib/runtime/workers/lookup-signal.js'
import { WorkerLookups } from '../../lib/runtime/workers/worker-lookups.js'
import type { FromWorker, ToWorker } from '../../lib/runtime/workers/worker-protocol.js'

type Lookup = Extract<ToWorker, { t: 'lookup' }>
type Reply = Extract<FromWorker, { t: 'lookup-reply' }>

const turn = () => new Promise((resolve) => setImmediate(resolve))

/** A worker's registry serving state `counts` over every key group, from `values`. */
function workerRegistry(values: Record<string, unknown>): QueryableRegistry {
  const registry = new QueryableRegistry()
  registry.register('counts', {
    range: new KeyGroupRange(0, 127),
    maxParallelism: 128,
    lookup: async (key) => ({ found: String(key) in values, value: values[String(key)] }),
  })
  return registry
}

test('lookups made in one turn leave in one message, and each gets its own answer', async () => {
  const posted: Lookup[] = []
  const raisedWhenPosted: boolean[] = []
  const signal = new LookupSignal()
  const lookups = new WorkerLookups((m) => {
    posted.push(m as Lookup)
    raisedWhenPosted.push(signal.raised)
  }, signal)
  const answers = Promise.all(['a', 'b', 'c'].map((key) => lookups.lookup('counts', key, 1_000)))
  assert.is(posted.length, 0)
  assert.not.ok(signal.raised)
  await turn()
  assert.is(posted.length, 1)
  // the worker's signal is up before the batch can reach it
  assert.equal(raisedWhenPosted, [true])
  assert.equal(posted[0]!.lookups, [
    { state: 'counts', key: 'a' },
    { state: 'counts', key: 'b' },
    { state: 'counts', key: 'c' },
  ])
  const registry = workerRegistry({ a: 1, c: 3 })
  await answerLookups(registry, posted[0]!, (reply) => lookups.answer(reply as Reply))
  assert.equal(await answers, [
    { found: true, value: 1 },
    { found: false, value: undefined },
    { found: true, value: 3 },
  ])
  // a later turn is another message
  const later = lookups.lookup('counts', 'a', 1_000)
  await turn()
  assert.is(posted.length, 2)
  assert.is(posted[1]!.batch, posted[0]!.batch + 1)
  lookups.fail('done')
  await later.catch(() => {})
})

test('an unanswered batch times out as ERR_ASK_TIMEOUT (a busy subtask); a late reply is ignored', async () => {
  const posted: Lookup[] = []
  const lookups = new WorkerLookups((m) => void posted.push(m as Lookup), new LookupSignal())
  const error = await lookups.lookup('counts', 'a', 20).catch((e: { code: string }) => e)
  assert.is((error as { code: string }).code, 'ERR_ASK_TIMEOUT')
  assert.not.throws(() =>
    lookups.answer({ t: 'lookup-reply', batch: posted[0]!.batch, answers: [{ found: true, value: 1 }] }),
  )
})

test('a worker that is gone rejects what waits and what comes later with ERR_SUBTASK_STOPPED', async () => {
  const lookups = new WorkerLookups(() => {}, new LookupSignal())
  const queued = lookups.lookup('counts', 'a', 1_000)
  await turn()
  const queuedToo = lookups.lookup('counts', 'b', 1_000)
  lookups.fail('worker thread 1 exited')
  for (const waiting of [queued, queuedToo, lookups.lookup('counts', 'c', 1_000)]) {
    const error = (await waiting.catch((e: unknown) => e)) as { code: string; message: string; retriable: boolean }
    assert.is(error.code, 'ERR_SUBTASK_STOPPED')
    assert.ok(error.retriable)
    assert.match(error.message, /worker thread 1 exited/)
  }
})

test('in the worker, a state no subtask serves is stopped, and a value that cannot cross threads fails alone', async () => {
  const registry = workerRegistry({ a: 1, f: () => 1 })
  const replies: Reply[] = []
  const lookup: Lookup = {
    t: 'lookup',
    batch: 7,
    lookups: [
      { state: 'counts', key: 'a' },
      { state: 'counts', key: 'f' },
      { state: 'other', key: 'a' },
    ],
  }
  // posts as a MessagePort does: a structured clone, or a DataCloneError
  await answerLookups(registry, lookup, (reply) => void replies.push(structuredClone(reply) as Reply))
  assert.is(replies.length, 1)
  const [a, f, other] = replies[0]!.answers
  assert.equal(a, { found: true, value: 1 })
  assert.is('error' in f! && f.error.fields.code, 'ERR_STATE_NOT_CLONEABLE')
  assert.is('error' in other! && other.error.fields.code, 'ERR_SUBTASK_STOPPED')
  assert.is(replies[0]!.batch, 7)
})

test.run()
