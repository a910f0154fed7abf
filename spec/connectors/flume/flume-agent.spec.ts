import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { flumeSink } from '../../../lib/connectors/flume/index.js'
import { StreamEnvironment } from '../../../lib/index.js'
import { MetricGroup } from '../../../lib/runtime/metric-group.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { type FlumeAgent, type RolledEvent, startFlumeAgent } from '../../support/flume-agent.js'
import { runJobProcess } from '../../support/fault-process.js'
import { tempDir } from '../../support/temp-dir.js'
import { waitFor } from '../../support/wait-for.js'

/**
 * The Flume sink against two real Flume agents (flume-ng-node 1.11 from Maven Central): an Avro source
 * and an HTTP source each, a file channel, a file_roll sink the test reads back.
 */
const Agent = suite('flume sink against real agents')
let a: FlumeAgent
let b: FlumeAgent

Agent.before(async () => {
  ;[a, b] = await Promise.all([startFlumeAgent(), startFlumeAgent()])
})
Agent.after(async () => {
  await Promise.all([a?.stop(), b?.stop()])
})

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i)
const context = (metrics = new MetricGroup('flume')) => ({
  subtask: 0,
  parallelism: 1,
  processingTime: systemProcessingTime,
  metrics,
})

/** The events of one run (tagged by the `run` header), by their numeric body. */
function bodies(events: RolledEvent[], run: string): number[] {
  return events.filter((e) => e.headers.run === run).map((e) => Number(e.body))
}

/** Waits until `agent` wrote `count` events of `run` (its file_roll sink writes after the channel accepted them), and returns them. */
async function waitForRun(agent: FlumeAgent, run: string, count: number): Promise<number[]> {
  let got: number[] = []
  await waitFor(() => (got = bodies(agent.output().events, run)).length >= count, {
    timeoutMs: 30_000,
    intervalMs: 50,
    description: () => `${count} events of run ${run} (has ${got.length})`,
  })
  return got
}

/**
 * Waits until every value of `expected` is among `run`'s events in `agent`'s output (duplicates make
 * the output longer than `expected` before the last events are written), or 30 s; returns the tally.
 */
async function waitForAll(
  agent: FlumeAgent,
  run: string,
  expected: number[],
): Promise<{ missing: number[]; duplicates: number; tornLines: number }> {
  let result = { missing: expected, duplicates: 0, tornLines: 0 }
  await waitFor(
    () => {
      const output = agent.output()
      result = { ...tally(bodies(output.events, run), expected), tornLines: output.tornLines }
      return result.missing.length === 0
    },
    { timeoutMs: 30_000, intervalMs: 100, description: () => `${result.missing.length} events of run ${run} missing` },
  ).catch(() => undefined)
  return result
}

/** Each value's count: every value of `expected` present, and how many arrived more than once. */
function tally(values: number[], expected: number[]): { missing: number[]; duplicates: number } {
  const seen = new Map<number, number>()
  for (const v of values) seen.set(v, (seen.get(v) ?? 0) + 1)
  const missing = expected.filter((v) => !seen.has(v))
  let duplicates = 0
  for (const n of seen.values()) duplicates += n - 1
  return { missing, duplicates }
}

Agent('a job writes 5,000 events with headers over Avro RPC; the agent holds each once, in order', async () => {
  const env = StreamEnvironment.create({ parallelism: 1, logLevel: 'silent', checkpointing: { intervalMs: 50 } })
  env.fromSequence(0, 4_999, { uid: 'src' }).sinkTo(
    flumeSink<number>({
      hosts: a.avro,
      maxBatchRecords: 200,
      mapper: (n) => ({ headers: { run: 'job', parity: n % 2 === 0 ? 'even' : 'odd' }, body: String(n) }),
    }),
    { uid: 'sink' },
  )
  await env.execute()
  const { events } = await a.waitForEvents(5_000)
  const run = events.filter((e) => e.headers.run === 'job')
  assert.equal(
    run.map((e) => Number(e.body)),
    range(5_000),
  )
  assert.ok(run.every((e) => e.headers.parity === (Number(e.body) % 2 === 0 ? 'even' : 'odd')))
})

