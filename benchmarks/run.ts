// The benchmark harness: `npm run bench [-- --quick] [-- --case a,b]`. Not part of `npm test`.
// Runs every case's contenders (the engine and its baselines) in this one process, interleaved (each
// repetition runs every contender once, in a rotating order), after warm-up runs; reports the median of
// the measured runs, and writes benchmarks/RESULTS.md with the ratios to every baseline and the targets.
// A case whose runs must not share a process (e, workers) starts a child process inside each run; the
// steady-state contenders of tcp-server-source each keep one child process (their server) for all their runs.
//
// Options:
//   --quick           500,000 records, 1 warm-up, 3 measured runs (default: 5,000,000, 2 and 5)
//   --case a,b        only these cases: a|stateless, b|keyed, b2|keyed-many, c|window, c2|window-sliding, c3|window-session, d|backpressure, e|checkpoint, f|queryable, g|async-io, l|latency, s|server-overhead, actors, workers
//   --records N       input records per run        --reps N / --warmup N   measured / warm-up runs
//   --only TEXT       only contenders whose name contains TEXT (for profiling); implies --no-write
//   --out FILE        where to write the results (default benchmarks/RESULTS.md)   --no-write
//   --strict          exit with status 1 when a target fails
//   --clock cpu       rates, ratios and targets from CPU time (user + system) instead of wall time: steadier
//                     on a loaded machine; wrong for cases that wait (latency, I/O), whose CPU time is small
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import {
  type BenchCase,
  type Clock,
  type Contender,
  type PreparedCase,
  type Sample,
  type Summary,
  type TargetCheck,
  formatInt,
  formatRate,
  gcMode,
  summarise,
  timeRun,
} from './measure.js'

/** A case, and how to load it: only the cases that run are imported (see {@link CASES}). */
interface CaseEntry {
  readonly id: string
  readonly load: () => Promise<BenchCase>
}

/**
 * Every case, loaded when it runs: a module's imports can change how V8 runs everything else in the
 * process (ioredis, imported by the Redis cases, declares a `class … extends String`, after which string
 * slicing and searching in optimized code run about half as fast: a run of --case tcp-server-source took
 * 45 ms more per million lines for the engine and 25 ms more for the bare net server). A run of some cases
 * loads theirs alone; a full run loads them one after the other, the Redis cases last.
 */
