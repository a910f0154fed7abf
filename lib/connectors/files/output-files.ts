import { mkdirSync, openSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { ConnectorError, messageOf } from '../../errors.js'
import type { WriteMode } from './options.js'

/**
 * What a file sink writer puts in a checkpoint: how many bytes of its file the checkpoint covers.
 * Plain data; `version` names the layout so a later one can still read it.
 */
export interface FileSinkState {
  readonly version: 1
  readonly path: string
  readonly length: number
}

/** An output file opened for one sink subtask. */
export interface OpenedOutput {
  readonly path: string
  /** Opened to append: writes go after the `length` bytes kept. */
  readonly fd: number
  /** Bytes already in the file that stay (cut back to a checkpoint's length on a restore; else 0). */
  readonly length: number
}

/**
 * Checks a writer state given back from a checkpoint.
 *
 * @example
 * isFileSinkState({ version: 1, path: '/tmp/out/1', length: 120 }) // true
 */
export function isFileSinkState(value: unknown): value is FileSinkState {
  if (value === null || typeof value !== 'object') return false
  const state = value as Partial<FileSinkState>
  return (
    state.version === 1 &&
    typeof state.path === 'string' &&
    typeof state.length === 'number' &&
    Number.isSafeInteger(state.length) &&
    state.length >= 0
  )
}

/**
 * Where a file sink's subtasks write, following Flink's FileOutputFormat: at parallelism 1 `path` is the
 * file; at a higher parallelism `path` is a directory holding one file per subtask, named `1`, `2`, …
 * (the 1-based subtask index).
 *
 * How a file is opened:
 * - restored from a checkpoint that holds the file's state: the file is cut back to the length the
 *   checkpoint covers and appended to — the sources rewind to the same checkpoint, so every record ends
 *   up in the file once;
 * - a restart without checkpoint (the sink opened the file before in this process): the file is
 *   truncated, as the sources start again from the beginning;
 * - otherwise `writeMode`: 'fail-if-exists' opens with `O_EXCL` and fails with ConnectorError
 *   'ERR_FILE_EXISTS' naming the path; 'overwrite' truncates. At a higher parallelism 'overwrite' replaces
 *   a plain file at `path` by the directory and removes numbered files left by a wider earlier run. A
 *   directory at `path` is never deleted to write one file: that is refused, as deleting a tree is
 *   rarely meant.
 *
 * 'fail-if-exists' is checked when the file is opened, not when the sink is built: a job restored from
 * a savepoint builds the same sink over the files it wrote, and must be able to continue them.
 *
 * @example
 * const outputs = new OutputFiles('textFileSink', '/tmp/out', 'overwrite')
 * const { fd, path } = outputs.open(1, 2) // path '/tmp/out/2'
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
  }

  /**
   * The file of subtask `subtask` (0-based) of `parallelism`.
   *
   * @example
   * new OutputFiles('textFileSink', '/tmp/out', 'overwrite').pathOf(0, 2) // '/tmp/out/1'
   */
  pathOf(subtask: number, parallelism: number): string {
    return parallelism > 1 ? join(this.path, String(subtask + 1)) : this.path
  }

  /**
   * Creates what is missing and opens the subtask's file; every failure names the path.
   *
   * @example
   * const { fd, length } = outputs.open(0, 1, restoredStates)
   */
  open(subtask: number, parallelism: number, restored?: readonly unknown[]): OpenedOutput {
    const path = this.pathOf(subtask, parallelism)
    const state = restored?.find((entry): entry is FileSinkState => isFileSinkState(entry) && entry.path === path)
    try {
      if (parallelism > 1) this.prepareDirectory(subtask, parallelism)
      else if (statSync(path, { throwIfNoEntry: false })?.isDirectory() === true) {
        throw new ConnectorError(
          'ERR_FILE_EXISTS',
          `${this.sinkName}: ${path} is a directory; at parallelism 1 the path names the output file`,
        )
      } else mkdirSync(dirname(path), { recursive: true })
      let length = 0
      let flags: string
      if (state !== undefined) {
        // Lines written after the checkpoint will be written again by the rewound job: cut them.
        if (state.length > 0) truncateSync(path, state.length)
        length = state.length
        flags = state.length > 0 ? 'a' : 'w'
      } else flags = this.opened.has(path) || this.writeMode === 'overwrite' ? 'w' : 'wx'
      const fd = openSync(path, flags)
      this.opened.add(path)
      return { path, fd, length }
    } catch (error) {
      if (error instanceof ConnectorError) throw error
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EEXIST') {
        throw new ConnectorError(
          'ERR_FILE_EXISTS',
          `${this.sinkName}: ${path} already exists (writeMode 'fail-if-exists'); remove it or use writeMode 'overwrite'`,
          { cause: error },
        )
      }
      if (state !== undefined && code === 'ENOENT') {
        throw new ConnectorError(
          'ERR_FILE_RESTORE',
          `${this.sinkName}: cannot restore ${path}: the checkpoint covers ${state.length} bytes of it, but the file is gone`,
          { cause: error },
        )
      }
      throw new ConnectorError('ERR_FILE_OPEN', `${this.sinkName}: cannot open ${path}: ${messageOf(error)}`, {
        cause: error,
        retriable: true,
      })
    }
  }

  private prepareDirectory(subtask: number, parallelism: number): void {
    const existing = statSync(this.path, { throwIfNoEntry: false })
    if (existing !== undefined && !existing.isDirectory()) {
      if (this.writeMode !== 'overwrite') {
        throw new ConnectorError(
          'ERR_FILE_EXISTS',
          `${this.sinkName}: ${this.path} already exists as a file; at parallelism ${parallelism} it is the directory of the subtasks' files (writeMode 'fail-if-exists')`,
        )
      }
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
