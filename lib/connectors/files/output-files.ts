import { existsSync, mkdirSync, openSync, readdirSync, rmSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { ConfigError, ConnectorError, messageOf } from '../../errors.js'
import type { WriteMode } from './options.js'

/** An output file opened for one sink subtask. */
export interface OpenedOutput {
  readonly path: string
  readonly fd: number
  /** True when the file is one this sink wrote before (a restart of the job): it was opened to append. */
  readonly appending: boolean
}

/**
 * Where a file sink's subtasks write, following Flink's FileOutputFormat: at parallelism 1 `path` is the
 * file; at a higher parallelism `path` is a directory holding one file per subtask, named `1`, `2`, …
 * (the 1-based subtask index).
 *
 * 'fail-if-exists' is checked twice: when the sink is built (ConfigError, so a job does not start only
 * to fail) and when each file is opened, atomically with `O_EXCL` (ConnectorError 'ERR_FILE_EXISTS').
 * 'overwrite' truncates the files; at a higher parallelism a plain file at `path` is replaced by the
 * directory, and numbered files left by an earlier run with a higher parallelism are removed. A directory
 * at `path` is never deleted to write one file: that is refused, as deleting a tree is rarely meant.
 *
 * A file this sink opened before in this process (the runtime restarts a failed job with the same sink)
 * is opened to append instead: truncating it would lose the records before the restored checkpoint, and
 * failing would stop every restart. This is why the file sinks are at-least-once.
 *
 * @example
 * const outputs = new OutputFiles('textFileSink', '/tmp/out', 'overwrite')
 * const { fd, path } = outputs.open(1, 2) // '/tmp/out/2'
 */
export class OutputFiles {
  readonly path: string
  private readonly opened = new Set<string>()

  constructor(
    /** Names the sink in errors: 'textFileSink', 'csvFileSink'. */
    readonly sinkName: string,
    path: string,
    readonly writeMode: WriteMode,
  ) {
    this.path = resolve(path)
    if (writeMode === 'fail-if-exists' && existsSync(this.path)) {
      throw new ConfigError(`${sinkName}.path`, path, "a path that does not exist yet (writeMode 'fail-if-exists'), or writeMode 'overwrite'")
    }
  }

  /** The file of subtask `subtask` (0-based) of `parallelism`. */
  pathOf(subtask: number, parallelism: number): string {
    return parallelism > 1 ? join(this.path, String(subtask + 1)) : this.path
  }

  /** Creates what is missing and opens the subtask's file; every failure names the path. */
  open(subtask: number, parallelism: number): OpenedOutput {
    const path = this.pathOf(subtask, parallelism)
    const appending = this.opened.has(path)
    try {
      if (parallelism > 1) this.prepareDirectory(subtask, parallelism)
      else if (statSync(path, { throwIfNoEntry: false })?.isDirectory() === true) {
        throw new ConnectorError('ERR_FILE_EXISTS', `${this.sinkName}: ${path} is a directory; at parallelism 1 the path names the output file`)
      } else mkdirSync(dirname(path), { recursive: true })
      const flags = appending ? 'a' : this.writeMode === 'overwrite' ? 'w' : 'wx'
      const fd = openSync(path, flags)
      this.opened.add(path)
      return { path, fd, appending }
    } catch (error) {
      if (error instanceof ConnectorError) throw error
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new ConnectorError('ERR_FILE_EXISTS', `${this.sinkName}: ${path} already exists (writeMode 'fail-if-exists'); remove it or use writeMode 'overwrite'`, { cause: error })
      }
      throw new ConnectorError('ERR_FILE_OPEN', `${this.sinkName}: cannot open ${path}: ${messageOf(error)}`, { cause: error, retriable: true })
    }
  }

  private prepareDirectory(subtask: number, parallelism: number): void {
    const existing = statSync(this.path, { throwIfNoEntry: false })
    if (existing !== undefined && !existing.isDirectory()) {
      if (this.writeMode !== 'overwrite') throw Object.assign(new Error(`${this.path} exists`), { code: 'EEXIST' })
      rmSync(this.path, { force: true })
    }
    mkdirSync(this.path, { recursive: true })
    if (subtask === 0 && this.writeMode === 'overwrite') {
      // Files 1..parallelism are about to be truncated by their subtasks; higher numbers are stale.
      for (const name of readdirSync(this.path)) {
        if (/^[1-9][0-9]*$/.test(name) && Number(name) > parallelism) rmSync(join(this.path, name), { force: true })
      }
    }
  }
}
