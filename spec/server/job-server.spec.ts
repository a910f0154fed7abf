import { connect } from 'node:net'
import { Subject } from 'rxjs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { CallbackSink } from '../../lib/connectors/collections/callback-sink.js'
import { ConfigError } from '../../lib/errors.js'
import {
  type Collector,
  type ProcessContext,
  type ProcessFunction,
  type RuntimeContext,
  StreamEnvironment,
  type ValueState,
  ValueStateDescriptor,
  keyBy,
  process,
} from '../../lib/index.js'
import { createLogger } from '../../lib/logging.js'
import { ActorSystem } from '../../lib/actors/actor-system.js'
import { QueryableRegistry } from '../../lib/queryable/queryable-registry.js'
import { JobRegistry, type RegisteredJob } from '../../lib/runtime/job-registry.js'
import { KeyGroupRange } from '../../lib/state/key-groups.js'
import { JobServer } from '../../lib/server/job-server.js'
import { http } from '../support/http.js'
import { waitFor } from '../support/wait-for.js'

function capturingLogger() {
  const lines: Array<Record<string, unknown>> = []
  return { lines, logger: createLogger({ level: 'info', write: (line) => lines.push(JSON.parse(line)) }) }
}

class CountPerKey implements ProcessFunction<number, number> {
  private count!: ValueState<number>
  open(rt: RuntimeContext) {
    this.count = rt.getState(new ValueStateDescriptor<number>('count', { defaultValue: 0, queryable: 'counts' }))
  }
  processElement(x: number, _ctx: ProcessContext, out: Collector<number>) {
    this.count.update(this.count.value()! + 1)
    out.collect(x)
  }
}

/** A job that stands still: what the busy-subtask test serves through a registry of its own. */
function stubJob(queryables: QueryableRegistry): RegisteredJob {
  return {
    id: 'stub',
    name: 'stub',
    startedAt: Date.now(),
    status: 'running',
    vertices: [],
    queryables,
    metrics: () => ({
      elapsedMs: 0,
      restarts: 0,
      operators: [],
      subtasks: [],
      details: [],
      connectors: [],
      deadLetters: 0,
    }),
    checkpoints: () => [],
    exceptions: () => [],
    cancel: async () => {},
    triggerSavepoint: async (d) => d,
    stopWithSavepoint: async (d) => d,
  }
}

/** A keyed job counting per key in queryable state `counts`. */
async function countingJob(server: JobServer) {
  const input = new Subject<number>()
  let processed = 0
  const env = StreamEnvironment.create({ logLevel: 'silent', queryableState: server })
  env
    .fromObservable(input)
    .pipe(
      keyBy((x: number) => x),
      process(new CountPerKey()),
    )
    .sinkTo(new CallbackSink(() => void processed++))
  const job = env.executeAsync('counting')
  return { input, job, processed: () => processed }
}

/** Opens `n` raw connections that send nothing; counts those the server closed. */
function openSockets(server: JobServer, n: number) {
  const port = Number(new URL(server.url).port)
  let closed = 0
  const sockets = Array.from({ length: n }, () => {
    const socket = connect(port, '127.0.0.1')
    socket.on('error', () => {})
    socket.resume() // read the server's 408, so its FIN is seen
    let seen = false
    const once = () => {
      if (!seen) closed++
      seen = true
    }
    // the server's FIN ('end') or reset ('close'), whichever the client sees first
    socket.on('end', once)
    socket.on('close', once)
    return socket
  })
  const destroy = () => {
    for (const s of sockets) s.destroy()
  }
  return { closed: () => closed, destroy }
}

test('without a token on loopback it serves reads, warns once, and refuses every call that changes a job', async () => {
  const { lines, logger } = capturingLogger()
  const server = await JobServer.start({ logger })
  const { job } = await countingJob(server)
  try {
    await job.running
    assert.ok(lines.some((l) => l.level === 'warn' && /without a token/.test(String(l.msg))))
    assert.is((await http(server.url, '/jobs')).status, 200)
    const cancel = await http(server.url, `/jobs/${job.id}/cancel`, { method: 'POST' })
    assert.is(cancel.status, 403)
    assert.is(cancel.json.error.code, 'ERR_TOKEN_REQUIRED')
    assert.is(job.status, 'running')
  } finally {
    await job.cancel()
    await server.close()
  }
})

test('a non-loopback host without a token refuses to start unless opted in', async () => {
  await JobServer.start({ host: '0.0.0.0' }).then(
    () => assert.unreachable('started'),
    (e) => {
      assert.instance(e, ConfigError)
      assert.match(e.message, /jobServer\.token/)
    },
  )
  const server = await JobServer.start({
    host: '0.0.0.0',
    allowUnauthenticated: true,
    logger: createLogger({ level: 'silent' }),
  })
  await server.close()
  await JobServer.start({ maxConections: 3 } as never).then(
    () => assert.unreachable(),
    (e) => assert.match(e.message, /jobServer\.maxConections.*did you mean maxConnections/),
  )
  assert.throws(() => StreamEnvironment.create({ queryableState: { port: -1 } }), /queryableState\.port/)
})