const CASES: readonly CaseEntry[] = [
  { id: 'stateless', load: async () => (await import('./cases/stateless.js')).statelessCase },
  { id: 'keyed', load: async () => (await import('./cases/keyed.js')).keyedCase },
  { id: 'keyed-many', load: async () => (await import('./cases/keyed.js')).manyKeysCase },
  { id: 'window', load: async () => (await import('./cases/window.js')).windowCase },
  { id: 'window-sliding', load: async () => (await import('./cases/window-kinds.js')).slidingWindowCase },
  { id: 'window-session', load: async () => (await import('./cases/window-kinds.js')).sessionWindowCase },
  { id: 'backpressure', load: async () => (await import('./cases/backpressure.js')).backpressureCase },
  { id: 'checkpoint', load: async () => (await import('./cases/checkpoint.js')).checkpointCase },
  { id: 'queryable', load: async () => (await import('./cases/queryable.js')).queryableCase },
  { id: 'async-io', load: async () => (await import('./cases/async-io.js')).asyncIoCase },
  { id: 'server-overhead', load: async () => (await import('./cases/server-overhead.js')).serverOverheadCase },
  { id: 'latency', load: async () => (await import('./cases/latency.js')).latencyCase },
  { id: 'kafka-source', load: async () => (await import('./cases/kafka.js')).kafkaSourceCase },
  { id: 'kafka-sink', load: async () => (await import('./cases/kafka.js')).kafkaSinkCase },
  { id: 'hdfs-sink', load: async () => (await import('./cases/hdfs.js')).hdfsSinkCase },
  { id: 'cassandra-sink', load: async () => (await import('./cases/cassandra.js')).cassandraSinkCase },
  { id: 'kinesis-source', load: async () => (await import('./cases/kinesis.js')).kinesisSourceCase },
  { id: 'kinesis-sink', load: async () => (await import('./cases/kinesis.js')).kinesisSinkCase },
  { id: 'elasticsearch-sink', load: async () => (await import('./cases/elasticsearch.js')).elasticsearchSinkCase },
  { id: 'rabbitmq-source', load: async () => (await import('./cases/rabbitmq.js')).rabbitmqSourceCase },
  { id: 'rabbitmq-sink', load: async () => (await import('./cases/rabbitmq.js')).rabbitmqSinkCase },
  { id: 'nifi-source', load: async () => (await import('./cases/nifi.js')).nifiSourceCase },
  { id: 'nifi-sink', load: async () => (await import('./cases/nifi.js')).nifiSinkCase },
  { id: 'mqtt-source', load: async () => (await import('./cases/mqtt.js')).mqttSourceCase },
  { id: 'mqtt-sink', load: async () => (await import('./cases/mqtt.js')).mqttSinkCase },
  { id: 'activemq-source', load: async () => (await import('./cases/activemq.js')).activemqSourceCase },
  { id: 'activemq-sink', load: async () => (await import('./cases/activemq.js')).activemqSinkCase },
  { id: 's3', load: async () => (await import('./cases/s3.js')).s3SinkCase },
  { id: 'file-sink-local', load: async () => (await import('./cases/s3.js')).localFileSinkCase },
  { id: 'compaction-local', load: async () => (await import('./cases/compaction.js')).compactionCase },
  { id: 'avro-encode', load: async () => (await import('./cases/bulk-formats.js')).avroEncodeCase },
  { id: 'parquet-encode', load: async () => (await import('./cases/bulk-formats.js')).parquetEncodeCase },
  { id: 'flume-sink', load: async () => (await import('./cases/flume.js')).flumeSinkCase },
  { id: 'actors', load: async () => (await import('./cases/actors.js')).actorsCase },
  { id: 'tcp-server-source', load: async () => (await import('./cases/ingest.js')).tcpServerSourceCase },
  { id: 'actor-source', load: async () => (await import('./cases/actor-source.js')).actorSourceCase },
  { id: 'http-server-source', load: async () => (await import('./cases/ingest.js')).httpServerSourceCase },
  { id: 'twitter', load: async () => (await import('./cases/twitter.js')).twitterSourceCase },
  { id: 'workers', load: async () => (await import('./cases/workers.js')).workersCase },
  // Last: once ioredis is loaded it stays loaded, and every case after it would run slower (above).
  { id: 'redis-source', load: async () => (await import('./cases/redis.js')).redisSourceCase },
  { id: 'redis-sink', load: async () => (await import('./cases/redis.js')).redisSinkCase },
]
const ALIASES: Readonly<Record<string, string>> = {
  a: 'stateless',
  b: 'keyed',
  b2: 'keyed-many',
  c: 'window',
  c2: 'window-sliding',
  c3: 'window-session',
  d: 'backpressure',
  e: 'checkpoint',
  f: 'queryable',
  g: 'async-io',
  s: 'server-overhead',
  l: 'latency',
}

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    case: { type: 'string' },
    records: { type: 'string' },
    reps: { type: 'string' },
    warmup: { type: 'string' },
    only: { type: 'string' },
    out: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    strict: { type: 'boolean', default: false },
    clock: { type: 'string', default: 'wall' },
  },
})

function wholeNumber(option: string, text: string | undefined, fallback: number, min = 1): number {
  if (text === undefined) return fallback
  const n = Number(text.replaceAll('_', ''))
  if (!Number.isInteger(n) || n < min)
    throw new Error(`--${option}: expected a whole number of at least ${min}, got ${text}`)
  return n
}

if (args.clock !== 'wall' && args.clock !== 'cpu') throw new Error(`--clock: expected wall or cpu, got ${args.clock}`)
const clock: Clock = args.clock
const quick = args.quick ?? false
const records = wholeNumber('records', args.records, quick ? 500_000 : 5_000_000)
const reps = wholeNumber('reps', args.reps, quick ? 3 : 5)
const warmup = wholeNumber('warmup', args.warmup, quick ? 1 : 2, 0)
const only = args.only
const write = !(args['no-write'] ?? false) && only === undefined
const here = fileURLToPath(new URL('.', import.meta.url))
const outFile = args.out ?? `${here}RESULTS.md`

