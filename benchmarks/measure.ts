// The shared measuring helper of the benchmark harness: the shapes of a case and a contender, timing,
// garbage collection between runs, RSS sampling, medians and number formatting. `run.ts` drives it.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/** What one run of a contender reports; `checksum` must agree between contenders of a case. */
export interface RunResult {
  /** Input records (or messages) handled: the numerator of the rate. */
  readonly records: number
  /** Records that reached the end of the pipeline. */
  readonly output: number
  readonly checksum: number
  /** Case-specific measurements (RSS growth, queue fill …): numbers keep their worst value over the reps. */
  readonly extra?: Readonly<Record<string, number | boolean>>
  /** The contender's own timing of its hot phase, when setup and teardown must not count: see {@link hotPhase}. */
  readonly ms?: number
  /** The CPU time of that same phase (this process, every thread); given exactly when `ms` is. */
  readonly cpuMs?: number
}

/** One implementation of a case's workload: the engine, a baseline, or (without a ratio) a reference. */
export interface Contender {
  readonly name: string
  readonly role: 'engine' | 'baseline'
  run(): Promise<RunResult> | RunResult
}

/** A target from the issue, checked against the summaries of a case. */
export interface TargetCheck {
  readonly label: string
  readonly pass: boolean
  readonly actual: string
}

/** Run-size knobs every case sees. */
export interface CaseOptions {
  readonly records: number
  readonly quick: boolean
}

/** What a case gives the runner once prepared (input data built outside any timing). */
export interface PreparedCase {
  readonly contenders: readonly Contender[]
  /** Overrides of the runner's repetitions for slow cases. */
  readonly reps?: number
  readonly warmup?: number
  readonly unit?: 'records' | 'messages'
  /** Whether a differing checksum between contenders is an error (false when contenders do different work). */
  readonly compareChecksums?: boolean
  targets?(summaries: ReadonlyMap<string, Summary>): TargetCheck[]
  readonly notes?: readonly string[]
  /** Called once after the case's last run, whatever the runs did (servers the case started close here). */
  teardown?(): Promise<void> | void
}

/** A benchmark case: one file in benchmarks/cases/. */
export interface BenchCase {
  readonly id: string
  readonly title: string
  /** Why the case cannot run now (an engine feature missing), or undefined. */
  unavailable?(): Promise<string | undefined>
  prepare(options: CaseOptions): Promise<PreparedCase> | PreparedCase
}

/** One measured run: its wall time, and the CPU time (user + system, every thread) of this process meanwhile. */
export interface Sample {
  readonly ms: number
  readonly cpuMs: number
  readonly result: RunResult
}

/**
 * Which time rates and ratios are computed from: wall time, or CPU time, steadier when other processes
 * load the machine (a contender waiting for a core is not billed for it).
 */
export type Clock = 'wall' | 'cpu'

/** A contender's measured runs, reduced. */
export interface Summary {
  readonly name: string
  readonly role: Contender['role']
  readonly samples: readonly Sample[]
  /** Median time of a run, on the clock the summary was made with. */
  readonly medianMs: number
  /** Records per second of the median run, on that clock. */
  readonly rate: number
  readonly minRate: number
  readonly maxRate: number
  readonly checksum: number
  readonly output: number
  /** Worst value of each extra over the measured runs: max of numbers, and-ed booleans. */
  readonly extra: Readonly<Record<string, number | boolean>>
}

const exposedGc: (() => void) | undefined = resolveGc()

/** How the collector was made callable, for the results header. */
export const gcMode: string =
  typeof (globalThis as { gc?: unknown }).gc === 'function' &&
  process.execArgv.some((a) => a.startsWith('--expose-gc') || a.startsWith('--expose_gc'))
    ? '--expose-gc'
    : exposedGc === undefined
      ? 'unavailable'
      : 'v8.setFlagsFromString(--expose-gc)'

function resolveGc(): (() => void) | undefined {
  const global = (globalThis as { gc?: () => void }).gc
  if (typeof global === 'function') return global
  try {
    // Without --expose-gc on the command line: expose it now and take it from a fresh context.
    setFlagsFromString('--expose-gc')
    const fn = runInNewContext('gc') as unknown
    return typeof fn === 'function' ? (fn as () => void) : undefined
  } catch {
    return undefined
  }
}

/** A full collection when the collector is reachable; runs stay comparable without one. */
export function collectGarbage(): void {
  if (exposedGc === undefined) return
  exposedGc()
  exposedGc()
}

/** The wall time and the CPU time (user + system, every thread of this process) of one phase, measured together. */
export interface PhaseTime {
  readonly ms: number
  readonly cpuMs: number
}

/** A phase being timed: `end()` reads both clocks. */
export interface HotPhase {
  end(): PhaseTime
}

/**
 * Starts timing a contender's hot phase on both clocks at once, so that a contender which leaves its
 * setup and teardown (a job's cancel, a client's destroy) out of `ms` leaves them out of `cpuMs` too.
 *
 * @example
 * const phase = hotPhase()
 * await sink.reached
 * const time = phase.end()
 * await job.cancel()
 * return { records: n, output: sink.output, checksum: sink.checksum, ...time }
 */
export function hotPhase(): HotPhase {
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  return {
    end() {
      const ms = performance.now() - started
      const cpu = process.cpuUsage(cpuBefore)
      return { ms, cpuMs: (cpu.user + cpu.system) / 1000 }
    },
  }
}

/**
 * Times one run after a collection, so garbage of the previous contender is not billed to this one. A
 * contender that reports its own `ms` must report the `cpuMs` of the same phase (see {@link hotPhase}).
 */
