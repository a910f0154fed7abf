import { NEVER } from 'rxjs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { CallbackSink } from '../../lib/connectors/collections/callback-sink.js'
import { type JobHandle, type SubtaskMetricsSnapshot, StreamEnvironment, rebalance } from '../../lib/index.js'
import { createLogger } from '../../lib/logging.js'
import { JobServer } from '../../lib/server/job-server.js'
import { http } from '../support/http.js'
import { parsePrometheusText } from '../support/prometheus-text.js'
import { waitFor } from '../support/wait-for.js'

const TOKEN = 'shares'
const silent = createLogger({ level: 'silent' })

/** Burns CPU for `us` microseconds: a sink slow on the subtask's own thread, as a real busy sink is. */
function spin(us: number): void {
  const until = performance.now() + us / 1000
  while (performance.now() < until);
}

const subtask = (job: JobHandle, vertex: RegExp): SubtaskMetricsSnapshot => {
  const found = job.metrics().subtasks.find((s) => vertex.test(s.vertex))
  if (found === undefined) throw new Error(`no vertex ${vertex}: ${job.metrics().subtasks.map((s) => s.vertex)}`)
  return found
}
const shares = (s: SubtaskMetricsSnapshot) =>
  `${s.vertex}: busy ${s.busyTimeMsPerSecond.toFixed(0)}, idle ${s.idleTimeMsPerSecond.toFixed(0)}, backpressured ${s.backPressuredTimeMsPerSecond.toFixed(0)} ms/s`

/** Every subtask's three shares add up to at most 1000 ms per second, and none is negative. */
function assertSumsBounded(subtasks: readonly SubtaskMetricsSnapshot[]): void {
  for (const s of subtasks) {
    const sum = s.busyTimeMsPerSecond + s.idleTimeMsPerSecond + s.backPressuredTimeMsPerSecond
    assert.ok(sum <= 1000 + 1e-9, `sum ${sum} > 1000: ${shares(s)}`)
    for (const v of [s.busyTimeMsPerSecond, s.idleTimeMsPerSecond, s.backPressuredTimeMsPerSecond])
      assert.ok(v >= 0, shares(s))
  }
}

/** Reads until `check` returns something truthy, for at most 10 s; fails naming `what`. */
async function eventually(check: () => Promise<unknown>, what: string): Promise<void> {
  const deadline = performance.now() + 10_000
  while (!(await check())) {
    if (performance.now() > deadline) assert.unreachable(`not within 10 s: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

test('a slow sink is busy and its upstream backpressured: job.metrics(), REST and Prometheus agree', async () => {
  const server = await JobServer.start({ token: TOKEN, logger: silent })
  const env = StreamEnvironment.create({ logger: silent, queryableState: server })
  env
    .fromIterable(
      function* () {
        for (let i = 0; ; i++) yield i
      },
      { name: 'fast' },
    )
    .pipe(rebalance())
    .sinkTo(new CallbackSink(() => spin(50)), { name: 'slow' })
  const job = env.executeAsync('slow sink')
  try {
    await job.running
    const source = () => subtask(job, /fast/)
    const sink = () => subtask(job, /slow/)
    await waitFor(
      () => {
        assertSumsBounded(job.metrics().subtasks)
        return source().backPressuredTimeMsPerSecond >= 600 && sink().busyTimeMsPerSecond >= 600
      },
      { timeoutMs: 10_000, intervalMs: 50, description: () => `${shares(source())}; ${shares(sink())}` },
    )
    assert.ok(source().backpressuredMs > 0 && sink().busyMs > 0, 'cumulative times are kept too')

    // the REST views and the scrape read their own snapshots a moment later: on a loaded machine one
    // of them may fall in a window the scheduler stalled, so each is read until it agrees
    await eventually(async () => {
      const backpressure = (await http(server.url, `/jobs/${job.id}/backpressure`, { token: TOKEN })).json
      const [up, down] = backpressure.vertices
      for (const s of [...up.subtasks, ...down.subtasks])
        assert.ok(s.busyTimeMsPerSecond + s.idleTimeMsPerSecond + s.backPressuredTimeMsPerSecond <= 1000)
      return (
        up.level === 'high' &&
        up.subtasks[0].backPressuredTimeMsPerSecond >= 500 &&
        down.subtasks[0].busyTimeMsPerSecond >= 500
      )
    }, 'REST /backpressure: the source high, the sink busy')
    await eventually(async () => {
      const vertex = (await http(server.url, `/jobs/${job.id}/vertices/1`, { token: TOKEN })).json
      return vertex.metrics.maxBusyTimeMsPerSecond >= 500 && vertex.subtasks[0].busyTimeMsPerSecond >= 500
    }, 'REST /vertices/1: the sink busy')
    await eventually(async () => {
      const samples = parsePrometheusText((await http(server.url, '/metrics', { token: TOKEN })).text).filter(
        (s) => s.labels.job_id === job.id,
      )
      const value = (name: string, task: RegExp) =>
        samples.find((s) => s.name === name && task.test(s.labels.task ?? ''))?.value ?? Number.NaN
      assert.ok(value('sluice_task_busy_seconds_total', /slow/) > 0)
      return (
        value('sluice_task_back_pressured_ratio', /fast/) >= 0.5 &&
        value('sluice_task_busy_ratio', /slow/) >= 0.5 &&
        value('sluice_task_idle_ratio', /slow/) <= 0.5
      )
    }, 'Prometheus: the source backpressured, the sink busy and not idle')
  } finally {
    await job.cancel()
    await server.close()
  }
})

test('a source with nothing to read is idle, and so is the sink behind it', async () => {
  const env = StreamEnvironment.create({ logger: silent })
  env
    .fromObservable(NEVER, { name: 'silent' })
    .pipe(rebalance())
    .sinkTo(new CallbackSink(() => {}), { name: 'waiting' })
  const job = env.executeAsync('idle source')
  try {
    await job.running
    await waitFor(
      () => {
        assertSumsBounded(job.metrics().subtasks)
        return job.metrics().subtasks.every((s) => s.idleTimeMsPerSecond >= 900)
      },
      { timeoutMs: 10_000, intervalMs: 50, description: () => job.metrics().subtasks.map(shares).join('; ') },
    )
    for (const s of job.metrics().subtasks) assert.ok(s.backPressuredTimeMsPerSecond < 100, shares(s))
  } finally {
    await job.cancel()
  }
})

test.run()
