import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { NiFiSink, type NiFiSinkOptions, type NiFiWriter } from '../../../lib/connectors/nifi/index.js'
import { ConnectorError } from '../../../lib/errors.js'
import { map, StreamEnvironment } from '../../../lib/index.js'
import { createLogger } from '../../../lib/logging.js'
import { MetricGroup } from '../../../lib/runtime/metric-group.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'
import { watchJob } from '../../support/amqp-broker.js'
import { NiFiTestCluster } from '../../support/nifi-s2s-server.js'
import { waitFor } from '../../support/wait-for.js'
import { sharedRecord } from '../../support/shared-flags.js'

/**
 * The NiFi sink against the loopback NiFi cluster of spec/support/nifi-s2s-server.ts (whose protocol
 * NiFi's own Java client checks in java-client.spec.ts): two-phase commit on checkpoints, commit of
 * restored transactions, resend after TTL expiry and bad checksums, several peers, bad records,
 * unreachable NiFi.
 */
const NiFiSinkSpec = suite('nifi sink')

const toFlowFile = (s: string) => ({ attributes: { 'mime.type': 'text/plain', value: s }, content: Buffer.from(s) })
const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `v${i + from}`)
const bySeq = (a: string, b: string) => Number(a.slice(1)) - Number(b.slice(1))
const fast = { retry: { initialDelayMs: 5, maxDelayMs: 50 } }

function writerOf(options: Omit<NiFiSinkOptions<string>, 'flowFile'>, restored: unknown[] = []) {
  const metrics = new MetricGroup('nifi')
  const lines: string[] = []
  const writer = new NiFiSink<string>({ flowFile: toFlowFile, ...options }).createWriter(
    {
      subtask: 0,
      parallelism: 1,
      processingTime: systemProcessingTime,
      metrics,
      logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }),
    },
    restored,
  ) as NiFiWriter<string>
  return { writer, metrics, lines }
}

const received = (nifi: NiFiTestCluster, port = 'in') => nifi.received(port).map((f) => f.content.toString())

NiFiSinkSpec('FlowFiles reach the flow only when the checkpoint completes (two-phase commit)', async () => {
  const nifi = await NiFiTestCluster.start({ inputPorts: ['in'] })
  const { writer, metrics } = writerOf({ urls: nifi.url, portName: 'in', batchCount: 40, ...fast })
  try {
    for (const v of range(100)) writer.write(v, undefined)
    const state = await writer.snapshotState(1)
    assert.equal(
      state.map((s) => s.transactions.map((t) => t.flowFiles)),
      [[40, 40, 20]],
      'three transactions pre-committed',
    )
    assert.equal(received(nifi), [], 'sent and checksummed, not yet committed')
    assert.is(nifi.openTransactions, 3)
    await writer.notifyCheckpointComplete(1)
    assert.equal(received(nifi).sort(bySeq), range(100))
    assert.equal(nifi.received('in')[0]!.attributes, { 'mime.type': 'text/plain', value: 'v0' })
    assert.is(metrics.value('flowFilesCommitted'), 100)
  } finally {
    await writer.close()
    await nifi.stop()
  }
})

NiFiSinkSpec(
  "a checkpoint's state carries the transactions of an earlier checkpoint that did not complete: restored from it, both are committed",
  async () => {
    const nifi = await NiFiTestCluster.start({ inputPorts: ['in'] })
    const first = writerOf({ urls: nifi.url, portName: 'in', ...fast })
    try {
      for (const v of range(20)) first.writer.write(v, undefined)
      await first.writer.snapshotState(1) // checkpoint 1 fails (its storage write, say): no completion
      for (const v of range(20, 20)) first.writer.write(v, undefined)
      const state = await first.writer.snapshotState(2)
      assert.equal(
        state.map((s) => s.transactions.map((t) => t.flowFiles)),
        [[20, 20]],
        "checkpoint 2's state holds checkpoint 1's transaction too",
      )
      // checkpoint 2 completes, and the job fails before the writer committed: a new writer restores it
      const second = writerOf({ urls: nifi.url, portName: 'in', ...fast }, state)
      await second.writer.flush(false)
      assert.equal(received(nifi).sort(bySeq), range(40), "checkpoint 1's FlowFiles are not lost")
      assert.is(second.metrics.value('restoredTransactionsCommitted'), 2)
      await second.writer.close()
    } finally {
      await first.writer.close()
      await nifi.stop()
    }
  },
)

