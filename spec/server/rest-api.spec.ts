import { mkdtemp, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Subject } from 'rxjs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { CallbackSink } from '../../lib/connectors/collections/callback-sink.js'
import { StreamEnvironment, process } from '../../lib/index.js'
import { createLogger } from '../../lib/logging.js'
import { JobServer } from '../../lib/server/job-server.js'
import { http } from '../support/http.js'
import { tickingJob } from '../support/running-job.js'
import { waitFor } from '../support/wait-for.js'

const TOKEN = 'rest-token'
const get = (server: JobServer, path: string) => http(server.url, path, { token: TOKEN })
const post = (server: JobServer, path: string, body?: unknown) =>
  http(server.url, path, { token: TOKEN, method: 'POST', body })

async function withJob(run: (server: JobServer, job: ReturnType<typeof tickingJob>) => Promise<void>) {
  const server = await JobServer.start({ token: TOKEN, logger: createLogger({ level: 'silent' }) })
  const job = tickingJob(server)
  try {
    await job.running
    await run(server, job)
  } finally {
    await job.cancel()
    await server.close()
  }
}

test('GET /jobs and /jobs/:id show the job graph: vertices, operators, parallelism, edges, counts that grow', () =>
  withJob(async (server, job) => {
    const list = await get(server, '/jobs')
    assert.is(list.status, 200)
    assert.ok(list.json.jobs.some((j: { id: string; status: string }) => j.id === job.id && j.status === 'running'))
    const first = (await get(server, `/jobs/${job.id}`)).json
    assert.is(first.name, 'ticking')
    const operators = first.vertices.flatMap((v: { operators: string[] }) => v.operators).join(' ')
    for (const name of ['ticks', 'map', 'reduce']) assert.match(operators, name)
    assert.equal(
      first.vertices.map((v: { parallelism: number }) => v.parallelism),
      [1, 2, 2],
    )
    assert.equal(
      first.edges.map((e: { source: number; target: number; partitioning: string }) => [
        e.source,
        e.target,
        e.partitioning,
      ]),
      [
        [0, 1, 'rebalance'],
        [1, 2, 'hash'],
      ],
    )
    assert.is(first.vertices[2].subtasks.length, 2)
    const before = first.vertices[0].metrics.recordsOut
    await waitFor(() => job.metrics().operators.some((o) => o.recordsOut > before + 20))
    const second = (await get(server, `/jobs/${job.id}`)).json
    assert.ok(second.vertices[0].metrics.recordsOut > before, 'records out grew')
    const vertex = await get(server, `/jobs/${job.id}/vertices/2`)
    assert.is(vertex.json.parallelism, 2)
  }))

test('unknown job, unknown vertex, bad path, bad token, bad method: codes', () =>
  withJob(async (server, job) => {
    const codes = async (path: string, options: Parameters<typeof http>[2]) => {
      const a = await http(server.url, path, options)
      return [a.status, a.json?.error?.code]
    }
    assert.equal(await codes('/jobs/nope', { token: TOKEN }), [404, 'ERR_UNKNOWN_JOB'])
    assert.equal(await codes(`/jobs/${job.id}/vertices/9`, { token: TOKEN }), [404, 'ERR_UNKNOWN_VERTEX'])
    assert.equal(await codes(`/jobs/${job.id}/vertices/x`, { token: TOKEN }), [404, 'ERR_UNKNOWN_VERTEX'])
    assert.equal(await codes(`/jobs/${job.id}/nothing`, { token: TOKEN }), [404, 'ERR_NOT_FOUND'])
    assert.equal(await codes('/jobs', {}), [401, 'ERR_UNAUTHORIZED'])
    assert.equal(await codes('/jobs', { token: 'wrong' }), [401, 'ERR_UNAUTHORIZED'])
    assert.equal(await codes(`/jobs/${job.id}/cancel`, { method: 'POST' }), [401, 'ERR_UNAUTHORIZED'])
    assert.equal(await codes(`/jobs/${job.id}/cancel`, { token: TOKEN }), [405, 'ERR_METHOD'])
    assert.equal(await codes(`/jobs/${job.id}/savepoints`, { token: TOKEN, method: 'POST', body: {} }), [
      400,
      'ERR_BAD_REQUEST',
    ])
    assert.equal(await codes(`/jobs/${job.id}/savepoints`, { token: TOKEN, method: 'POST', body: [1] }), [
      400,
      'ERR_BAD_REQUEST',
    ])
    assert.is(job.status, 'running')
  }))

