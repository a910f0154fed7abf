import { mkdtempSync } from 'node:fs'
import { hostedJob } from '../../../lib/runtime/workers/worker-thread.js'

/**
 * Which test a worker thread of the worker-executor test pass replays to build the job it hosts, and
 * the temp directories the coordinator created for that test, by phase (`module`, `before`, the test's
 * name) in order of creation: the worker's n-th `tempDir()` of a phase is the coordinator's n-th, so
 * that both threads name the same checkpoint directories and files.
 */
export interface PassContext {
  readonly file: string
  readonly suite: string
  readonly test: string
  readonly dirs: Record<string, string[]>
}

const replayed = (hostedJob()?.context as PassContext | undefined) ?? undefined
let current: PassContext | undefined
let phase = 'module'
const handedOut = new Map<string, number>()
const moduleDirs = new Map<string, string[]>()
const beforeDirs = new Map<string, string[]>()
let importing = ''

/** The test a worker thread replays, when this thread is one of the pass's workers. */
export function replayedTest(): PassContext | undefined {
  return replayed
}

/** The context a worker started now is given: the test the coordinator runs. */
export function currentContext(): PassContext | undefined {
  return current
}

/** The coordinator imports `file` (its module-level temp directories belong to every test of it). */
export function importingFile(file: string): void {
  importing = file
  phase = 'module'
  moduleDirs.set(file, [])
}

/** The coordinator enters the `before` hooks of a suite, or a test of it. */
export function enterPhase(file: string, suite: string, test: string | undefined): void {
  const key = `${file}\0${suite}`
  if (test === undefined) {
    beforeDirs.set(key, [])
    current = { file, suite, test: '', dirs: { module: moduleDirs.get(file) ?? [], before: beforeDirs.get(key)! } }
    phase = 'before'
    return
  }
  if (current?.file === file && current.suite === suite && current.test === test) return
  current = {
    file,
    suite,
    test,
    dirs: { module: moduleDirs.get(file) ?? [], before: beforeDirs.get(key) ?? [], [test]: [] },
  }
  phase = test
}

/** A worker replaying its test enters a phase (`before`, or the test). */
export function replayPhase(name: string): void {
  phase = name
}

/**
 * A temp directory for `tempDir()`: made (and recorded) on the coordinator, the coordinator's own in
 * a replaying worker.
 */
export function passTempDir(prefix: string): string {
  if (replayed !== undefined) {
    const n = handedOut.get(phase) ?? 0
    handedOut.set(phase, n + 1)
    const theirs = replayed.dirs[phase]?.[n]
    if (theirs !== undefined) return theirs
    return mkdtempSync(prefix)
  }
  const path = mkdtempSync(prefix)
  if (phase === 'module') moduleDirs.get(importing)?.push(path)
  else current?.dirs[phase]?.push(path)
  return path
}