const selected = selectCases(args.case)

function selectCases(filter: string | undefined): CaseEntry[] {
  if (filter === undefined) return [...CASES]
  const ids = filter
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => ALIASES[s] ?? s)
  const unknown = ids.filter((id) => !CASES.some((c) => c.id === id))
  if (unknown.length > 0)
    throw new Error(`--case: unknown case ${unknown.join(', ')} (known: ${CASES.map((c) => c.id).join(', ')}, or a–d)`)
  return CASES.filter((c) => ids.includes(c.id))
}

/** Imports a case's module; its id must be the one the list gives. */
async function loadCase(entry: CaseEntry): Promise<BenchCase> {
  const bench = await entry.load()
  if (bench.id !== entry.id)
    throw new Error(`benchmarks/run.ts: case '${entry.id}' loaded a case with id '${bench.id}'`)
  return bench
}

/** What happened to one case. */
type CaseOutcome =
  | { kind: 'skipped'; bench: BenchCase; reason: string }
  | { kind: 'failed'; bench: BenchCase; error: string }
  | {
      kind: 'ran'
      bench: BenchCase
      prepared: PreparedCase
      summaries: Summary[]
      errors: string[]
      targets: TargetCheck[]
      reps: number
      warmup: number
    }

function log(line: string): void {
  process.stderr.write(`${line}\n`)
}

async function runCase(bench: BenchCase): Promise<CaseOutcome> {
  const reason = await bench.unavailable?.()
  if (reason !== undefined) {
    log(`[${bench.id}] skipped: ${reason}`)
    return { kind: 'skipped', bench, reason }
  }
  let prepared: PreparedCase
  try {
    prepared = await bench.prepare({ records, quick })
  } catch (error) {
    log(`[${bench.id}] failed to prepare: ${(error as Error).stack ?? error}`)
    return { kind: 'failed', bench, error: messageOf(error) }
  }
  const contenders = prepared.contenders.filter((c) => only === undefined || c.name.includes(only))
  const caseReps = args.reps === undefined ? (prepared.reps ?? reps) : reps
  const caseWarmup = args.warmup === undefined ? (prepared.warmup ?? warmup) : warmup
  const unit = prepared.unit ?? 'records'
  const samples = new Map<Contender, Sample[]>(contenders.map((c) => [c, []]))
  const failed = new Map<Contender, string>()
  const total = caseWarmup + caseReps
  try {
    await runRounds()
  } finally {
    await prepared.teardown?.()
  }

  async function runRounds(): Promise<void> {
    for (let round = 0; round < total; round++) {
      const measured = round >= caseWarmup
      const label = measured ? `rep ${round - caseWarmup + 1}/${caseReps}` : `warm-up ${round + 1}/${caseWarmup}`
      // Rotate the order every round so that drift (heap growth, thermal) does not favour one contender.
      const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]!)
      for (const contender of order) {
        if (failed.has(contender)) continue
        try {
          const sample = await timeRun(contender)
          if (measured) samples.get(contender)!.push(sample)
          const rate = (sample.result.records * 1000) / (clock === 'cpu' ? sample.cpuMs : sample.ms)
          log(
            `[${bench.id}] ${label.padEnd(11)} ${contender.name.padEnd(44)} ${formatRate(rate).padStart(9)} ${unit}/s  ${sample.ms.toFixed(0).padStart(6)} ms wall ${sample.cpuMs.toFixed(0).padStart(6)} ms CPU`,
          )
        } catch (error) {
          failed.set(contender, messageOf(error))
          log(`[${bench.id}] ${label} ${contender.name} FAILED: ${(error as Error).stack ?? error}`)
        }
      }
    }
  }
  const summaries = contenders.filter((c) => !failed.has(c)).map((c) => summarise(c, samples.get(c)!, clock))
  const errors = [...failed].map(([c, e]) => `${c.name} failed: ${e}`)
  if (prepared.compareChecksums !== false) errors.push(...checksumMismatches(summaries))
  let targets: TargetCheck[] = []
  if (prepared.targets !== undefined && only === undefined) {
    const byName = new Map(summaries.map((s) => [s.name, s]))
    try {
      targets = prepared.targets(byName)
    } catch (error) {
      targets = [
        {
          label: `${bench.title}: targets`,
          pass: false,
          actual: `not measurable: ${messageOf(error)} (${[...failed.keys()].map((c) => c.name).join(', ') || 'see errors'})`,
        },
      ]
    }
  }
  return { kind: 'ran', bench, prepared, summaries, errors, targets, reps: caseReps, warmup: caseWarmup }
}