test('a malformed % escape and a key of 1e400 are 400 with a code, not 500', async () => {
  const server = await JobServer.start({ token: 't', logger: createLogger({ level: 'silent' }) })
  const { job } = await countingJob(server)
  try {
    await job.running
    const malformed = await http(server.url, `/jobs/${job.id}/states/%E0%A4%A`, { token: 't' })
    assert.is(malformed.status, 400)
    assert.is(malformed.json.error.code, 'ERR_BAD_REQUEST')
    const infinite = await http(server.url, `/jobs/${job.id}/states/counts?key=1e400`, { token: 't' })
    assert.is(infinite.status, 400)
    assert.is(infinite.json.error.code, 'ERR_BAD_KEY')
  } finally {
    await job.cancel()
    await server.close()
  }
})

test('a 500 carries a code and a request id, never the internal text, which goes to the log', async () => {
  const { lines, logger } = capturingLogger()
  const server = await JobServer.start({
    token: 't',
    logger,
    serializer: {
      contentType: 'application/json',
      serialize: () => {
        throw new Error('internal detail: /var/lib/secret-path')
      },
    },
  })
  const { input, job, processed } = await countingJob(server)
  try {
    await job.running
    input.next(7)
    await waitFor(() => processed() === 1)
    const answer = await http(server.url, `/jobs/${job.id}/states/counts?key=7`, { token: 't' })
    assert.is(answer.status, 500)
    assert.is(answer.json.error.code, 'ERR_INTERNAL')
    assert.type(answer.json.error.requestId, 'string')
    assert.not.match(answer.text, /secret-path/)
    const logged = lines.find((l) => l.requestId === answer.json.error.requestId)
    assert.ok(logged, 'the request id is in the log')
    assert.match(JSON.stringify(logged), /secret-path/)
  } finally {
    await job.cancel()
    await server.close()
  }
})

test('300 idle sockets are closed by the timeouts, and connections past the limit are refused', async () => {
  const server = await JobServer.start({
    logger: createLogger({ level: 'silent' }),
    headersTimeoutMs: 200,
    idleTimeoutMs: 300,
    keepAliveTimeoutMs: 200,
    maxConnections: 400,
  })
  try {
    const idle = openSockets(server, 300)
    await waitFor(() => idle.closed() === 300, {
      timeoutMs: 5_000,
      description: () => `${idle.closed()} of 300 idle sockets closed`,
    })
    idle.destroy()

    const { lines, logger } = capturingLogger()
    const limited = await JobServer.start({ logger, token: 't', maxConnections: 5 })
    const held = openSockets(limited, 10)
    await waitFor(() => held.closed() === 5, {
      timeoutMs: 2_000,
      description: () => `${held.closed()} of 5 extra sockets closed`,
    })
    held.destroy()
    assert.ok(lines.some((l) => /connection limit/.test(String(l.msg)) && Number(l.dropped) >= 1))
    assert.match(await limited.registry.metrics(), /sluice_server_dropped_connections_total 5/)
    await limited.close()
  } finally {
    await server.close()
  }
})

test('a subtask busy longer than the ask timeout is ERR_SUBTASK_BUSY with Retry-After, not restarting', async () => {
  // the subtask is an actor that does not get to the lookup (in one event loop: a long synchronous call)
  const system = new ActorSystem()
  const busy = system.spawn<{ replyTo: unknown }>(() => ({ receive() {} }), { name: 'busy-subtask' })
  const queryables = new QueryableRegistry()
  queryables.register('counts', {
    range: KeyGroupRange.forSubtask(128, 1, 0),
    maxParallelism: 128,
    lookup: (_key, timeoutMs) => busy.ask((replyTo) => ({ replyTo }), timeoutMs),
  })
  queryables.serving = true
  const jobs = new JobRegistry()
  jobs.add(stubJob(queryables))
  const server = await JobServer.start({
    token: 't',
    askTimeoutMs: 50,
    jobs,
    logger: createLogger({ level: 'silent' }),
  })
  try {
    const answer = await http(server.url, '/jobs/stub/states/counts?key=1', { token: 't' })
    assert.is(answer.status, 503)
    assert.is(answer.json.error.code, 'ERR_SUBTASK_BUSY')
    assert.is(answer.headers['retry-after'], '1')
    queryables.serving = false
    assert.is(
      (await http(server.url, '/jobs/stub/states/counts?key=1', { token: 't' })).json.error.code,
      'ERR_JOB_RESTARTING',
    )
  } finally {
    await server.close()
    await system.terminate()
  }
})

test('job.queryableStateUrl is set right after executeAsync with a shared server, and once running with its own', async () => {
  const server = await JobServer.start({ logger: createLogger({ level: 'silent' }) })
  const { job } = await countingJob(server)
  assert.is(job.queryableStateUrl, server.url)
  await job.cancel()
  await server.close()
  const env = StreamEnvironment.create({ logLevel: 'silent', queryableState: { port: 0 } })
  env.fromObservable(new Subject<number>()).sinkTo(new CallbackSink(() => {}))
  const own = env.executeAsync('own server')
  await own.running
  assert.match(own.queryableStateUrl!, /^http:\/\/127\.0\.0\.1:\d+$/)
  await own.cancel()
})

test.run()