export async function timeRun(contender: Contender): Promise<Sample> {
  collectGarbage()
  const phase = hotPhase()
  const result = await contender.run()
  const whole = phase.end()
  if ((result.ms === undefined) !== (result.cpuMs === undefined))
    throw new Error(`${contender.name}: a run reports its own ms and cpuMs together (hotPhase()), or neither`)
  return { ms: result.ms ?? whole.ms, cpuMs: result.cpuMs ?? whole.cpuMs, result }
}

/** Median of numbers (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/**
 * Reduces a contender's measured runs, with rates on `clock`.
 *
 * @example
 * summarise(engine, samples, 'cpu').rate // records per CPU second of the median run
 */
export function summarise(contender: Contender, samples: readonly Sample[], clock: Clock = 'wall'): Summary {
  const msOf = (s: Sample): number => (clock === 'cpu' ? s.cpuMs : s.ms)
  const rates = samples.map((s) => (s.result.records * 1000) / msOf(s))
  const medianMs = median(samples.map(msOf))
  const records = samples[0]?.result.records ?? 0
  const extra: Record<string, number | boolean> = {}
  for (const { result } of samples) {
    for (const [k, v] of Object.entries(result.extra ?? {})) {
      const seen = extra[k]
      if (typeof v === 'boolean') extra[k] = seen === undefined ? v : (seen as boolean) && v
      else extra[k] = seen === undefined ? v : Math.max(seen as number, v)
    }
  }
  return {
    name: contender.name,
    role: contender.role,
    samples,
    medianMs,
    // a run of fixed length (case f's lookups) counts differently each time: its rate is the median of
    // the runs' rates, not the first run's count over the median time
    rate: samples.every((s) => s.result.records === records) ? (records * 1000) / medianMs : median(rates),
    minRate: Math.min(...rates),
    maxRate: Math.max(...rates),
    checksum: samples[0]?.result.checksum ?? NaN,
    output: samples[0]?.result.output ?? 0,
    extra,
  }
}

/**
 * Samples the resident set size every `intervalMs` (after a collection at start) and keeps the maximum.
 * The timer only fires when the measured code yields to the event loop, which a backpressured run does.
 */
export class RssSampler {
  readonly baselineBytes: number
  private maxBytes: number
  private readonly timer: NodeJS.Timeout
  private readonly extraProbes: (() => void)[] = []

  constructor(intervalMs = 50) {
    collectGarbage()
    this.baselineBytes = process.memoryUsage.rss()
    this.maxBytes = this.baselineBytes
    this.timer = setInterval(() => this.sample(), intervalMs)
  }

  /** Runs `probe` at every sample too (reading job metrics while the job runs). */
  alsoEvery(probe: () => void): void {
    this.extraProbes.push(probe)
  }

  sample(): void {
    const rss = process.memoryUsage.rss()
    if (rss > this.maxBytes) this.maxBytes = rss
    for (const probe of this.extraProbes) probe()
  }

  /** Stops sampling; growth in MB of the maximum over the baseline. */
  stop(): { maxGrowthMB: number; baselineMB: number; maxMB: number } {
    this.sample()
    clearInterval(this.timer)
    const mb = 1024 * 1024
    return {
      maxGrowthMB: (this.maxBytes - this.baselineBytes) / mb,
      baselineMB: this.baselineBytes / mb,
      maxMB: this.maxBytes / mb,
    }
  }
}

/** 12345678 → "12.35 M", 4321 → "4.32 k". */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return String(perSecond)
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M`
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)} k`
  return perSecond.toFixed(0)
}

/**
 * One target: contender `engine`'s rate ≥ `min` × contender `baseline`'s, labelled `label`.
 *
 * @example
 * targets: (s) => [ratioTarget(s, 'a) engine ≥ 0.7× @most/core', 'engine', '@most/core', 0.7)]
 */
export function ratioTarget(
  s: ReadonlyMap<string, Summary>,
  label: string,
  engine: string,
  baseline: string,
  min: number,
): TargetCheck {
  const e = s.get(engine)!
  const b = s.get(baseline)!
  const ratio = e.rate / b.rate
  return {
    label,
    pass: ratio >= min,
    actual: `${ratio.toFixed(2)}× (${formatRate(e.rate)} vs ${formatRate(b.rate)} per second)`,
  }
}

/**
 * One target per engine and baseline of a case: the engine's rate ≥ `target` × the baseline's.
 *
 * @example
 * targets: (s) => ratioTargets(s, 'rabbitmq source', 0.8)
 */
export function ratioTargets(s: ReadonlyMap<string, Summary>, label: string, target: number): TargetCheck[] {
  const all = [...s.values()]
  const out: TargetCheck[] = []
  for (const engine of all.filter((x) => x.role === 'engine'))
    for (const base of all.filter((x) => x.role === 'baseline')) {
      const ratio = engine.rate / base.rate
      out.push({
        label: `${label}: ${engine.name} ≥ ${target} × ${base.name}`,
        pass: ratio >= target,
        actual: `${ratio.toFixed(2)}×`,
      })
    }
  return out
}

/** 1234567 → "1,234,567". */
export function formatInt(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

/** Numbers 0 … n-1, the input of the throughput cases, built once per case outside the timing. */
export function integers(n: number): number[] {
  const out = new Array<number>(n)
  for (let i = 0; i < n; i++) out[i] = i
  return out
}

/** The input cut into arrays of `size`, for the chunked baselines. */
export function chunks<T>(values: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size))
  return out
}

/**
 * Resolves once `predicate` holds (asked every millisecond); throws after 120 s.
 *
 * @example
 * await until(() => sink.output >= n)
 */
export async function until(predicate: () => boolean): Promise<void> {
  const deadline = performance.now() + 120_000
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error('benchmark run did not finish within 120 s')
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
}
