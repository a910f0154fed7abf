import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  StreamEnvironment,
  keyBy,
  process,
  ValueStateDescriptor,
  MapStateDescriptor,
  KeyGroupRange,
  keyGroupOf,
  type ValueState,
  type MapState,
  type ProcessFunction,
  type RuntimeContext,
  type ProcessContext,
  type Collector,
} from '../../lib/index.js'
import { ActorSystem } from '../../lib/actors/actor-system.js'
import { type ActorSinkMessage, actorSink, actorSource } from '../../lib/connectors/actor/index.js'
import { QueryableStateClient, QueryableStateError } from '../../lib/queryable/queryable-state-client.js'
import { JobServer } from '../../lib/server/job-server.js'
import type { JobServerOptions } from '../../lib/server/job-server-options.js'
import { waitFor } from '../support/wait-for.js'

type Click = { page: string; user: string }

class Counter implements ProcessFunction<Click, number> {
  private count!: ValueState<number>
  private users!: MapState<string, number>
  open(rt: RuntimeContext) {
    this.count = rt.getState(new ValueStateDescriptor<number>('count', { defaultValue: 0, queryable: 'clicks' }))
    this.users = rt.getMapState(new MapStateDescriptor<string, number>('users', { queryable: 'clicks-by-user' }))
  }
  processElement(c: Click, _ctx: ProcessContext, out: Collector<number>) {
    const n = this.count.value()! + 1
    this.count.update(n)
    this.users.put(c.user, (this.users.get(c.user) ?? 0) + 1)
    out.collect(n)
  }
}

/** Two pages whose key groups belong to different subtasks at parallelism 2. */
function pagesOnBothSubtasks(): [string, string] {
  const owner = (p: string) => (KeyGroupRange.forSubtask(128, 2, 0).contains(keyGroupOf(p, 128)) ? 0 : 1)
  const pages = Array.from({ length: 50 }, (_, i) => `/page/${i}`)
  return [pages.find((p) => owner(p) === 0)!, pages.find((p) => owner(p) === 1)!]
}

/**
 * The clicks enter through an actor source and the counts leave through an actor sink, whose actors
 * stay on this thread on either executor: `clicks.next` feeds the job, `processed()` counts its output.
 */
function clickPipeline(system: ActorSystem) {
  let processed = 0
  const source = actorSource<Click>({ system, actorName: 'clicks' })
  const target = system.spawn<ActorSinkMessage<number>>(
    () => ({
      receive(m) {
        if (m.type === 'record') processed++
        if (m.type === 'init' || m.type === 'record') m.replyTo.tell({ type: 'ack' })
      },
    }),
    { name: 'counted' },
  )
  const clicks = { next: (click: Click) => source.ref.tell({ type: 'record', value: click }) }
  return { source, sink: actorSink({ target }), clicks, processed: () => processed }
}

async function startJob(queryableState: JobServerOptions | JobServer) {
  const system = new ActorSystem({ name: 'clicks' })
  const { source, sink, clicks, processed } = clickPipeline(system)
  const env = StreamEnvironment.create({ parallelism: 2, logLevel: 'silent', queryableState })
  env
    .fromSource(source, { uid: 'clicks' })
    .pipe(
      keyBy((c: Click) => c.page),
      process(new Counter()),
    )
    .sinkTo(sink)
  const job = env.executeAsync('clicks')
  await job.running
  const stop = async () => {
    await job.cancel()
    await system.terminate()
  }
  return { clicks, job, processed, stop }
}

test('a running job at parallelism 2 answers for keys owned by each subtask, and answers change as records arrive', async () => {
  const [a, b] = pagesOnBothSubtasks()
  const { clicks, job, processed, stop } = await startJob({ port: 0 })
  try {
    const client = new QueryableStateClient(job.queryableStateUrl!)
    clicks.next({ page: a, user: 'u1' })
    clicks.next({ page: b, user: 'u1' })
    clicks.next({ page: b, user: 'u2' })
    await waitFor(() => processed() === 3)
    assert.is(await client.get<number>(job.id, 'clicks', a), 1)
    assert.is(await client.get<number>(job.id, 'clicks', b), 2)
    assert.equal(await client.get(job.id, 'clicks-by-user', b), { u1: 1, u2: 1 })
    clicks.next({ page: a, user: 'u3' })
    await waitFor(() => processed() === 4)
    assert.is(await client.get<number>(job.id, 'clicks', a), 2)
    assert.equal((await client.list(job.id)).sort(), ['clicks', 'clicks-by-user'])
  } finally {
    await stop()
  }
})