NiFiSinkSpec(
  'a restored writer commits the transactions of the restored checkpoint; a second commit finds them gone',
  async () => {
    const nifi = await NiFiTestCluster.start({ inputPorts: ['in'] })
    const first = writerOf({ urls: nifi.url, portName: 'in', ...fast })
    try {
      for (const v of range(30)) first.writer.write(v, undefined)
      const state = await first.writer.snapshotState(1)
      // The job dies after checkpoint 1 completed, before the writer committed: a new one restores.
      const second = writerOf({ urls: nifi.url, portName: 'in', ...fast }, state)
      await second.writer.flush(false)
      assert.equal(received(nifi).sort(bySeq), range(30))
      assert.is(second.metrics.value('restoredTransactionsCommitted'), 1)
      // Restoring the same checkpoint again (a second failure): the commit is idempotent.
      const third = writerOf({ urls: nifi.url, portName: 'in', ...fast }, state)
      await third.writer.flush(false)
      assert.is(third.metrics.value('restoredTransactionsGone'), 1)
      assert.match(third.lines.join('\n'), /restored NiFi transaction is gone/)
      assert.is(received(nifi).length, 30, 'committed once')
      await second.writer.close()
      await third.writer.close()
    } finally {
      await first.writer.close()
      await nifi.stop()
    }
  },
)

NiFiSinkSpec('a transaction that expired before its checkpoint completed is sent again, once', async () => {
  const nifi = await NiFiTestCluster.start({ inputPorts: ['in'] })
  const { writer, metrics } = writerOf({ urls: nifi.url, portName: 'in', ...fast })
  try {
    nifi.inject({ kind: 'expire-transaction' })
    for (const v of range(20)) writer.write(v, undefined)
    await writer.snapshotState(1)
    await writer.notifyCheckpointComplete(1)
    assert.is(nifi.counts.transactionsExpired, 1)
    assert.is(metrics.value('transactionsResent'), 1)
    assert.equal(received(nifi).sort(bySeq), range(20))
  } finally {
    await writer.close()
    await nifi.stop()
  }
})

NiFiSinkSpec('the TTL of a pre-committed transaction is extended until its checkpoint completes', async () => {
  const nifi = await NiFiTestCluster.start({ inputPorts: ['in'], ttlSeconds: 1 })
  const { writer } = writerOf({ urls: nifi.url, portName: 'in', ...fast })
  try {
    for (const v of range(10)) writer.write(v, undefined)
    await writer.snapshotState(1)
    await waitFor(() => nifi.counts.ttlExtensions >= 3, { timeoutMs: 5000, description: 'three extensions' })
    await writer.notifyCheckpointComplete(1)
    assert.is(nifi.counts.transactionsExpired, 0)
    assert.equal(received(nifi).sort(bySeq), range(10))
  } finally {
    await writer.close()
    await nifi.stop()
  }
})

NiFiSinkSpec(
  'a checksum mismatch cancels with BAD_CHECKSUM and sends again; faults are retried on other peers',
  async () => {
    const nifi = await NiFiTestCluster.start({ nodes: 2, inputPorts: ['in'] })
    const { writer, metrics } = writerOf({ urls: nifi.url, portName: 'in', batchCount: 10, ...fast })
    try {
      nifi.inject(
        { kind: 'bad-checksum' },
        { kind: 'http-503', on: 'begin' },
        { kind: 'drop-connection', on: 'flow-files' },
      )
      for (const v of range(50)) writer.write(v, undefined)
      await writer.snapshotState(1)
      nifi.inject({ kind: 'http-503', on: 'commit' })
      await writer.notifyCheckpointComplete(1)
      assert.is(nifi.counts.faultsInjected, 4)
      assert.is(nifi.counts.badChecksums, 1, 'NiFi was told BAD_CHECKSUM')
      assert.is(metrics.value('badChecksums'), 1)
      assert.equal(received(nifi).sort(bySeq), range(50), 'every FlowFile once')
      assert.ok(
        nifi.counts.requestsByNode.every((n) => n > 0),
        'both peers used',
      )
    } finally {
      await writer.close()
      await nifi.stop()
    }
  },
)