/** Every contender of a case must have produced the same output count and checksum in every run. */
function checksumMismatches(summaries: readonly Summary[]): string[] {
  const reference = summaries.find((s) => s.role === 'baseline') ?? summaries[0]
  if (reference === undefined) return []
  const out: string[] = []
  for (const s of summaries) {
    for (const { result } of s.samples) {
      if (result.output !== reference.output || result.checksum !== reference.checksum) {
        out.push(
          `${s.name}: output ${result.output} / checksum ${result.checksum}, but ${reference.name} gave ${reference.output} / ${reference.checksum}`,
        )
        break
      }
    }
  }
  return out
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error)
}

function commandLine(): string {
  const rest = process.argv.slice(2).join(' ')
  if (process.env.npm_lifecycle_event === 'bench') return `npm run bench${rest ? ` -- ${rest}` : ''}`
  const script = relative(process.cwd(), process.argv[1] ?? 'benchmarks/run.ts')
  const viaTsxCli = process.execArgv.some((a) => a.includes('tsx') && a.includes('dist'))
  const flags = process.execArgv.filter(
    (a, i, all) => !a.includes('tsx') && !(/^--(require|import)$/.test(a) && (all[i + 1] ?? '').includes('tsx')),
  )
  const tsx = viaTsxCli ? 'npx tsx' : 'node'
  const nodeFlags = [...flags, ...(viaTsxCli ? [] : ['--import tsx'])].join(' ')
  return [tsx, nodeFlags, script, rest].filter(Boolean).join(' ')
}

function gitState(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: here, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', ':/lib'], { cwd: here, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean).length
    return dirty === 0
      ? head
      : `${head} + ${dirty} uncommitted change(s) under lib/ (the working tree as it was during the run)`
  } catch {
    return 'unknown'
  }
}

function formatExtra(v: number | boolean): string {
  if (typeof v === 'boolean') return v ? 'yes' : 'NO'
  return Number.isInteger(v) ? formatInt(v) : v.toFixed(1)
}

function caseMarkdown(o: CaseOutcome): string {
  const lines = [`## ${o.bench.title}`, '']
  if (o.kind === 'skipped') return [...lines, `Skipped: ${o.reason}.`, ''].join('\n')
  if (o.kind === 'failed') return [...lines, `Failed before measuring: ${o.error}`, ''].join('\n')
  const unit = o.prepared.unit ?? 'records'
  const engines = o.summaries.filter((s) => s.role === 'engine')
  const hasBaselines = o.summaries.some((s) => s.role === 'baseline')
  const ratioColumns = hasBaselines ? engines : []
  const extraKeys = [...new Set(o.summaries.flatMap((s) => Object.keys(s.extra)))]
  const header = [
    'contender',
    `${unit}/s (median)`,
    clock === 'cpu' ? 'median CPU time' : 'median time',
    `spread (min–max ${unit}/s)`,
    ...ratioColumns.map((e) => (engines.length === 1 ? 'engine ÷ this' : `${e.name} ÷ this`)),
    ...extraKeys,
  ]
  lines.push(`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`)
  for (const s of o.summaries) {
    const row = [
      s.role === 'engine' ? `**${s.name}**` : s.name,
      formatRate(s.rate),
      `${s.medianMs.toFixed(0)} ms`,
      `${formatRate(s.minRate)} – ${formatRate(s.maxRate)}`,
      ...ratioColumns.map((e) => (e === s ? '—' : `${(e.rate / s.rate).toFixed(2)}×`)),
      ...extraKeys.map((k) => (s.extra[k] === undefined ? '' : formatExtra(s.extra[k]!))),
    ]
    lines.push(`| ${row.join(' | ')} |`)
  }
  const first = o.summaries[0]
  lines.push('')
  if (first !== undefined)
    lines.push(
      `${formatInt(first.samples[0]?.result.records ?? 0)} input ${unit} per run, ${o.warmup} warm-up + ${o.reps} measured runs per contender, interleaved.${o.prepared.compareChecksums === false ? '' : ` Every contender produced ${formatInt(first.output)} output records with the same checksum${o.errors.some((e) => e.includes('checksum')) ? ' — EXCEPT as listed below' : ''}.`}`,
    )
  for (const note of o.prepared.notes ?? []) lines.push('', `Note: ${note}`)
  for (const e of o.errors) lines.push('', `**Error:** ${e}`)
  if (o.targets.length > 0) {
    lines.push('', '| target | result | |', '| --- | --- | --- |')
    for (const t of o.targets) lines.push(`| ${t.label} | ${t.actual} | ${t.pass ? 'PASS' : '**FAIL**'} |`)
  }
  lines.push('')
  return lines.join('\n')
}

