// Case hdfs-sink — the bucketing file sink writing to HDFS through webHdfs() against raw WebHDFS writes
// of the same bytes, same run, same cluster (Apache HDFS 3.4.1, a MiniDFSCluster with one DataNode,
// started by the case with the JVM server kit: see spec/support/hdfs-server.ts).
// Records are lines of 100 bytes (the record number, padded). The engine: fromSequence(1, n) → the
// sink (text lines, one bucket, parts rolled at 8 MiB, exactly-once with a checkpoint every 1 s), timed
// from the job start to its end (every part committed). The raw baseline: the same lines cut into the
// same 8 MiB files, each put with one two-step WebHDFS CREATE carrying all its bytes (the fewest
// requests those bytes can take), timed from the first request to the last answer.
// Target (issue 13): engine ≥ 0.8 × the raw writes, in records/s (and so in MB/s: same bytes).
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { bucketingFileSink, DefaultRollingPolicy, textLines } from '../../lib/connectors/bucketing-file-sink/index.js'
import { httpExchange } from '../../lib/connectors/hdfs/http-exchange.js'
import { webHdfs } from '../../lib/connectors/hdfs/index.js'
import { type HdfsServer, startHdfs } from '../../spec/support/hdfs-server.js'
import { serverClasspath } from '../../spec/support/jvm-server.js'
import { type BenchCase, type RunResult, type Summary, type TargetCheck, hotPhase } from '../measure.js'

const TARGET = 0.8
const LINE_BYTES = 100
const PART_BYTES = 8 << 20
let server: Promise<HdfsServer> | undefined
let runs = 0

/** One cluster for the case, started on first use; it dies with the benchmark process. */
function cluster(): Promise<HdfsServer> {
  server ??= startHdfs({ heap: '512m', jit: 'full' }).then((hdfs) => {
    hdfs.unref()
    return hdfs
  })
  return server
}

/** Record `x` as its line without the newline: the number padded to 99 characters. */
const line = (x: number): string => String(x).padEnd(LINE_BYTES - 1, '.')

async function engineSink(hdfs: HdfsServer, n: number): Promise<RunResult> {
  const basePath = `/bench/engine-${++runs}`
  const env = StreamEnvironment.create({ parallelism: 1, logLevel: 'silent', checkpointing: { intervalMs: 1_000 } })
  env.fromSequence(1, n, { uid: 'numbers' }).sinkTo(
    bucketingFileSink<number>(basePath, {
      fileSystem: webHdfs({ url: hdfs.webHdfsUrl, user: hdfs.superuser }),
      encoder: textLines(line),
      bucketAssigner: () => '',
      rollingPolicy: new DefaultRollingPolicy({ partSizeBytes: PART_BYTES }),
    }),
    { uid: 'hdfs' },
  )
  const phase = hotPhase()
  await env.execute('bench: hdfs sink')
  const time = phase.end()
  const written = await totalBytes(hdfs, basePath)
  return { records: n, output: written / LINE_BYTES, checksum: (n * (n + 1)) / 2, ...time }
}

async function rawWrites(hdfs: HdfsServer, n: number): Promise<RunResult> {
  const basePath = `/bench/raw-${++runs}`
  const query = `user.name=${encodeURIComponent(hdfs.superuser)}`
  const perFile = Math.floor(PART_BYTES / LINE_BYTES)
  const phase = hotPhase()
  for (let first = 1, file = 0; first <= n; first += perFile, file++) {
    const lines: string[] = []
    for (let x = first; x < first + perFile && x <= n; x++) lines.push(`${line(x)}\n`)
    const body = Buffer.from(lines.join(''))
    const url = `${hdfs.webHdfsUrl}/webhdfs/v1${basePath}/part-${file}?op=CREATE&overwrite=false&${query}`
    const redirect = await httpExchange(url, 'PUT', undefined, 60_000)
    const created = await httpExchange(String(redirect.headers.location), 'PUT', body, 60_000)
    if (created.status !== 201) throw new Error(`raw CREATE answered ${created.status}: ${created.body}`)
  }
  const time = phase.end()
  const written = await totalBytes(hdfs, basePath)
  return { records: n, output: written / LINE_BYTES, checksum: (n * (n + 1)) / 2, ...time }
}

/** Bytes of the finished files under `directory`, recursively (hidden ones excluded). */
async function totalBytes(hdfs: HdfsServer, directory: string): Promise<number> {
  const fs = webHdfs({ url: hdfs.webHdfsUrl, user: hdfs.superuser })
  let total = 0
  for (const entry of await fs.list(directory)) {
    if (entry.isDirectory) total += await totalBytes(hdfs, entry.path)
    else if (!entry.name.startsWith('.')) total += (await fs.status(entry.path))?.length ?? 0
  }
  return total
}

function ratioTarget(summaries: ReadonlyMap<string, Summary>, engineName: string, baselineName: string): TargetCheck[] {
  const engine = summaries.get(engineName)
  const baseline = summaries.get(baselineName)
  if (engine === undefined || baseline === undefined) return []
  const ratio = engine.rate / baseline.rate
  const mbs = (rate: number) => ((rate * LINE_BYTES) / 1e6).toFixed(1)
  return [
    {
      label: `hdfs sink: engine ≥ ${TARGET} × raw WebHDFS writes of the same bytes`,
      pass: ratio >= TARGET,
      actual: `${ratio.toFixed(2)}× (${Math.round(engine.rate).toLocaleString('en')} vs ${Math.round(baseline.rate).toLocaleString('en')} records/s; ${mbs(engine.rate)} vs ${mbs(baseline.rate)} MB/s)`,
    },
  ]
}

async function unavailable(): Promise<string | undefined> {
  try {
    await serverClasspath('hdfs')
    return undefined
  } catch (error) {
    return `HDFS's jars cannot be resolved (needs Java 17 and Maven: bash scripts/services.sh 50-jvm-servers): ${(error as Error).message}`
  }
}

export const hdfsSinkCase: BenchCase = {
  id: 'hdfs-sink',
  title: 'HDFS sink: bucketingFileSink + webHdfs() vs raw WebHDFS CREATEs of the same bytes (HDFS 3.4.1, 1 DataNode)',
  unavailable,
  async prepare({ quick }) {
    const n = quick ? 200_000 : 1_000_000
    const hdfs = await cluster()
    const engine = 'engine: sequence → bucketingFileSink on webHdfs (exactly-once, checkpoint 1 s, 8 MiB parts)'
    const raw = 'raw WebHDFS: one two-step CREATE per 8 MiB file'
    return {
      reps: quick ? 3 : 5,
      warmup: 1,
      contenders: [
        { name: engine, role: 'engine', run: () => engineSink(hdfs, n) },
        { name: raw, role: 'baseline', run: () => rawWrites(hdfs, n) },
      ],
      notes: [
        `${n.toLocaleString('en')} lines of ${LINE_BYTES} bytes (${((n * LINE_BYTES) / 1e6).toFixed(0)} MB) per run, into a new directory per run; output = bytes found in the finished files / ${LINE_BYTES}.`,
        'The engine sends each part as CREATE (empty) + APPENDs of 4 MiB + RENAME on commit, plus the checkpoint-rolled parts; the baseline sends each 8 MiB file in one CREATE.',
      ],
      targets: (s) => ratioTarget(s, engine, raw),
    }
  },
}