NiFiSinkSpec('a record the builder cannot turn into a FlowFile is skipped with a metric and a log line', async () => {
  const nifi = await NiFiTestCluster.start({ inputPorts: ['in'] })
  const metrics = new MetricGroup('nifi')
  const lines: string[] = []
  const writer = new NiFiSink<string>({
    urls: nifi.url,
    portName: 'in',
    flowFile: (s) => (s === 'bad' ? ({ attributes: { n: 1 }, content: Buffer.from(s) } as never) : toFlowFile(s)),
  }).createWriter({
    subtask: 0,
    parallelism: 1,
    processingTime: systemProcessingTime,
    metrics,
    logger: createLogger({ level: 'warn', write: (l) => lines.push(l) }),
  })
  try {
    for (const v of ['v0', 'bad', 'v1']) writer.write(v, undefined)
    await writer.snapshotState(1)
    await writer.notifyCheckpointComplete(1)
    assert.equal(received(nifi), ['v0', 'v1'])
    assert.is(metrics.value('invalidRecords'), 1)
    assert.match(lines.join('\n'), /attribute n is not a string/)
  } finally {
    await writer.close()
    await nifi.stop()
  }
})

NiFiSinkSpec(
  'through a job: 5,000 records to 2 nodes, a failure and restore, each committed exactly once',
  async () => {
    const nifi = await NiFiTestCluster.start({ nodes: 2, inputPorts: ['in'] })
    const N = 5000
    try {
      // shared by every thread of the test: on the worker executor the failure fires once over the workers
      const fault = sharedRecord({ failed: false })
      const env = StreamEnvironment.create({
        logLevel: 'silent',
        checkpointing: { intervalMs: 20 },
        restartStrategy: { kind: 'fixed-delay', attempts: 3, delayMs: 5 },
      })
      env
        .fromCollection(range(N), { uid: 'numbers' })
        .pipe(
          map((v: string) => {
            if (!fault.failed && v === 'v3300') {
              fault.failed = true
              throw new Error('injected failure')
            }
            return v
          }),
        )
        .sinkTo(
          new NiFiSink<string>({ urls: nifi.url, portName: 'in', flowFile: toFlowFile, batchCount: 250, ...fast }),
          {
            uid: 'nifi',
          },
        )
      const job = env.executeAsync()
      const watch = watchJob(job)
      await job.result
      watch.check()
      assert.ok(fault.failed)
      assert.equal(received(nifi).sort(bySeq), range(N), 'no loss, no duplicate')
      // The failed attempt's pre-committed transactions of checkpoints that never completed are in no
      // restored state: left open (a completed one among them is the restore's to commit), NiFi's TTL
      // drops them, and their FlowFiles never arrive.
      nifi.expireAll()
      assert.equal(received(nifi).sort(bySeq), range(N), 'nothing more after the open transactions expired')
      assert.is(nifi.openTransactions, 0)
      assert.ok(
        nifi.counts.requestsByNode.every((n) => n > 0),
        'both nodes served',
      )
    } finally {
      await nifi.stop()
    }
  },
)

NiFiSinkSpec(
  'an unreachable NiFi fails the writer with ERR_CONNECT; the key passphrase is in no error or log',
  async () => {
    const { writer, lines } = writerOf({
      urls: 'https://127.0.0.1:9/nifi',
      portName: 'in',
      tls: { passphrase: 'pass-phrase-456', rejectUnauthorized: false },
      retry: { maxRetries: 1, initialDelayMs: 1 },
    })
    writer.write('v0', undefined)
    const error = await writer.snapshotState(1).then(
      () => undefined,
      (e: unknown) => e,
    )
    assert.instance(error, ConnectorError)
    assert.is((error as ConnectorError).code, 'ERR_CONNECT')
    assert.match((error as Error).message, /https:\/\/127\.0\.0\.1:9\/nifi-api: no answer after 2 attempts/)
    assert.not.match(`${(error as Error).message}${lines.join('\n')}`, /pass-phrase-456/)
    await writer.close()
  },
)

NiFiSinkSpec.run()