Agent('the HTTP transport (JSONHandler) carries headers and UTF-8 bodies', async () => {
  const before = a.output().events.length
  const writer = flumeSink<number>({
    hosts: a.http,
    transport: 'http',
    maxBatchRecords: 100,
    mapper: (n) => ({ headers: { run: 'http', lang: 'fr' }, body: `${n}` }),
  }).createWriter(context())
  for (const n of range(1_000)) writer.write(n, undefined)
  await writer.snapshotState()
  await writer.close()
  const { events } = await a.waitForEvents(before + 1_000)
  assert.equal(bodies(events, 'http'), range(1_000))
  assert.ok(events.filter((e) => e.headers.run === 'http').every((e) => e.headers.lang === 'fr'))
  // a body in UTF-8 beyond ASCII arrives intact
  const text = flumeSink<string>({
    hosts: a.http,
    transport: 'http',
    mapper: (s) => ({ headers: { run: 'utf8' }, body: s }),
  })
  const w = text.createWriter(context())
  w.write('crème brûlée ✓', undefined)
  await w.close()
  const after = await a.waitForEvents(before + 1_001)
  assert.equal(
    after.events.filter((e) => e.headers.run === 'utf8').map((e) => e.body),
    ['crème brûlée ✓'],
  )
})

Agent('the agent killed (SIGKILL) and restarted mid-stream: every event arrives, duplicates counted', async () => {
  const metrics = new MetricGroup('flume')
  const writer = flumeSink<number>({
    hosts: b.avro,
    maxBatchRecords: 100,
    requestTimeoutMs: 5_000,
    connectTimeoutMs: 2_000,
    retry: { maxRetries: 100, initialDelayMs: 50, maxDelayMs: 500 },
    mapper: (n) => ({ headers: { run: 'kill' }, body: String(n) }),
  }).createWriter(context(metrics))
  const total = 4_000
  let written = 0
  const writeSome = async (n: number) => {
    for (const v of range(n, written)) writer.write(v, undefined)
    written += n
    await writer.ready()
  }
  await writeSome(1_000)
  await b.waitForEvents(200)
  await b.kill('SIGKILL')
  await writeSome(1_500)
  await waitFor(() => (metrics.value('hostFailures') ?? 0) > 0, {
    timeoutMs: 10_000,
    description: 'the sink saw the agent gone',
  })
  await b.restart()
  await writeSome(total - written)
  await writer.snapshotState()
  await writer.close()
  const { missing, duplicates, tornLines } = await waitForAll(b, 'kill', range(total))
  console.log(
    `  flume kill/restart: ${total} events, ${duplicates} duplicates, ${tornLines} torn lines, ${metrics.value('retriedBatches')} batches retried`,
  )
  assert.equal(missing, [], 'no event lost')
  assert.ok((metrics.value('retriedBatches') ?? 0) > 0, 'batches were retried while the agent was down')
})