function resultsMarkdown(outcomes: readonly CaseOutcome[], command: string, startedAt: Date, elapsedS: number): string {
  const targets = outcomes.flatMap((o) => (o.kind === 'ran' ? o.targets : []))
  const cpus = os.cpus()
  const lines = [
    '# sluice benchmark results',
    '',
    'Written by `benchmarks/run.ts`; regenerate with the command below. Every case runs the engine and its baselines in one',
    'process, interleaved, after warm-up runs (cases e and workers: a fresh child process per run, which for e warms up on',
    "the same job first; tcp-server-source's steady contenders: one child process each, whose server runs every batch);",
    'rates are of the median run (records in ÷ wall time, job setup included for the engine unless a contender says',
    'otherwise). Ratios are engine rate ÷ baseline rate (> 1 means the engine is faster).',
    '',
    `- clock: ${clock === 'cpu' ? 'CPU time (user + system of this process, every thread; rates are records per CPU second)' : 'wall time'}`,
    `- load average (1, 5, 15 min): ${loadAtStart} at the start, ${loadAverage()} at the end`,
    `- command: \`${command}\``,
    `- date: ${startedAt.toISOString()} (took ${elapsedS.toFixed(0)} s)`,
    `- Node ${process.version} (V8 ${process.versions.v8}), ${os.platform()} ${os.arch()}`,
    `- CPU: ${cpus[0]?.model ?? 'unknown'} (${cpus.length} logical cores), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
    `- gc between runs: ${gcMode}`,
    `- code: ${gitState()}`,
    `- mode: ${quick ? '--quick' : 'full'}; ${formatInt(records)} records per throughput run`,
    '',
    '## Targets',
    '',
  ]
  if (targets.length === 0) lines.push('No target was measured in this run.', '')
  else {
    lines.push('| target | result | |', '| --- | --- | --- |')
    for (const t of targets) lines.push(`| ${t.label} | ${t.actual} | ${t.pass ? 'PASS' : '**FAIL**'} |`)
    lines.push('')
  }
  for (const o of outcomes) lines.push(caseMarkdown(o))
  return lines.join('\n')
}

function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')
}

const loadAtStart = loadAverage()
const startedAt = new Date()
const command = commandLine()
log(
  `sluice benchmarks: ${selected.map((c) => c.id).join(', ')}; ${formatInt(records)} records, ${warmup} warm-up + ${reps} runs; gc ${gcMode}`,
)
const outcomes: CaseOutcome[] = []
for (const entry of selected) outcomes.push(await runCase(await loadCase(entry)))
const elapsedS = (Date.now() - startedAt.getTime()) / 1000
const markdown = resultsMarkdown(outcomes, command, startedAt, elapsedS)
process.stdout.write(`${markdown}\n`)
if (write) {
  writeFileSync(outFile, markdown)
  log(`wrote ${relative(process.cwd(), outFile)}`)
}
const failedTargets = outcomes.flatMap((o) => (o.kind === 'ran' ? o.targets.filter((t) => !t.pass) : []))
const broken = outcomes.some((o) => o.kind === 'failed' || (o.kind === 'ran' && o.errors.length > 0))
if (broken || (args.strict && failedTargets.length > 0)) process.exitCode = 1
