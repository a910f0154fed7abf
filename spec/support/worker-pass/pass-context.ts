import { mkdtempSync } from 'node:fs'
import { hostedJob, hostedJobStarted } from '../../../lib/runtime/workers/worker-thread.js'

/** A value of a test that both threads of the pass must share: a name, or memory (`SharedArrayBuffer`). */
export type PassValue = string | SharedArrayBuffer

/** What a {@link coordinatorStep} resolved with on the coordinator, recorded among the values of its phase. */
interface StepResult {
  readonly step: unknown
}

/**
 * Which test a worker thread of the worker-executor test pass replays to build the job it hosts, and
 * the values the coordinator made for that test that differ from run to run (temp directories, unique
 * queue and exchange names) or that every thread must share (the shared memory of once-only faults and
 * counters, `shared-flags.ts`: a `SharedArrayBuffer` crosses to the worker as the same memory), by phase
 * (`module`, `before`, the test's name) in order of creation: the worker's n-th such value of a phase
 * is the coordinator's n-th, so that both threads name the same checkpoint directories, files, queues
 * and exchanges, and see the same flags; a {@link coordinatorStep}'s result is such a value too.
 */
export interface PassContext {
  readonly file: string
  readonly suite: string
  readonly test: string
  readonly values: Record<string, Array<PassValue | StepResult>>
}

const replayed = (hostedJob()?.context as PassContext | undefined) ?? undefined
let current: PassContext | undefined
let phase = 'module'
const handedOut = new Map<string, number>()
const moduleValues = new Map<string, Array<PassValue | StepResult>>()
const beforeValues = new Map<string, Array<PassValue | StepResult>>()
let importing = ''

/** The test a worker thread replays, when this thread is one of the pass's workers. */
export function replayedTest(): PassContext | undefined {
  return replayed
}

/** The context a worker started now is given: the test the coordinator runs. */
export function currentContext(): PassContext | undefined {
  return current
}

/** The coordinator imports `file` (its module-level values belong to every test of it). */
export function importingFile(file: string): void {
  importing = file
  phase = 'module'
  moduleValues.set(file, [])
}

/** The coordinator enters the `before` hooks of a suite, or a test of it. */
export function enterPhase(file: string, suite: string, test: string | undefined): void {
  const key = `${file}\0${suite}`
  if (test === undefined) {
    beforeValues.set(key, [])
    current = {
      file,
      suite,
      test: '',
      values: { module: moduleValues.get(file) ?? [], before: beforeValues.get(key)! },
    }
    phase = 'before'
    return
  }
  if (current?.file === file && current.suite === suite && current.test === test) return
  current = {
    file,
    suite,
    test,
    values: { module: moduleValues.get(file) ?? [], before: beforeValues.get(key) ?? [], [test]: [] },
  }
  phase = test
}

/** A worker replaying its test enters a phase (`before`, or the test). */
export function replayPhase(name: string): void {
  phase = name
}

/**
 * A value that differs from run to run (a temp directory, a unique name) or memory every thread shares
 * (a `SharedArrayBuffer`), made by `make` on the coordinator and recorded there; in a replaying worker,
 * the coordinator's value of the same place.
 *
 * @example
 * const queue = passValue(() => `out-${Date.now()}`)
 */
export function passValue<V extends PassValue>(make: () => V): V {
  if (replayed !== undefined) return (nextReplayed() as V | undefined) ?? make()
  const value = make()
  record(value)
  return value
}

/** In a replaying worker: the coordinator's next value of the phase (undefined past the last it made). */
function nextReplayed(): PassValue | StepResult | undefined {
  const n = handedOut.get(phase) ?? 0
  handedOut.set(phase, n + 1)
  return replayed?.values[phase]?.[n]
}

/** On the coordinator: the phase's next value; the list it went into, to check what came after it. */
function record(value: PassValue | StepResult): Array<PassValue | StepResult> | undefined {
  const values = phase === 'module' ? moduleValues.get(importing) : current?.values[phase]
  values?.push(value)
  return values
}

/**
 * A temp directory for `tempDir()`: made (and recorded) on the coordinator, the coordinator's own in
 * a replaying worker.
 */
export function passTempDir(prefix: string): string {
  return passValue(() => mkdtempSync(prefix))
}

/**
 * Runs `act` — something a test does to the world outside its job (publishes to a broker, closes a
 * connection there, reads a queue back) — on the coordinator only. In a worker replaying the test it
 * does nothing: up to the job the worker hosts it resolves at once with `replayed` (the coordinator
 * did it before it started that job); from that job on it never settles, so the replay stops there
 * (what the test does next is the coordinator's to do, and doing it twice would publish twice).
 *
 * @example
 * await coordinatorOnly(() => admin.publish(queue, 1000), undefined)
 */
export function coordinatorOnly<T>(act: () => Promise<T>, replayed: T): Promise<T> {
  if (replayedTest() === undefined) return act()
  return hostedJobStarted() ? new Promise<T>(() => {}) : Promise.resolve(replayed)
}

/**
 * Runs `step` — what a test does between its jobs that only the coordinator can or may do: read a
 * finished job's checkpoints or its `MemoryStorage`, write or damage checkpoint files — on the
 * coordinator only, and hands what it resolved with to the workers that replay the test: up to the
 * job it hosts, a replaying worker resolves with the coordinator's result (a structured clone: plain
 * data, Maps, Sets), so it goes on as the coordinator did and builds the same next job; from that job
 * on it never settles (as {@link coordinatorOnly}). `step` makes no pass values itself (no `tempDir()`,
 * no shared flags): the worker, which does not run it, would number the phase's later values apart
 * from the coordinator.
 *
 * @example
 * const previous = await coordinatorStep(async () => (await new DirectoryStorage(dir).latest())?.id)
 */
export async function coordinatorStep<T>(step: () => Promise<T>): Promise<T> {
  if (replayedTest() !== undefined) {
    if (hostedJobStarted()) return new Promise<T>(() => {})
    const result = nextReplayed()
    if (result === undefined || typeof result !== 'object' || !('step' in result))
      throw new Error('coordinatorStep: the coordinator recorded no step result here (did its step make pass values?)')
    return result.step as T
  }
  const result: { step: unknown } = { step: undefined }
  const values = record(result)
  const made = values?.length
  result.step = await step()
  if (values?.length !== made)
    throw new Error('coordinatorStep: its step made pass values, which a replaying worker would not')
  return result.step as T
}
