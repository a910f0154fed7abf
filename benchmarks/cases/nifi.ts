// NiFi site-to-site cases, against the loopback NiFi of spec/support/nifi-s2s-server.ts (one node, in
// this process: no NiFi runs here), same run, same server:
// - nifi-source: n FlowFiles of SIZE bytes wait on an output port (queued before the timing starts);
//   the engine reads them with NiFiSource (exactly-once: transactions confirmed when the checkpoint
//   covering them completes, every CHECKPOINT_MS) into a counting sink, timed until NiFi has confirmed
//   every transaction; the baseline is the connector's protocol client alone (SiteToSiteClient) doing
//   the same work: OPEN transactions at a time of BATCH FlowFiles — begin, GET flow-files, decode,
//   confirm with the CRC32 at once.
// - nifi-sink: the engine writes n records with NiFiSink (transactions of BATCH FlowFiles, committed on
//   each checkpoint); the baseline is SiteToSiteClient alone encoding the same FlowFiles and sending
//   OPEN transactions at a time, each begun, sent, checksum-compared and committed at once.
// n is the case's own (100,000; 20,000 with --quick). Target (issue 14): engine ≥ 0.8 × the client alone.
import { CountingSink } from '../counting-sink.js'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { decodeFlowFiles, encodeFlowFiles, siteToSiteChecksum } from '../../lib/connectors/nifi/flowfile-codec.js'
import { type NiFiRecord, NiFiSink, NiFiSource } from '../../lib/connectors/nifi/index.js'
import { SiteToSiteClient } from '../../lib/connectors/nifi/site-to-site-client.js'
import { NiFiTestCluster } from '../../spec/support/nifi-s2s-server.js'
import { type BenchCase, type RunResult, formatInt, ratioTargets, hotPhase, until } from '../measure.js'

const SIZE = 128
const BATCH = 1000
const OPEN = 4
const CHECKPOINT_MS = 20
const TARGET = 0.8

const flowFile = (i: number) => ({ attributes: { seq: String(i) }, content: Buffer.from(String(i).padEnd(SIZE, '.')) })
const numberOf = (f: NiFiRecord): number => Number.parseInt(f.attributes.seq ?? '0', 10)

const clientSettings = {
  tls: undefined,
  bearerToken: undefined,
  requestTimeoutMs: 30_000,
  batchCount: BATCH,
  batchSizeBytes: 64 * 1024 * 1024,
  batchDurationMs: 0,
}

async function withNiFi<T>(work: (nifi: NiFiTestCluster) => Promise<T>): Promise<T> {
  const nifi = await NiFiTestCluster.start({ inputPorts: ['in'], outputPorts: ['out'] })
  try {
    return await work(nifi)
  } finally {
    await nifi.stop()
  }
}

const fill = (nifi: NiFiTestCluster, n: number) =>
  nifi.enqueue(
    'out',
    Array.from({ length: n }, (_, i) => flowFile(i)),
  )

function engineSource(n: number): Promise<RunResult> {
  return withNiFi(async (nifi) => {
    fill(nifi, n)
    const sink = new CountingSink(numberOf)
    const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: CHECKPOINT_MS } })
    env
      .fromSource(
        new NiFiSource({
          urls: nifi.url,
          portName: 'out',
          batchCount: BATCH,
          maxOpenTransactions: OPEN,
          pollIntervalMs: 5,
        }),
      )
      .sinkTo(sink)
    const phase = hotPhase()
    const job = env.executeAsync('bench: nifi source')
    await until(() => sink.output >= n && nifi.queued('out') === 0 && nifi.counts.transactionsCommitted >= n / BATCH)
    const time = phase.end()
    await job.cancel()
    return { records: n, output: sink.output, checksum: sink.checksum, ...time }
  })
}