test('GET checkpoints, backpressure and watermarks of a running job', () =>
  withJob(async (server, job) => {
    await waitFor(() => job.checkpoints().filter((c) => c.status === 'completed').length >= 2, { timeoutMs: 5_000 })
    const checkpoints = (await get(server, `/jobs/${job.id}/checkpoints`)).json
    assert.ok(checkpoints.counts.completed >= 2)
    assert.type(checkpoints.latest.durationMs, 'number')
    assert.ok(checkpoints.latest.bytes > 0)
    assert.ok(checkpoints.history.length >= 2)
    const backpressure = (await get(server, `/jobs/${job.id}/backpressure`)).json
    assert.is(backpressure.vertices.length, 3)
    assert.ok(['ok', 'low', 'high'].includes(backpressure.vertices[1].level))
    await waitFor(() => job.metrics().subtasks.some((s) => Number.isFinite(s.watermark)), { timeoutMs: 5_000 })
    const watermarks = (await get(server, `/jobs/${job.id}/watermarks`)).json
    const keyed = watermarks.vertices[2].subtasks.find((s: { watermark: number | null }) => s.watermark !== null)
    assert.ok(keyed, JSON.stringify(watermarks))
    assert.ok(keyed.lagMs >= 0 && keyed.lagMs < 5_000, `lag ${keyed.lagMs}`)
  }))

test('POST savepoints writes one; POST stop stops with a savepoint; POST cancel cancels', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-rest-'))
  await withJob(async (server, job) => {
    const saved = await post(server, `/jobs/${job.id}/savepoints`, { targetDirectory: join(dir, 'sp-1') })
    assert.is(saved.status, 200, saved.text)
    assert.ok((await readdir(saved.json.location)).length > 0)
    assert.is(job.status, 'running')
    const stopped = await post(server, `/jobs/${job.id}/stop`, { targetDirectory: join(dir, 'sp-2') })
    assert.is(stopped.status, 200, stopped.text)
    assert.is(stopped.json.status, 'finished')
    assert.is((await post(server, `/jobs/${job.id}/cancel`)).json.error.code, 'ERR_JOB_NOT_RUNNING')
  })
  await withJob(async (server, job) => {
    const cancelled = await post(server, `/jobs/${job.id}/cancel`)
    assert.is(cancelled.status, 202)
    assert.is(cancelled.json.status, 'cancelled')
    assert.is((await job.result).status, 'cancelled')
  })
})

test('GET exceptions lists each failure with its stack and cause chain, newest first', async () => {
  const server = await JobServer.start({ token: TOKEN, logger: createLogger({ level: 'silent' }) })
  const input = new Subject<number>()
  const env = StreamEnvironment.create({
    logger: createLogger({ level: 'silent' }),
    queryableState: server,
    restartStrategy: { kind: 'fixed-delay', attempts: 1, delayMs: 10 },
  })
  let failures = 0
  env
    .fromObservable(input)
    .pipe(
      process((n: number, _ctx, out) => {
        if (n === 13 && failures++ === 0)
          throw new Error('unlucky record', {
            cause: new Error('ledger unreachable', { cause: new Error('ECONNRESET') }),
          })
        out.collect(n)
      }),
    )
    .sinkTo(new CallbackSink(() => {}))
  const job = env.executeAsync('failing')
  try {
    await job.running
    input.next(13)
    await waitFor(() => job.exceptions().length === 1 && job.status === 'running', { timeoutMs: 5_000 })
    const { exceptions } = (await get(server, `/jobs/${job.id}/exceptions`)).json
    assert.is(exceptions.length, 1)
    assert.is(exceptions[0].restarted, true)
    const text = JSON.stringify(exceptions[0].error)
    assert.match(text, /unlucky record/)
    assert.match(text, /ledger unreachable/)
    assert.match(text, /ECONNRESET/)
    assert.match(text, /rest-api\.spec\.ts/)
  } finally {
    await job.cancel()
    await server.close()
  }
})

test.run()
