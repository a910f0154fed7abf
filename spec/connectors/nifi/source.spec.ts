import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  type AckStateV1,
  type NiFiRecord,
  NiFiSource,
  type NiFiSourceOptions,
} from '../../../lib/connectors/nifi/index.js'
import { ConnectorError } from '../../../lib/errors.js'
import { createLogger } from '../../../lib/logging.js'
import { type DeadLetter, map, StreamEnvironment } from '../../../lib/index.js'
import { MetricGroup } from '../../../lib/runtime/metric-group.js'
import { type ProcessingTimeService, systemProcessingTime } from '../../../lib/time/processing-time.js'
import type { Source } from '../../../lib/runtime/source.js'
import { watchJob } from '../../support/amqp-broker.js'
import { SourceDriver } from '../../support/drive-source.js'
import { Ledger, LedgerSink } from '../../support/ledger-sink.js'
import { NiFiTestCluster } from '../../support/nifi-s2s-server.js'
import { waitFor } from '../../support/wait-for.js'
import { sharedRecord } from '../../support/shared-flags.js'

/**
 * The NiFi source against the loopback NiFi cluster of spec/support/nifi-s2s-server.ts (whose
 * protocol NiFi's own Java client checks in java-client.spec.ts): confirmation only on checkpoint
 * completion, deduplication by uuid across TTL expiry and restore, several peers, dead letters,
 * injected server faults, unreachable NiFi.
 */
const NiFiSourceSpec = suite('nifi source')

const flowFiles = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({
    attributes: { uuid: `ff-${i + from}`, seq: String(i + from) },
    content: Buffer.from(`v${i + from}`),
  }))
const values = (records: readonly NiFiRecord[]) => records.map((r) => r.content.toString())
const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `v${i + from}`)
const bySeq = (a: string, b: string) => Number(a.slice(1)) - Number(b.slice(1))
const fast = { retry: { initialDelayMs: 5, maxDelayMs: 50 }, pollIntervalMs: 5 }

/** The source with metrics and dead letters the test can read. */
function observed(options: NiFiSourceOptions) {
  const metrics = new MetricGroup('nifi')
  const letters: DeadLetter[] = []
  const source = new NiFiSource(options)
  const wrapped: Source<NiFiRecord> & { createReader: NiFiSource['createReader'] } = {
    name: source.name,
    bounded: false,
    createReader: (context, restored) =>
      source.createReader(
        { ...context, metrics, deadLetter: (l) => letters.push(l) },
        restored as AckStateV1[] | undefined,
      ),
  }
  return { source: wrapped, metrics, letters }
}

NiFiSourceSpec(
  'a transaction is confirmed to NiFi only when the checkpoint covering its FlowFiles completes',
  async () => {
    const nifi = await NiFiTestCluster.start({ outputPorts: ['out'] })
    try {
      nifi.enqueue('out', flowFiles(250))
      const { source, metrics } = observed({ urls: nifi.url, portName: 'out', batchCount: 100, ...fast })
      const driver = await SourceDriver.start(source)
      await driver.run({ maxRecords: 250 })
      assert.equal(values(driver.records), range(250))
      assert.is(nifi.counts.transactionsCommitted, 0, 'nothing confirmed before a checkpoint completes')
      assert.is(nifi.openTransactions, 3, 'NiFi holds the FlowFiles in three open transactions')
      driver.snapshot()
      await driver.reader.notifyCheckpointComplete(1)
      assert.is(nifi.counts.transactionsCommitted, 3)
      assert.is(nifi.queued('out'), 0)
      assert.is(metrics.value('transactionsConfirmed'), 3)
      assert.is(nifi.counts.badChecksums, 0, 'the CRC32 of every transaction matched')
      await driver.close()
    } finally {
      await nifi.stop()
    }
  },
)

