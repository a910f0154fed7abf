import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { interval } from 'rxjs'
import { Registry } from 'prom-client'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { CallbackSink } from '../../lib/connectors/collections/callback-sink.js'
import { type Sink, StreamEnvironment, asyncMap, keyBy, map, rebalance, reduce } from '../../lib/index.js'
import { createLogger } from '../../lib/logging.js'
import { JobServer } from '../../lib/server/job-server.js'
import { registerSluiceMetrics } from '../../lib/server/prometheus.js'
import { http } from '../support/http.js'
import { parsePrometheusText } from '../support/prometheus-text.js'
import { tickingJob } from '../support/running-job.js'
import { waitFor } from '../support/wait-for.js'

const silent = createLogger({ level: 'silent' })
/** Installed by scripts/services.d/60-promtool.sh; the parser alone checks the text where it is missing. */
const PROMTOOL = ['/usr/local/bin/promtool', '/usr/bin/promtool'].find((p) => existsSync(p))

function promtoolCheck(text: string): void {
  if (PROMTOOL === undefined) return
  const run = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' })
  assert.is(run.status, 0, `promtool check metrics: ${run.stdout}${run.stderr}`)
}

test('a scrape of /metrics while a job runs has the named series, labelled, and passes promtool', async () => {
  const server = await JobServer.start({ token: 't', logger: silent })
  const job = tickingJob(server, 'scraped')
  try {
    await job.running
    await waitFor(() => job.checkpoints().some((c) => c.status === 'completed'), { timeoutMs: 5_000 })
    await waitFor(() => job.metrics().subtasks.some((s) => Number.isFinite(s.watermark)), { timeoutMs: 5_000 })
    const unauthorized = await http(server.url, '/metrics')
    assert.is(unauthorized.status, 401)
    const first = await http(server.url, '/metrics', { token: 't' })
    assert.is(first.status, 200)
    assert.match(String(first.headers['content-type']), /text\/plain/)
    promtoolCheck(first.text)
    const samples = parsePrometheusText(first.text).filter((s) => s.labels.job_id === job.id)
    const series = (name: string) => samples.filter((s) => s.name === name)
    for (const name of [
      'sluice_job_uptime_seconds',
      'sluice_job_restarts_total',
      'sluice_job_dead_letters_total',
      'sluice_job_checkpoints_completed_total',
      'sluice_job_checkpoints_failed_total',
      'sluice_job_last_checkpoint_duration_seconds',
      'sluice_job_last_checkpoint_size_bytes',
      'sluice_job_last_checkpoint_age_seconds',
      'sluice_operator_records_in_total',
      'sluice_operator_records_out_total',
      'sluice_operator_records_out_per_second',
      'sluice_task_back_pressured_ratio',
      'sluice_task_input_pool_usage',
      'sluice_task_output_buffered_records',
      'sluice_task_current_input_watermark_seconds',
      'sluice_task_watermark_lag_seconds',
    ])
      assert.ok(series(name).length > 0, `${name} is exported`)
    assert.ok(series('sluice_job_checkpoints_completed_total')[0]!.value >= 1)
    const mapOut = series('sluice_operator_records_out_total').filter((s) => s.labels.operator!.startsWith('map'))
    assert.equal(mapOut.map((s) => s.labels.subtask).sort(), ['0', '1'])
    assert.is(mapOut[0]!.labels.job_name, 'scraped')
    const total = (text: string) =>
      parsePrometheusText(text)
        .filter((s) => s.name === 'sluice_operator_records_out_total' && s.labels.job_id === job.id)
        .reduce((n, s) => n + s.value, 0)
    await waitFor(() => job.metrics().operators.some((o) => o.recordsOut > total(first.text) / 3 + 50), {
      timeoutMs: 10_000,
    })
    assert.ok(total((await http(server.url, '/metrics', { token: 't' })).text) > total(first.text), 'counters grow')
  } finally {
    await job.cancel()
    await server.close()
  }
})

test('registered into a service’s own prom-client registry, without a server; async I/O metrics appear', async () => {
  const registry = new Registry()
  registerSluiceMetrics(registry)
  const env = StreamEnvironment.create({ logger: silent })
  env
    .fromObservable(interval(1))
    .pipe(asyncMap(async (n: number) => n + 1, { capacity: 4 }))
    .sinkTo(new CallbackSink(() => {}))
  const job = env.executeAsync('embedded')
  try {
    await job.running
    await waitFor(() => (job.metrics().operators[0]?.recordsOut ?? 0) > 10)
    await registry.metrics() // detail metrics (async I/O) are discovered here, exported from the next scrape
    const text = await registry.metrics()
    promtoolCheck(text)
    const mine = parsePrometheusText(text).filter((s) => s.labels.job_id === job.id)
    assert.ok(mine.some((s) => s.name === 'sluice_operator_records_in_total'))
    assert.ok(
      mine.some((s) => s.name === 'sluice_operator_in_flight'),
      'async I/O in flight',
    )
    assert.ok(
      mine.some((s) => s.name === 'sluice_operator_latency_seconds_p99'),
      'async I/O latency',
    )
  } finally {
    await job.cancel()
  }
})

