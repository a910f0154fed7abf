import { sharedSlots } from './shared-flags.js'

/**
 * Seeded fault injection for checkpoint tests: a PRNG, a {@link FaultPlan} drawn from a seed (the job's
 * shape and the faults to inject) and the {@link FaultLog} of what fired. A plan is plain data, so a
 * failing schedule prints it and `SEED=<n>` replays it. The operators, function and storage that inject
 * the faults are in fault-operators.ts, the output checks in fault-checks.ts, the jobs in fault-jobs.ts.
 */

/**
 * mulberry32: a small, fast, well-mixed 32-bit PRNG; the same seed gives the same sequence.
 *
 * @example
 * const next = mulberry32(42); next() // 0.6011037519201636
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Draws from a seeded {@link mulberry32}. */
export class Rng {
  private readonly next: () => number

  constructor(readonly seed: number) {
    this.next = mulberry32(seed)
  }

  /** A float in [0, 1). */
  float(): number {
    return this.next()
  }

  /** A whole number from `min` to `max` inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!
  }

  chance(p: number): boolean {
    return this.next() < p
  }
}

/** One fault of a plan. Checkpoint numbers count from 1 in the order a subtask takes them. */
export type Fault =
  /** (a) A user function throws on its `atRecord`-th record in `subtask` (once). */
  | {
      readonly kind: 'throw-in-function'
      readonly stage: 'map' | 'count'
      readonly subtask: number
      readonly atRecord: number
    }
  /** (b) An operator's snapshot throws (synchronously) or rejects at its `checkpoint`-th snapshot in `subtask` (once). */
  | {
      readonly kind: 'snapshot-fails'
      readonly how: 'throw' | 'reject'
      readonly subtask: number
      readonly checkpoint: number
    }
  /** (b) The sink's pre-commit (inside its snapshotState) rejects at the `checkpoint`-th pre-commit of the job (once). */
  | { readonly kind: 'sink-snapshot-rejects'; readonly checkpoint: number }
  /** (b) The storage fails to write a state of checkpoint id ≥ `checkpoint` (once): the checkpoint is declined. */
  | { readonly kind: 'storage-write-fails'; readonly checkpoint: number }
  /** (c) The first commit of the first non-empty transaction pre-committed at or after the `afterPreCommits`-th pre-commit throws: after pre-commit, before commit. */
  | { readonly kind: 'commit-fails'; readonly afterPreCommits: number }
  /**
   * (e) The worker thread that runs map subtask `subtask` dies (once, with the worker executor only) on
   * its `atRecord`-th record or, when no checkpoint had completed by then, on its first record or
   * completion notice after one did: so that the restart restores a checkpoint. `exit` calls
   * process.exit in the thread, `uncaught` throws outside any handler (the thread's 'error' event).
   */
  | {
      readonly kind: 'crash-worker'
      readonly how: 'exit' | 'uncaught'
      readonly subtask: number
      readonly atRecord: number
    }
  /** (d) SIGKILL the process running the job at each point in turn (one per run of the process), then let it finish. */
  | { readonly kind: 'kill'; readonly at: readonly KillPoint[] }

/**
 * When to SIGKILL a job process: `delayMs` after it was spawned (it may still be loading or restoring),
 * after it reported running, or after it reported its `checkpoints`-th completed checkpoint.
 */
export interface KillPoint {
  readonly after: 'spawn' | 'running' | 'checkpoint'
  readonly checkpoints?: number
  readonly delayMs: number
}

/** Everything a seeded schedule runs: the job's shape and its faults. */
export interface FaultPlan {
  readonly seed: number
  readonly parallelism: number
  /** Parallelism of the sink: equal to `parallelism` (chained) or 1 (behind a rebalance, so it aligns). */
  readonly sinkParallelism: number
  readonly mode: 'exactly-once' | 'at-least-once'
  readonly intervalMs: number
  /** Records per network batch and batches in flight per channel: smaller means more, shorter turns. */
  readonly batchSize: number
  readonly channelCredits: number
  readonly records: number
  readonly keys: number
  /** The slow map busy-waits `busyMs` every `busyEvery` records so checkpoints fall mid-stream. */
  readonly busyEvery: number
  readonly busyMs: number
  readonly tolerableFailures: number
  readonly restartDelayMs: number
  readonly faults: readonly Fault[]
}

/** What a plan generator may choose from. */
export interface PlanOptions {
  readonly kinds?: ReadonlyArray<Exclude<Fault['kind'], 'kill'>>
  readonly records?: readonly [number, number]
  /** Busy-wait per source subtask, in ms: how long a job runs without faults. */
  readonly busyTotalMs?: readonly [number, number]
  readonly maxFaults?: number
  readonly modes?: ReadonlyArray<FaultPlan['mode']>
  /**
   * Until which fraction of the job faults are placed; default 1 (anywhere, up to the end of input,
   * where a stale `subtask-ended` after a restart once hung jobs: spec/checkpoint/job-master-restart.spec.ts
   * keeps that fixed). `FAULT_WINDOW=0.5` narrows it to the first half.
   */
  readonly window?: number
  /**
   * Whether storage faults may be tolerated (tolerableFailures 0–2) instead of failing the job over;
   * default true (a late barrier of an aborted checkpoint once passed for the next one's:
   * spec/checkpoint/barrier-alignment.spec.ts keeps that fixed). `FAULT_TOLERANCE=0` never tolerates.
   */
  readonly tolerate?: boolean
  /** A kind the plan's first fault always has (the harness of a fault kind that every schedule must hit). */
  readonly first?: Exclude<Fault['kind'], 'kill'>
}

const IN_PROCESS_KINDS = [
  'throw-in-function',
  'snapshot-fails',
  'sink-snapshot-rejects',
  'storage-write-fails',
  'commit-fails',
] as const

/**
 * The kinds of the engine's own in-process harness on the executor the test runs on: on the worker
 * executor (`SLUICE_EXECUTOR=workers`) a worker thread may also crash (fault e). Connector harnesses keep
 * the default kinds, whose seeded draws their meta-assertions count on.
 *
 * @example
 * planFromSeed(seed, { kinds: inProcessKinds() })
 */
export function inProcessKinds(): ReadonlyArray<Exclude<Fault['kind'], 'kill'>> {
  return process.env.SLUICE_EXECUTOR === 'workers' ? [...IN_PROCESS_KINDS, 'crash-worker'] : IN_PROCESS_KINDS
}

/**
 * The plan of an in-process schedule (faults a–c), fully determined by `seed`.
 *
 * @example
 * const plan = planFromSeed(7) // { seed: 7, parallelism: 2, mode: 'exactly-once', faults: [...] }
 */
export function planFromSeed(seed: number, options: PlanOptions = {}): FaultPlan {
  const rng = new Rng(seed)
  const parallelism = rng.int(1, 3)
  const sinkParallelism = parallelism > 1 && rng.chance(0.3) ? 1 : parallelism
  const mode = rng.pick(options.modes ?? (['exactly-once', 'exactly-once', 'at-least-once'] as const))
  const intervalMs = rng.pick([2, 5, 10, 20])
  const batchSize = rng.pick([16, 32, 64, 128])
  // 1 credit once hung the end of a job (fixed; spec/checkpoint/final-checkpoint.spec.ts keeps it so).
  const channelCredits = rng.int(1, 4)
  const [minRecords, maxRecords] = options.records ?? [3000, 12_000]
  const records = rng.int(minRecords, maxRecords)
  const keys = rng.int(3, 17)
  const [minBusy, maxBusy] = options.busyTotalMs ?? [25, 60]
  const busyTotalMs = rng.int(minBusy, maxBusy)
  const perSubtask = Math.ceil(records / parallelism)
  const busyMs = 1
  const busyEvery = Math.max(10, Math.floor(perSubtask / busyTotalMs))
  const window = options.window ?? Number(process.env.FAULT_WINDOW ?? 1)
  // Checkpoints a subtask takes in the fault window (measured: one per interval + ~8 ms of alignment
  // and storage); at least 1. A fault placed beyond what the run reaches does not fire.
  const checkpoints = Math.max(1, Math.floor((window * busyTotalMs) / (intervalMs + 8)))
  const faults: Fault[] = []
  const count = rng.int(1, options.maxFaults ?? 2)
  const kinds = options.kinds ?? IN_PROCESS_KINDS
  for (let i = 0; i < count; i++) {
    const kind = i === 0 && options.first !== undefined ? options.first : rng.pick(kinds)
    switch (kind) {
      case 'throw-in-function': {
        const stage = rng.pick(['map', 'count'] as const)
        // A count subtask sees about its share of the keys; keep N inside what it surely gets.
        const reach = stage === 'map' ? perSubtask : Math.floor(records / keys)
        faults.push({
          kind,
          stage,
          subtask: rng.int(0, parallelism - 1),
          atRecord: rng.int(1, Math.max(1, Math.floor(window * reach))),
        })
        break
      }
      case 'snapshot-fails':
        faults.push({
          kind,
          how: rng.pick(['throw', 'reject'] as const),
          subtask: rng.int(0, parallelism - 1),
          checkpoint: rng.int(1, checkpoints),
        })
        break
      case 'sink-snapshot-rejects':
        faults.push({ kind, checkpoint: rng.int(1, checkpoints * sinkParallelism) })
        break
      case 'storage-write-fails':
        faults.push({ kind, checkpoint: rng.int(1, checkpoints) })
        break
      case 'commit-fails':
        faults.push({ kind, afterPreCommits: rng.int(1, checkpoints * sinkParallelism) })
        break
      case 'crash-worker':
        faults.push({
          kind,
          how: rng.pick(['exit', 'uncaught'] as const),
          subtask: rng.int(0, parallelism - 1),
          atRecord: rng.int(1, Math.max(1, Math.floor(window * perSubtask))),
        })
        break
    }
  }
  const tolerate = options.tolerate ?? process.env.FAULT_TOLERANCE !== '0'
  const drawnTolerance = faults.some((f) => f.kind === 'storage-write-fails') ? rng.int(0, 2) : 0
  const tolerableFailures = tolerate ? drawnTolerance : 0
  return {
    seed,
    parallelism,
    sinkParallelism,
    mode,
    intervalMs,
    batchSize,
    channelCredits,
    records,
    keys,
    busyEvery,
    busyMs,
    tolerableFailures,
    restartDelayMs: rng.int(0, 10),
    faults,
  }
}

/**
 * The plan of a process-kill schedule (fault d), fully determined by `seed`: the first kill falls soon
 * after the job runs (so every schedule kills at least once), the second right after a checkpoint
 * completed (so a later run restores from it while commits raced the kill), the others at random
 * moments — while the process loads and restores (`spawnDelayMs` after the start: a job on worker
 * threads loads for seconds), while it runs, after a checkpoint.
 *
 * @example
 * killPlanFromSeed(3).faults // [{ kind: 'kill', at: [{ after: 'running', delayMs: 12 }, …] }]
 */
export function killPlanFromSeed(
  seed: number,
  options: {
    kills?: readonly [number, number]
    records?: readonly [number, number]
    busyTotalMs?: readonly [number, number]
    parallelism?: readonly [number, number]
    spawnDelayMs?: readonly [number, number]
  } = {},
): FaultPlan {
  const rng = new Rng(seed)
  const [minParallelism, maxParallelism] = options.parallelism ?? [1, 3]
  const parallelism = rng.int(minParallelism, maxParallelism)
  const [minRecords, maxRecords] = options.records ?? [8000, 16_000]
  const records = rng.int(minRecords, maxRecords)
  const [minBusy, maxBusy] = options.busyTotalMs ?? [150, 300]
  const busyTotalMs = rng.int(minBusy, maxBusy)
  const busyEvery = Math.max(10, Math.floor(records / parallelism / busyTotalMs))
  const intervalMs = rng.pick([5, 10, 20])
  const [minKills, maxKills] = options.kills ?? [3, 5]
  const [minSpawnDelay, maxSpawnDelay] = options.spawnDelayMs ?? [0, 600]
  const kills = rng.int(minKills, maxKills)
  const at: KillPoint[] = [
    { after: 'running', delayMs: rng.int(0, 30) },
    { after: 'checkpoint', checkpoints: rng.int(1, 2), delayMs: rng.int(0, 3) },
  ]
  while (at.length < kills) {
    const after = rng.pick(['spawn', 'running', 'running', 'checkpoint', 'checkpoint'] as const)
    if (after === 'spawn') at.push({ after, delayMs: rng.int(minSpawnDelay, maxSpawnDelay) })
    else if (after === 'running') at.push({ after, delayMs: rng.int(0, Math.floor(busyTotalMs * parallelism * 0.5)) })
    else at.push({ after, checkpoints: rng.int(1, 3), delayMs: rng.int(0, 3) })
  }
  return {
    seed,
    parallelism,
    sinkParallelism: parallelism,
    mode: 'exactly-once',
    intervalMs,
    batchSize: rng.pick([32, 64, 128]),
    channelCredits: rng.int(1, 4),
    records,
    keys: rng.int(3, 17),
    busyEvery,
    busyMs: 1,
    tolerableFailures: 0,
    restartDelayMs: 0,
    faults: [{ kind: 'kill', at }],
  }
}

/**
 * The plan as one line, and how to replay it.
 *
 * @example
 * describePlan(plan, 'spec/checkpoint/fault-injection.spec.ts')
 */
export function describePlan(plan: FaultPlan, specFile: string): string {
  const flags = ['FAULT_WINDOW', 'FAULT_TOLERANCE']
    .filter((name) => process.env[name] !== undefined)
    .map((name) => `${name}=${process.env[name]} `)
    .join('')
  return `seed ${plan.seed}: ${JSON.stringify(plan)}\n  replay: ${flags}SEED=${plan.seed} npx tsx ${specFile}`
}

/**
 * The seeds a spec runs: `SEED=<n>` replays one, `SEEDS=<count>` and `SEED_BASE=<n>` pick how many and
 * from where. `onWorkers` is the default count on the worker executor (`SLUICE_EXECUTOR=workers`), where
 * each job of a schedule starts its threads (seconds a schedule): a connector's harness gates there
 * with fewer schedules, the engine's own (`checkpoint/fault-injection`) with 100.
 *
 * @example
 * const seeds = seedsFromEnv(100, 1, 10) // 1..100, or 1..10 on the worker executor
 */
export function seedsFromEnv(defaultCount: number, defaultBase: number, onWorkers = defaultCount): number[] {
  const one = process.env.SEED
  if (one !== undefined && one !== '') return [Number(one)]
  const count = Number(process.env.SEEDS ?? (process.env.SLUICE_EXECUTOR === 'workers' ? onWorkers : defaultCount))
  const base = Number(process.env.SEED_BASE ?? defaultBase)
  return Array.from({ length: count }, (_, i) => base + i)
}

/** What a plan's faults did during one run; shared by every attempt of the job (restarts create new operators). */
export class FaultLog {
  /** Id of the transaction whose commit was made to fail: it must end up committed. */
  commitVictim: string | undefined
  /**
   * Per fault of the plan, 0 until it fired, then its place in the firing order (1, 2, …); the last slot
   * counts the faults fired. Shared by every thread of the test (`sharedSlots`): on the worker executor a
   * fault fires once over all workers, and not again in the fresh workers of a restart.
   */
  private readonly order: Int32Array