NiFiSourceSpec('a transaction split by a barrier is confirmed when the later checkpoint covers the rest', async () => {
  const nifi = await NiFiTestCluster.start({ outputPorts: ['out'] })
  try {
    nifi.enqueue('out', flowFiles(100))
    const { source } = observed({ urls: nifi.url, portName: 'out', batchCount: 100, maxOpenTransactions: 1, ...fast })
    const driver = await SourceDriver.start(source)
    await driver.run({ maxRecords: 40 })
    driver.snapshot()
    await driver.reader.notifyCheckpointComplete(1)
    assert.is(nifi.counts.transactionsCommitted, 0, '60 FlowFiles of the transaction are not covered yet')
    await driver.run({ maxRecords: 60 })
    driver.snapshot()
    await driver.reader.notifyCheckpointComplete(2)
    assert.is(nifi.counts.transactionsCommitted, 1)
    await driver.close()
  } finally {
    await nifi.stop()
  }
})

NiFiSourceSpec(
  'exactly-once: a reader restored from a checkpoint drops the redelivery of FlowFiles emitted before it',
  async () => {
    const nifi = await NiFiTestCluster.start({ outputPorts: ['out'] })
    try {
      nifi.enqueue('out', flowFiles(300))
      const first = await SourceDriver.start(
        observed({ urls: nifi.url, portName: 'out', batchCount: 300, ...fast }).source,
      )
      await first.run({ maxRecords: 200 })
      const state = first.snapshot() // checkpoint 1 covers v0..v199; it is restored from, never notified here
      await first.close() // the job died: NiFi gets the transaction back (cancel, or its TTL)
      assert.is(nifi.queued('out'), 300, 'nothing was confirmed')
      const { source, metrics } = observed({ urls: nifi.url, portName: 'out', batchCount: 300, ...fast })
      const second = await SourceDriver.start(source, { restored: state })
      await second.run({ until: () => metrics.value('duplicatesDropped') === 200 && second.records.length === 100 })
      assert.equal(values(second.records), range(100, 200), 'only the FlowFiles after the checkpoint')
      second.snapshot()
      await second.reader.notifyCheckpointComplete(1)
      await second.close() // its pump may be polling: a poll's transaction ends with it
      assert.is(nifi.queued('out'), 0)
      assert.is(nifi.openTransactions, 0)
    } finally {
      await nifi.stop()
    }
  },
)

NiFiSourceSpec(
  'the TTL is extended while a transaction is held; one that expires anyway is redelivered and dropped by uuid',
  async () => {
    const nifi = await NiFiTestCluster.start({ outputPorts: ['out'], ttlSeconds: 1 })
    try {
      nifi.enqueue('out', flowFiles(50))
      const { source, metrics } = observed({
        urls: nifi.url,
        portName: 'out',
        batchCount: 50,
        maxOpenTransactions: 1,
        ...fast,
      })
      const driver = await SourceDriver.start(source)
      await driver.run({ maxRecords: 50 })
      await waitFor(() => nifi.counts.ttlExtensions >= 3, { timeoutMs: 5000, description: 'three TTL extensions' })
      assert.is(nifi.counts.transactionsExpired, 0, 'held for more than its TTL, and still alive')
      nifi.expireAll() // as if an extension had not reached NiFi in time
      await driver.run({ until: () => metrics.value('duplicatesDropped') === 50, timeoutMs: 10_000 })
      assert.is(driver.records.length, 50, 'the redelivery was not emitted')
      assert.is(metrics.value('transactionsLost'), 1)
      driver.snapshot()
      await driver.reader.notifyCheckpointComplete(1)
      await waitFor(() => nifi.queued('out') === 0 && nifi.openTransactions === 0, {
        description: 'redelivery confirmed',
      })
      await driver.close()
    } finally {
      await nifi.stop()
    }
  },
)

NiFiSourceSpec(
  'a malformed FlowFile goes to the dead letters with the reason; the FlowFiles before it are emitted',
  async () => {
    const nifi = await NiFiTestCluster.start({ outputPorts: ['out'] })
    try {
      nifi.enqueue('out', flowFiles(5))
      nifi.inject({ kind: 'corrupt-flowfile' })
      const { source, letters, metrics } = observed({ urls: nifi.url, portName: 'out', ...fast })
      const driver = await SourceDriver.start(source)
      await driver.run({ until: () => driver.records.length === 5 && letters.length === 1 })
      assert.equal(values(driver.records), range(5))
      assert.match(letters[0]!.reason, /malformed FlowFile: attribute length 1000000/)
      assert.is(metrics.value('deadLetters'), 1)
      driver.snapshot()
      await driver.reader.notifyCheckpointComplete(1)
      assert.is(nifi.counts.transactionsCommitted, 1, 'the CRC32 covers the whole body, so it confirms')
      await driver.close()
    } finally {
      await nifi.stop()
    }
  },
)