test('unknown jobs, unknown states and missing keys get clear answers', async () => {
  const { clicks, job, processed, stop } = await startJob({ port: 0 })
  try {
    const client = new QueryableStateClient(job.queryableStateUrl!)
    clicks.next({ page: '/x', user: 'u' })
    await waitFor(() => processed() === 1)
    assert.is(await client.get(job.id, 'clicks', '/never-clicked'), undefined)
    await client.get('no-such-job', 'clicks', '/x').then(
      () => assert.unreachable(),
      (e) => {
        assert.instance(e, QueryableStateError)
        assert.is(e.code, 'ERR_UNKNOWN_JOB')
        assert.is(e.status, 404)
      },
    )
    await client.get(job.id, 'nope', '/x').then(
      () => assert.unreachable(),
      (e) => {
        assert.is(e.code, 'ERR_UNKNOWN_STATE')
        assert.match(e.message, /clicks/)
      },
    )
    const bad = await fetch(`${job.queryableStateUrl}/jobs/${job.id}/states/clicks?key=not-json`)
    assert.is(bad.status, 400)
  } finally {
    await stop()
  }
})

test('a token is required when set', async () => {
  const { clicks, job, processed, stop } = await startJob({ port: 0, token: 's3cret' })
  try {
    clicks.next({ page: '/x', user: 'u' })
    await waitFor(() => processed() === 1)
    await new QueryableStateClient(job.queryableStateUrl!).get(job.id, 'clicks', '/x').then(
      () => assert.unreachable(),
      (e) => {
        assert.is(e.code, 'ERR_UNAUTHORIZED')
        assert.is(e.status, 401)
      },
    )
    await new QueryableStateClient(job.queryableStateUrl!, { token: 'wrong' }).get(job.id, 'clicks', '/x').then(
      () => assert.unreachable(),
      (e) => assert.is(e.status, 401),
    )
    assert.is(
      await new QueryableStateClient(job.queryableStateUrl!, { token: 's3cret' }).get(job.id, 'clicks', '/x'),
      1,
    )
  } finally {
    await stop()
  }
})

test('the server stops with the job; a shared server only forgets it', async () => {
  const { job, stop } = await startJob({ port: 0 })
  const url = job.queryableStateUrl!
  await stop()
  await fetch(`${url}/jobs`).then(
    () => assert.unreachable('server still up'),
    (e) => assert.ok(e),
  )
  const shared = await JobServer.start()
  try {
    const second = await startJob(shared)
    assert.is(second.job.queryableStateUrl, shared.url)
    await second.stop()
    const answer = await fetch(`${shared.url}/jobs/${second.job.id}/states`)
    assert.is(answer.status, 404)
  } finally {
    await shared.close()
  }
})

test('queries during a restart answer 503 and are retriable', async () => {
  const system = new ActorSystem({ name: 'clicks' })
  const { source, sink, clicks } = clickPipeline(system)
  const env = StreamEnvironment.create({
    parallelism: 1,
    logLevel: 'silent',
    queryableState: { port: 0 },
    restartStrategy: { kind: 'fixed-delay', attempts: 1, delayMs: 1_000 },
  })
  env
    .fromSource(source, { uid: 'clicks' })
    .pipe(
      keyBy((c: Click) => c.page),
      process(new Counter()),
      process((n: number, _ctx, out) => {
        // the first attempt fails on the second click; its restart sees no more clicks
        if (n === 2) throw new Error('boom')
        out.collect(n)
      }),
    )
    .sinkTo(sink)
  const job = env.executeAsync()
  await job.running
  const client = new QueryableStateClient(job.queryableStateUrl!)
  clicks.next({ page: '/p', user: 'u' })
  clicks.next({ page: '/p', user: 'u' })
  await waitFor(() => job.exceptions().length === 1, { timeoutMs: 5_000 })
  await client.get(job.id, 'clicks', '/p').then(
    () => assert.unreachable(),
    (e) => {
      assert.is(e.code, 'ERR_JOB_RESTARTING')
      assert.ok(e.retriable)
    },
  )
  await job.cancel()
  await system.terminate()
})

test.run()
