import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { type FileSystem, LocalFileSystem } from '../../../lib/connectors/bucketing-file-sink/index.js'
import type { SinkWriterContext } from '../../../lib/runtime/sink.js'
import type { ProcessingTimeService } from '../../../lib/time/processing-time.js'

/** A processing-time service the test moves by hand; `fire()` runs the timers that are due. */
export interface ManualClock extends ProcessingTimeService {
  t: number
  readonly timers: Array<{ at: number; callback: () => void; cancelled: boolean }>
  /** Runs every timer due at the current time (timers a callback schedules wait for the next fire). */
  fire(): number
}

export function manualClock(start = 1_000_000): ManualClock {
  const clock: ManualClock = {
    t: start,
    timers: [],
    now: () => clock.t,
    scheduleAt(at, callback) {
      const timer = { at, callback, cancelled: false }
      clock.timers.push(timer)
      return () => {
        timer.cancelled = true
      }
    },
    fire() {
      const due = clock.timers.filter((x) => !x.cancelled && x.at <= clock.t)
      clock.timers.splice(0, clock.timers.length, ...clock.timers.filter((x) => !due.includes(x)))
      for (const timer of due) timer.callback()
      return due.length
    },
  }
  return clock
}

export function writerContext(processingTime: ProcessingTimeService, subtask = 0, parallelism = 1): SinkWriterContext {
  return { subtask, parallelism, processingTime }
}

/** Every file under `dir`, as paths relative to it with '/', sorted. */
export function filesUnder(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string): void => {
    let entries
    try {
      entries = readdirSync(d, { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else out.push(relative(dir, p).split('\\').join('/'))
    }
  }
  walk(dir)
  return out.sort()
}

const base = (p: string) => p.slice(p.lastIndexOf('/') + 1)

/** Finished part files (visible names). */
export function finishedFiles(dir: string): string[] {
  return filesUnder(dir).filter((p) => !base(p).startsWith('.'))
}

/** Hidden in-progress part files. */
export function inProgressFiles(dir: string): string[] {
  return filesUnder(dir).filter((p) => base(p).startsWith('.') && base(p).includes('.inprogress.'))
}

export function read(dir: string, file: string): string {
  return readFileSync(join(dir, file), 'utf8')
}

/** Sorted lines of all finished files (each file's trailing newline dropped). */
export function finishedLines(dir: string, decode: (buffer: Buffer) => string = (b) => b.toString('utf8')): string[] {
  const lines: string[] = []
  for (const f of finishedFiles(dir)) {
    const text = decode(readFileSync(join(dir, f)))
    if (text === '') continue
    lines.push(...text.replace(/\n$/, '').split('\n'))
  }
  return lines
}

/**
 * The local disk under another name, with the operations a test changes (a failing create, gated
 * writes); only the basic operations are passed on (no truncate, read or directory sync unless given).
 *
 * @example
 * const flaky = localDiskWith('flaky', { create: async () => { throw new Error('ENOSPC') } })
 */
export function localDiskWith(name: string, overrides: Partial<FileSystem> = {}): FileSystem {
  const local = new LocalFileSystem()
  return {
    name,
    create: (p, o) => local.create(p, o),
    rename: (a, b) => local.rename(a, b),
    exists: (p) => local.exists(p),
    list: (d) => local.list(d),
    delete: (p, o) => local.delete(p, o),
    mkdirs: (p) => local.mkdirs(p),
    join: (...s) => local.join(...s),
    ...overrides,
  }
}