NiFiSourceSpec('several peers: transactions are spread over the nodes, a dead node is skipped', async () => {
  const nifi = await NiFiTestCluster.start({ nodes: 3, outputPorts: ['out'], ttlSeconds: 1 })
  const { source, metrics } = observed({
    urls: nifi.url,
    portName: 'out',
    batchCount: 50,
    maxOpenTransactions: 2,
    ...fast,
  })
  const driver = await SourceDriver.start(source)
  try {
    nifi.enqueue('out', flowFiles(600))
    let checkpoint = 0
    const commit = async () => {
      driver.snapshot()
      await driver.reader.notifyCheckpointComplete(++checkpoint)
    }
    for (let i = 0; i < 2; i++) {
      await driver.run({ maxRecords: 100 }) // 2 open transactions × 50: the most it holds per checkpoint
      await commit()
    }
    // The node dies with whatever transactions it held: they expire there (TTL 1 s) and come back
    // through the other nodes; what was emitted of them is dropped by uuid.
    await nifi.nodes[1]!.close()
    while (driver.records.length < 600) {
      await driver.run({ maxRecords: Math.min(100, 600 - driver.records.length), timeoutMs: 10_000 })
      await commit()
    }
    assert.equal(values(driver.records).sort(bySeq), range(600))
    assert.ok(
      nifi.counts.requestsByNode.every((n) => n > 0),
      `every node served: ${nifi.counts.requestsByNode}`,
    )
    assert.ok((metrics.value('requestRetries') ?? 0) >= 1, 'the dead node failed a request and was skipped')
    await waitFor(() => nifi.queued('out') === 0 && nifi.openTransactions === 0, {
      timeoutMs: 10_000,
      description: 'all confirmed',
    })
  } finally {
    await driver.close()
    await nifi.stop()
  }
})

NiFiSourceSpec('server faults (503, dropped connections) are retried; every FlowFile is emitted once', async () => {
  const nifi = await NiFiTestCluster.start({ nodes: 2, outputPorts: ['out'] })
  try {
    nifi.enqueue('out', flowFiles(1000))
    nifi.inject(
      { kind: 'http-503', on: 'begin' },
      { kind: 'drop-connection', on: 'flow-files' },
      { kind: 'http-503', on: 'flow-files' },
      { kind: 'drop-connection', on: 'begin' },
    )
    const { source } = observed({ urls: nifi.url, portName: 'out', batchCount: 100, ...fast })
    const driver = await SourceDriver.start(source)
    let checkpoint = 0
    while (driver.records.length < 1000) {
      await driver.run({ maxRecords: Math.min(250, 1000 - driver.records.length), timeoutMs: 10_000 })
      driver.snapshot()
      await driver.reader.notifyCheckpointComplete(++checkpoint)
    }
    assert.is(nifi.counts.faultsInjected, 4)
    assert.equal(values(driver.records).sort(bySeq), range(1000))
    await waitFor(() => nifi.queued('out') === 0 && nifi.openTransactions === 0, { description: 'all confirmed' })
    await driver.close()
  } finally {
    await nifi.stop()
  }
})