Agent('failover: the first host takes the batches until it dies, then the second takes the rest', async () => {
  const metrics = new MetricGroup('flume')
  const beforeB = bodies(b.output().events, 'failover').length
  assert.is(beforeB, 0)
  const writer = flumeSink<number>({
    hosts: [a.avro, b.avro],
    clientType: 'failover',
    maxBatchRecords: 100,
    connectTimeoutMs: 2_000,
    retry: { maxRetries: 20, initialDelayMs: 20, maxDelayMs: 200 },
    mapper: (n) => ({ headers: { run: 'failover' }, body: String(n) }),
  }).createWriter(context(metrics))
  for (const n of range(1_000)) writer.write(n, undefined)
  await writer.snapshotState()
  assert.equal((await waitForRun(a, 'failover', 1_000)).length, 1_000, 'all on the primary')
  assert.equal(bodies(b.output().events, 'failover'), [], 'none on the backup')
  await a.kill('SIGKILL')
  for (const n of range(1_000, 1_000)) writer.write(n, undefined)
  await writer.snapshotState()
  await writer.close()
  await a.restart()
  const union = () => [...bodies(a.output().events, 'failover'), ...bodies(b.output().events, 'failover')]
  await waitFor(() => tally(union(), range(2_000)).missing.length === 0, {
    timeoutMs: 30_000,
    intervalMs: 100,
    description: () => `the 2,000 events in the agents (${tally(union(), range(2_000)).missing.length} missing)`,
  })
  const onA = bodies(a.output().events, 'failover')
  const onB = bodies(b.output().events, 'failover')
  assert.ok(onB.length > 0, 'the backup took over')
  assert.equal(tally([...onA, ...onB], range(2_000)).missing, [], 'no event lost')
  assert.ok(
    onB.every((n) => n >= 1_000),
    'the backup received only events after the kill',
  )
})

Agent('load-balance round-robin spreads batches over both agents; a dead one is backed off', async () => {
  const metrics = new MetricGroup('flume')
  const sink = (run: string) =>
    flumeSink<number>({
      hosts: [a.avro, b.avro],
      clientType: 'load-balance',
      maxBatchRecords: 50,
      connectTimeoutMs: 2_000,
      hostBackoff: { initialDelayMs: 60_000 },
      mapper: (n) => ({ headers: { run }, body: String(n) }),
    })
  const writer = sink('lb').createWriter(context(metrics))
  for (const n of range(1_000)) writer.write(n, undefined)
  await writer.close()
  const onA = await waitForRun(a, 'lb', 500)
  const onB = await waitForRun(b, 'lb', 500)
  assert.equal(onA.length, 500, 'every other batch on the first agent')
  assert.equal(onB.length, 500, 'every other batch on the second agent')
  assert.equal(tally([...onA, ...onB], range(1_000)), { missing: [], duplicates: 0 })

  await b.kill('SIGKILL')
  const degraded = sink('lb-down').createWriter(context(metrics))
  const requestsBefore = metrics.value('requests') ?? 0
  for (const n of range(1_000)) degraded.write(n, undefined)
  await degraded.close()
  await b.restart()
  assert.equal(
    (await waitForRun(a, 'lb-down', 1_000)).sort((x, y) => x - y),
    range(1_000),
    'all on the live agent',
  )
  assert.is(metrics.value('hostFailures'), 1, 'the dead agent was tried once, then backed off')
  assert.is((metrics.value('requests') ?? 0) - requestsBefore, 21, '20 batches + 1 failed try')
})

Agent('the job process SIGKILLed after its second checkpoint and restored: every event arrives', async () => {
  const dir = tempDir('sluice-flume-kill-')
  try {
    const total = 3_000
    const args = [a.avro, String(total), 'sigkill', dir.path]
    const script = 'spec/connectors/flume/kill-restore-job.ts'
    const first = await runJobProcess(script, args, { after: 'checkpoint', checkpoints: 2, delayMs: 15 }, 60_000)
    assert.ok(first.killed, `the first process was killed: ${first.lines.join(', ')} ${first.stderr}`)
    const second = await runJobProcess(script, args, undefined, 60_000)
    assert.is(second.code, 0, `the second process finished: ${second.stderr}`)
    const { missing, duplicates } = await waitForAll(a, 'sigkill', range(total))
    console.log(`  flume job SIGKILL/restore: ${total} events, ${duplicates} written again after the restore`)
    assert.equal(missing, [], 'no event lost')
    // Checkpoint ids go on from the restored one: the second process resumed after the first's checkpoints.
    const resumedAt = Number(second.lines.find((l) => l.startsWith('checkpoint '))?.slice('checkpoint '.length))
    assert.ok(resumedAt > 2, `the second process restored a checkpoint (its first checkpoint: ${resumedAt})`)
  } finally {
    dir.remove()
  }
})

Agent.run()
