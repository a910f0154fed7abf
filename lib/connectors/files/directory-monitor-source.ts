import { optionsObject } from '../../util/options.js'
import { statSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import { ConfigError, StateError } from '../../errors.js'
import { createLogger, type Logger } from '../../logging.js'
import type { Source, SourceReaderContext } from '../../runtime/source.js'
import { subtaskOfFile } from './file-assignment.js'
import { FileLinesReader } from './file-lines-reader.js'
import { listDirectory } from './file-listing.js'
import { isFileSplit, type FileSplit } from './file-split.js'
import { nameFilter } from './name-filter.js'
import {
  validateEncoding,
  DIRECTORY_MONITOR_OPTIONS,
  validatePath,
  validateWholeNumber,
  type DirectoryMonitorOptions,
  type LineEncoding,
} from './options.js'

/**
 * Watches a directory and emits the lines of the files in it: those there at the start, files created
 * later, and lines appended to files already read (Flink's readFile with PROCESS_CONTINUOUSLY, but
 * reading only the new lines of a grown file, where Flink reads the whole file again).
 *
 * - The directory is scanned every `intervalMs` once all found data was read; scans stop while
 *   downstream has no credit, and each file is read through one bounded buffer.
 * - Only complete lines are emitted: an unterminated last line waits for its newline (a half-flushed
 *   line is never split in two records). With `processOnce`, the files of the first scan are read —
 *   last lines without newline included — and the source ends.
 * - A file that shrinks below the read position (truncated, or rotated by copy-truncate) or is replaced
 *   by a new file under its name is read again from its start, with a warning in the log.
 * - Parallel: file `name` belongs to subtask `hash(name) % parallelism`; subdirectories are not read.
 * - State: one `{ path, offset }` split per known file; a restore resumes each at exactly its next
 *   line, and files it has no split for are read from their start. Exactly-once for files that only
 *   grow; a truncated file may repeat lines.
 *
 * @example
 * const events = env.fromSource(new DirectoryMonitorSource('/var/log/app', { pattern: '*.log', intervalMs: 500 }), { parallelism: 2 })
 */
export class DirectoryMonitorSource implements Source<string, FileSplit> {
  readonly name = 'directory-monitor'
  /** Readers keep only the files they own, so after rescaling each gets every split. */
  readonly restoredSplits = 'all' as const
  readonly bounded: boolean
  readonly dir: string
  readonly intervalMs: number
  readonly encoding: LineEncoding
  readonly bufferSize: number
  private readonly accepts: (name: string) => boolean
  private readonly logger: Logger | undefined

  constructor(dir: string, options: DirectoryMonitorOptions = {}) {
    validatePath('monitorDirectory.dir', dir)
    optionsObject('monitorDirectory', options, DIRECTORY_MONITOR_OPTIONS)
    this.dir = resolve(dir)
    if (statSync(this.dir, { throwIfNoEntry: false })?.isDirectory() !== true)
      throw new ConfigError('monitorDirectory.dir', dir, 'an existing directory')
    this.intervalMs = validateWholeNumber('monitorDirectory.intervalMs', options.intervalMs, 1000, 1)
    this.encoding = validateEncoding('monitorDirectory.encoding', options.encoding)
    this.bufferSize = validateWholeNumber('monitorDirectory.bufferSize', options.bufferSize, 65_536, 16)
    if (options.processOnce !== undefined && typeof options.processOnce !== 'boolean')
      throw new ConfigError('monitorDirectory.processOnce', options.processOnce, 'a boolean')
    this.bounded = options.processOnce === true
    this.accepts = nameFilter('monitorDirectory.pattern', options.pattern)
    this.logger = options.logger
  }

  /**
   * The reader of one subtask; `restored` (even empty) replaces the start positions, and splits of
   * files this subtask does not own are ignored, so the runtime may hand every reader all splits
   * (as Flink's union list state) when the parallelism changes.
   *
   * @example
   * const reader = source.createReader({ subtask: 0, parallelism: 2, processingTime: systemProcessingTime })
   */
  createReader(context: SourceReaderContext, restored?: FileSplit[]): FileLinesReader {
    const owns = (name: string): boolean => subtaskOfFile(name, context.parallelism) === context.subtask
    const mine = (restored ?? []).filter((split) => {
      if (!isFileSplit(split))
        throw new StateError(
          'ERR_STATE_CORRUPT',
          `monitorDirectory ${this.dir}: restored split ${JSON.stringify(split)} is not { path, offset }`,
        )
      return owns(basename(split.path))
    })
    const fields = { source: 'monitorDirectory', dir: this.dir, subtask: context.subtask }
    return new FileLinesReader(
      {
        list: () => listDirectory(this.dir, (name) => this.accepts(name) && owns(name)),
        continuous: !this.bounded,
        intervalMs: this.intervalMs,
        encoding: this.encoding,
        bufferSize: this.bufferSize,
        processingTime: context.processingTime,
        logger: this.logger?.child(fields) ?? createLogger().child(fields),
        description: `monitorDirectory ${this.dir}`,
      },
      mine,
    )
  }
}