NiFiSourceSpec(
  'through a job: 5,000 FlowFiles from 2 nodes, a failure and restore, each emitted exactly once',
  async () => {
    const nifi = await NiFiTestCluster.start({ nodes: 2, outputPorts: ['out'] })
    const N = 5000
    try {
      nifi.enqueue('out', flowFiles(N))
      const ledger = new Ledger<string>()
      // shared by every thread of the test: on the worker executor the failure fires once over the workers
      const fault = sharedRecord({ failed: false })
      const env = StreamEnvironment.create({
        logLevel: 'silent',
        checkpointing: { intervalMs: 20 },
        restartStrategy: { kind: 'fixed-delay', attempts: 3, delayMs: 5 },
      })
      env
        .fromSource(new NiFiSource({ urls: nifi.url, portName: 'out', batchCount: 200, ...fast }), { uid: 'nifi' })
        .pipe(
          map((r: NiFiRecord) => {
            const v = r.content.toString()
            if (!fault.failed && v === 'v3100') {
              fault.failed = true
              throw new Error('injected failure')
            }
            return v
          }),
        )
        .sinkTo(new LedgerSink(ledger), { uid: 'ledger' })
      const job = env.executeAsync()
      const watch = watchJob(job)
      try {
        await waitFor(() => watch.check() && ledger.committed.length >= N, {
          timeoutMs: 30_000,
          description: 'all committed',
        })
        await waitFor(() => nifi.queued('out') === 0 && nifi.openTransactions === 0, {
          timeoutMs: 10_000,
          description: 'every transaction confirmed to NiFi',
        })
      } finally {
        await job.cancel()
      }
      assert.ok(fault.failed)
      assert.equal([...ledger.committed].sort(bySeq), range(N), 'no loss, no duplicate')
      assert.ok(
        nifi.counts.requestsByNode.every((n) => n > 0),
        'both nodes served',
      )
    } finally {
      await nifi.stop()
    }
  },
)

NiFiSourceSpec(
  'after a crash, the restored reader confirms the transactions its checkpoint covered whole and cancels the others: none waits for the TTL',
  async () => {
    const nifi = await NiFiTestCluster.start({ outputPorts: ['out'] })
    try {
      nifi.enqueue('out', flowFiles(250))
      // Three transactions at most: the crashed reader, which keeps running here, then polls no more.
      const options = { urls: nifi.url, portName: 'out', batchCount: 100, maxOpenTransactions: 3, ...fast }
      const { source, metrics } = observed(options)
      const clock = new FreezingClock()
      const crashed = await SourceDriver.start(source, { processingTime: clock })
      await crashed.run({ maxRecords: 150 }) // v0..v99 whole, v100..v149 of the second, none of the third
      await waitFor(() => metrics.value('openTransactions') === 3, { description: 'three transactions held' })
      const state = crashed.snapshot() // checkpoint 1, restored from: the process died before its notice
      // The process died: its keep-alives stop (left running, one would find its transaction gone and its
      // reader would begin another, taking FlowFiles the restored reader is meant to get)
      clock.freeze()
      const second = await SourceDriver.start(source, { restored: state })
      await second.run({ maxRecords: 100 })
      assert.equal(
        values(second.records).sort(bySeq),
        range(100, 150),
        'the cancelled FlowFiles come again at once; v100..v149 dropped',
      )
      assert.is(metrics.value('restoredTransactionsConfirmed'), 1, 'the whole one confirmed')
      assert.is(metrics.value('restoredTransactionsCancelled'), 2)
      assert.is(nifi.counts.transactionsCancelled, 2)
      await crashed.close() // its requests find the transactions gone
      second.snapshot()
      await second.reader.notifyCheckpointComplete(1)
      assert.is(nifi.queued('out'), 0)
      assert.is(metrics.value('openTransactions'), 0, 'the restored reader holds no transaction')
      // Its pump still polls the empty port, and a poll is a transaction from its begin to its (empty)
      // receive: NiFi's server counts one open in that window, so it is counted after close
      await second.close()
      assert.is(nifi.counts.transactionsCancelled, 2, 'close had nothing to cancel')
      assert.is(nifi.openTransactions, 0, 'no transaction left open')
    } finally {
      await nifi.stop()
    }
  },
)