test('a connector’s metric group has families of its own: counters _total, gauges, labelled by task, operator, subtask, connector', async () => {
  const server = await JobServer.start({ token: 't', logger: silent })
  const pending = [3, 5]
  const ackingSink: Sink<number> = {
    name: 'acking-store',
    guarantee: 'at-least-once',
    createWriter(context) {
      const sent = context.metrics!.counter('requestsSent')
      const retries = context.metrics!.counter('bulkRetriesTotal')
      context.metrics!.gauge('acksPending', () => pending[context.subtask]!)
      context.metrics!.gauge('flushLatencyMs', () => 250)
      return {
        write: () => {
          sent.inc()
          retries.inc(2)
        },
        close() {},
      }
    },
  }
  const env = StreamEnvironment.create({ parallelism: 2, logger: silent, queryableState: server })
  env.fromObservable(interval(1), { name: 'ticks' }).pipe(rebalance()).sinkTo(ackingSink, { name: 'store' })
  const job = env.executeAsync('connector metrics')
  try {
    await job.running
    await waitFor(() => job.metrics().connectors.filter((c) => (c.counters.requestsSent ?? 0) > 0).length === 2, {
      timeoutMs: 5_000,
    })
    const scrape = async () => {
      const text = (await http(server.url, '/metrics', { token: 't' })).text
      promtoolCheck(text)
      return parsePrometheusText(text).filter((s) => s.labels.job_id === job.id)
    }
    // discovered at the first scrape, exported from it on
    const samples = await scrape()
    const series = (name: string) => samples.filter((s) => s.name === name)
    const sent = series('sluice_connector_acking_store_requests_sent_total')
    assert.is(sent.length, 2, 'one series per subtask')
    for (const s of sent) {
      assert.ok(s.value > 0)
      assert.is(s.labels.connector, 'acking-store')
      assert.is(s.labels.job_name, 'connector metrics')
      assert.match(s.labels.task!, /store/)
      assert.ok(s.labels.operator!.length > 0)
    }
    assert.equal(sent.map((s) => s.labels.subtask).sort(), ['0', '1'])
    assert.ok(series('sluice_connector_acking_store_bulk_retries_total').length === 2, 'no _total_total')
    const acks = series('sluice_connector_acking_store_acks_pending')
    assert.equal(acks.map((s) => [s.labels.subtask, s.value]).sort(), [
      ['0', 3],
      ['1', 5],
    ])
    assert.equal(series('sluice_connector_acking_store_flush_latency_seconds')[0]?.value, 0.25, 'base units')
    assert.not.ok(
      samples.some((s) => s.name.startsWith('sluice_operator_') && s.name.includes('requests_sent')),
      'not repeated as operator metrics',
    )
    const sentTotal = (from: typeof samples) =>
      from
        .filter((s) => s.name === 'sluice_connector_acking_store_requests_sent_total')
        .reduce((n, s) => n + s.value, 0)
    const first = sentTotal(samples)
    // scrapes within 100 ms share one snapshot: read until one taken later
    let later = first
    const deadline = performance.now() + 5_000
    while (later <= first && performance.now() < deadline) later = sentTotal(await scrape())
    assert.ok(later > first, 'the counters grow between scrapes')
  } finally {
    await job.cancel()
    await server.close()
  }
})

test('an ended job keeps its job series (running 0) and drops its task, operator and connector series', async () => {
  const server = await JobServer.start({ token: 't', logger: silent })
  try {
    const job = tickingJob(server, 'ending')
    await job.running
    await waitFor(() => (job.metrics().operators[0]?.recordsOut ?? 0) > 0, { timeoutMs: 5_000 })
    const mine = async () =>
      parsePrometheusText((await http(server.url, '/metrics', { token: 't' })).text).filter(
        (s) => s.labels.job_id === job.id,
      )
    assert.ok((await mine()).some((s) => s.name === 'sluice_task_busy_ratio'))
    await job.cancel()
    // scrapes within 100 ms share one snapshot: read until one taken after the end
    const notJobLevel = (samples: typeof after) => samples.filter((s) => !s.name.startsWith('sluice_job_'))
    let after = await mine()
    const deadline = performance.now() + 5_000
    while (notJobLevel(after).length > 0 && performance.now() < deadline) after = await mine()
    assert.equal(
      notJobLevel(after).map((s) => s.name),
      [],
      'no task, operator or connector series of an ended job',
    )
    assert.equal(after.find((s) => s.name === 'sluice_job_running')?.value, 0)
    assert.ok(after.some((s) => s.name === 'sluice_job_checkpoints_completed_total'))
  } finally {
    await server.close()
  }
})

test('a scrape of a job with 64 subtasks answers in under 50 ms', async () => {
  const server = await JobServer.start({ token: 't', logger: silent })
  const env = StreamEnvironment.create({ parallelism: 64, maxParallelism: 128, logger: silent, queryableState: server })
  env
    .fromObservable(interval(5))
    .pipe(
      map((n: number) => n),
      keyBy((n: number) => n % 100),
      reduce((a: number, b: number) => a + b),
    )
    .sinkTo(new CallbackSink(() => {}))
  const job = env.executeAsync('wide')
  try {
    await job.running
    assert.is(job.metrics().subtasks.length, 64 * 2 + 1)
    // CPU time of this process, so that other processes loading the machine do not count; the
    // wall time of the HTTP answers is reported alongside
    const cpu: number[] = []
    const wall: number[] = []
    for (let i = 0; i < 10; i++) {
      const started = performance.now()
      const answer = await http(server.url, '/metrics', { token: 't' })
      wall.push(performance.now() - started)
      assert.is(answer.status, 200)
      const before = globalThis.process.cpuUsage()
      await server.metricsText()
      const used = globalThis.process.cpuUsage(before)
      cpu.push((used.user + used.system) / 1000)
    }
    const best = Math.min(...cpu)
    assert.ok(
      best < 50,
      `best of 10 scrapes took ${best.toFixed(1)} ms of CPU (HTTP wall times: ${wall.map((t) => t.toFixed(1))})`,
    )
  } finally {
    await job.cancel()
    await server.close()
  }
})

test.run()