function rawSource(n: number): Promise<RunResult> {
  return withNiFi(async (nifi) => {
    fill(nifi, n)
    const client = new SiteToSiteClient(clientSettings)
    const base = nifi.url.replace(/\/nifi$/, '/nifi-api')
    let output = 0
    let checksum = 0
    const phase = hotPhase()
    const portId = (await client.controller(base)).outputPorts[0]!.id
    const worker = async (): Promise<void> => {
      for (;;) {
        const tx = await client.begin(base, 'receive', portId)
        const body = await client.receive(tx.url)
        if (body === undefined) return
        for (const f of decodeFlowFiles(body).flowFiles) {
          output++
          checksum += numberOf(f)
        }
        if ((await client.confirmReceived(tx.url, siteToSiteChecksum(body))) !== 'confirmed')
          throw new Error('bad checksum')
      }
    }
    await Promise.all(Array.from({ length: OPEN }, worker))
    const time = phase.end()
    client.close()
    return { records: n, output, checksum, ...time }
  })
}

function engineSink(n: number): Promise<RunResult> {
  return withNiFi(async (nifi) => {
    const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: CHECKPOINT_MS } })
    env.fromSequence(0, n - 1).sinkTo(
      new NiFiSink<number>({
        urls: nifi.url,
        portName: 'in',
        batchCount: BATCH,
        maxOpenTransactions: OPEN,
        flowFile,
      }),
    )
    const phase = hotPhase()
    await env.execute('bench: nifi sink')
    const time = phase.end()
    return { records: n, ...received(nifi), ...time }
  })
}

function rawSink(n: number): Promise<RunResult> {
  return withNiFi(async (nifi) => {
    const client = new SiteToSiteClient(clientSettings)
    const base = nifi.url.replace(/\/nifi$/, '/nifi-api')
    const phase = hotPhase()
    const portId = (await client.controller(base)).inputPorts[0]!.id
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < n) {
        const from = next
        next = Math.min(n, next + BATCH)
        const body = encodeFlowFiles(Array.from({ length: next - from }, (_, i) => flowFile(from + i)))
        const tx = await client.begin(base, 'send', portId)
        if ((await client.send(tx.url, body)) !== siteToSiteChecksum(body)) throw new Error('bad checksum')
        await client.commitSent(tx.url)
      }
    }
    await Promise.all(Array.from({ length: OPEN }, worker))
    const time = phase.end()
    client.close()
    return { records: n, ...received(nifi), ...time }
  })
}

function received(nifi: NiFiTestCluster): { output: number; checksum: number } {
  const got = nifi.received('in')
  return { output: got.length, checksum: got.reduce((sum, f) => sum + numberOf(f), 0) }
}

const notes = (n: number): string[] => [
  `${formatInt(n)} FlowFiles of ${SIZE} bytes per run whatever --records says, transactions of ${BATCH}, ${OPEN} at a time, against the loopback NiFi of spec/support/nifi-s2s-server.ts in the same process (it shares the CPU); queueing and reading back are not timed.`,
]

export const nifiSourceCase: BenchCase = {
  id: 'nifi-source',
  title: `NiFi source: HTTP site-to-site receive, ${BATCH} per transaction, engine confirms per checkpoint (every ${CHECKPOINT_MS} ms)`,
  prepare({ quick }) {
    const n = quick ? 20_000 : 100_000
    return {
      reps: 5,
      warmup: 1,
      unit: 'records',
      contenders: [
        { name: 'engine: NiFiSource (exactly-once)', role: 'engine', run: () => engineSource(n) },
        { name: 'SiteToSiteClient alone, confirm at once', role: 'baseline', run: () => rawSource(n) },
      ],
      notes: notes(n),
      targets: (s) => ratioTargets(s, 'nifi source', TARGET),
    }
  },
}

export const nifiSinkCase: BenchCase = {
  id: 'nifi-sink',
  title: `NiFi sink: HTTP site-to-site send, ${BATCH} per transaction, engine commits per checkpoint (every ${CHECKPOINT_MS} ms)`,
  prepare({ quick }) {
    const n = quick ? 20_000 : 100_000
    return {
      reps: 5,
      warmup: 1,
      unit: 'records',
      contenders: [
        { name: 'engine: NiFiSink (exactly-once)', role: 'engine', run: () => engineSink(n) },
        { name: 'SiteToSiteClient alone, commit at once', role: 'baseline', run: () => rawSink(n) },
      ],
      notes: notes(n),
      targets: (s) => ratioTargets(s, 'nifi sink', TARGET),
    }
  },
}