NiFiSourceSpec(
  'endWhenIdleMs: the job ends once the port stayed empty, its final checkpoint confirming every transaction',
  async () => {
    const nifi = await NiFiTestCluster.start({ nodes: 2, outputPorts: ['out'] })
    const N = 1200
    try {
      nifi.enqueue('out', flowFiles(N))
      const ledger = new Ledger<string>()
      const env = StreamEnvironment.create({
        logLevel: 'silent',
        parallelism: 2,
        checkpointing: { intervalMs: 60_000 },
      })
      const source = new NiFiSource({ urls: nifi.url, portName: 'out', batchCount: 100, endWhenIdleMs: 50, ...fast })
      assert.ok(source.bounded)
      env
        .fromSource(source, { uid: 'nifi' })
        .pipe(map((r: NiFiRecord) => r.content.toString()))
        .sinkTo(new LedgerSink(ledger), { uid: 'ledger' })
      const result = await env.executeAsync().result
      assert.equal([...ledger.committed].sort(bySeq), range(N), 'each FlowFile once')
      assert.is(nifi.queued('out'), 0, 'every FlowFile confirmed')
      assert.is(nifi.openTransactions, 0, 'no transaction left open')
      assert.is(nifi.counts.transactionsCommitted, N / 100, 'confirmed by the final checkpoint (no periodic one ran)')
      assert.is(result.metrics.restarts, 0)
    } finally {
      await nifi.stop()
    }
  },
)

NiFiSourceSpec(
  'an unreachable NiFi fails with ERR_CONNECT after the retries; the token is not in the error or the log',
  async () => {
    const lines: string[] = []
    const source = new NiFiSource({
      urls: ['http://127.0.0.1:9/nifi', 'http://127.0.0.1:10/nifi'],
      portName: 'out',
      bearerToken: 'secret-token-123',
      retry: { maxRetries: 2, initialDelayMs: 1 },
    })
    const reader = source.createReader({
      subtask: 0,
      parallelism: 1,
      processingTime: {
        now: Date.now,
        scheduleAt: (t, f) => {
          const h = setTimeout(f, t - Date.now())
          return () => clearTimeout(h)
        },
      },
      logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }),
    })
    reader.start()
    await reader.isAvailable()
    let error: unknown
    try {
      reader.pollNext({ collect() {}, emitWatermark() {}, markIdle() {} })
    } catch (e) {
      error = e
    }
    assert.instance(error, ConnectorError)
    assert.is((error as ConnectorError).code, 'ERR_CONNECT')
    assert.match((error as Error).message, /127\.0\.0\.1:9.*3 attempts \(maxRetries 2\)/)
    assert.not.match((error as Error).message + lines.join('\n'), /secret-token-123/)
    await reader.close()
  },
)

NiFiSourceSpec(
  'an output port that does not exist fails at once with ERR_NO_PORT naming the ports there are',
  async () => {
    const nifi = await NiFiTestCluster.start({ outputPorts: ['out'] })
    try {
      const driver = await SourceDriver.start(new NiFiSource({ urls: nifi.url, portName: 'ouf', ...fast }))
      const error = await driver.run().then(
        () => undefined,
        (e: unknown) => e,
      )
      assert.instance(error, ConnectorError)
      assert.is((error as ConnectorError).code, 'ERR_NO_PORT')
      assert.match((error as Error).message, /no output port ouf \(it has out\)/)
      await driver.close()
    } finally {
      await nifi.stop()
    }
  },
)

NiFiSourceSpec('a refused token ends in ERR_CONNECT after the retries, without the token in the error', async () => {
  const nifi = await NiFiTestCluster.start({ outputPorts: ['out'] })
  nifi.token = 'the-right-one'
  try {
    const driver = await SourceDriver.start(
      new NiFiSource({
        urls: nifi.url,
        portName: 'out',
        bearerToken: 'wrong-token-789',
        ...fast,
        retry: { ...fast.retry, maxRetries: 2 },
      }),
    )
    const error = await driver.run().then(
      () => undefined,
      (e: unknown) => e,
    )
    assert.instance(error, ConnectorError)
    assert.is((error as ConnectorError).code, 'ERR_CONNECT')
    assert.match((error as Error).message, /3 attempts \(maxRetries 2\).*HTTP 401/)
    assert.not.match((error as Error).message, /wrong-token-789/)
    await driver.close()
  } finally {
    await nifi.stop()
  }
})

/** Processing time that stops firing once frozen: the timers of a process that died. */
class FreezingClock implements ProcessingTimeService {
  private frozen = false

  now(): number {
    return Date.now()
  }

  scheduleAt(timestamp: number, callback: () => void): () => void {
    return systemProcessingTime.scheduleAt(timestamp, () => {
      if (!this.frozen) callback()
    })
  }

  freeze(): void {
    this.frozen = true
  }
}

NiFiSourceSpec.run()