  constructor(readonly plan: FaultPlan) {
    this.order = sharedSlots(plan.faults.length + 1)
  }

  /** Indexes into `plan.faults` of the faults that fired. */
  get fired(): ReadonlySet<number> {
    return new Set(this.plan.faults.flatMap((_, i) => (Atomics.load(this.order, i) > 0 ? [i] : [])))
  }

  /** The faults that fired, in order, as `kind#index`. */
  get events(): readonly string[] {
    return [...this.fired]
      .sort((a, b) => Atomics.load(this.order, a) - Atomics.load(this.order, b))
      .map((i) => `${this.plan.faults[i]!.kind}#${i}`)
  }

  /** The first not-yet-fired fault of `kind` that `matches`, marked fired; undefined if none. */
  take<K extends Fault['kind']>(
    kind: K,
    matches: (fault: Extract<Fault, { kind: K }>) => boolean,
  ): Extract<Fault, { kind: K }> | undefined {
    const faults = this.plan.faults
    for (let i = 0; i < faults.length; i++) {
      const fault = faults[i]!
      if (fault.kind !== kind || Atomics.load(this.order, i) > 0 || !matches(fault as Extract<Fault, { kind: K }>))
        continue
      if (this.claim(i)) return fault as Extract<Fault, { kind: K }>
    }
    return undefined
  }

  /** Marks fault `i` fired; false when another thread marked it meanwhile. */
  protected claim(i: number): boolean {
    const nth = Atomics.add(this.order, this.plan.faults.length, 1) + 1
    return Atomics.compareExchange(this.order, i, 0, nth) === 0
  }
}

/** An error a fault throws; its message names the fault. */
export class InjectedFault extends Error {
  constructor(what: string) {
    super(`injected fault: ${what}`)
  }
}

/**
 * Busy-waits `ms` of wall-clock time (a stand-in for CPU-heavy work), so checkpoints fall mid-stream.
 *
 * @example
 * busyWait(1)
 */
export function busyWait(ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end);
}
