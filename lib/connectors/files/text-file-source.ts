import { optionsObject } from '../../util/options.js'
import { statSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import { ConfigError, ConnectorError, StateError } from '../../errors.js'
import { createLogger } from '../../logging.js'
import type { Source, SourceReaderContext } from '../../runtime/source.js'
import { subtaskOfFile } from './file-assignment.js'
import { FileLinesReader } from './file-lines-reader.js'
import { listDirectory, statFile } from './file-listing.js'
import { isFileSplit, type FileSplit } from './file-split.js'
import { nameFilter } from './name-filter.js'
import {
  validateEncoding,
  TEXT_FILE_SOURCE_OPTIONS,
  validatePath,
  validateWholeNumber,
  type LineEncoding,
  type TextFileSourceOptions,
} from './options.js'

/**
 * Emits the lines of a text file, without their '\n' or '\r\n' and including a last line that has no
 * newline (Flink's readTextFile). The file is read with demand through one buffer of `bufferSize`
 * bytes, never whole, so its size does not matter.
 *
 * Its split is the file and the byte offset of the next line: a checkpoint records it and a restore
 * seeks there and continues with exactly the next line (exactly-once for a file that does not change).
 * A single file is read by one subtask (maxParallelism 1). Given a directory, it reads the files in it
 * (not its subdirectories; names starting with '.' or '_' are skipped) in parallel, each file by the
 * subtask its name hashes to — as {@link DirectoryMonitorSource} with `processOnce`.
 *
 * @example
 * const lines = env.fromSource(new TextFileSource('/data/input.txt'))
 * const all = env.fromSource(new TextFileSource('/data/parts/'), { parallelism: 4 })
 */
export class TextFileSource implements Source<string, FileSplit> {
  readonly name = 'text-file'
  /** Readers keep only the files they own, so after rescaling each gets every split. */
  readonly restoredSplits = 'all' as const
  readonly bounded = true
  readonly maxParallelism: number | undefined
  readonly path: string
  readonly encoding: LineEncoding
  readonly bufferSize: number
  private readonly isDirectory: boolean

  constructor(path: string, options: TextFileSourceOptions = {}) {
    validatePath('readTextFile.path', path)
    optionsObject('readTextFile', options, TEXT_FILE_SOURCE_OPTIONS)
    this.path = resolve(path)
    this.encoding = validateEncoding('readTextFile.encoding', options.encoding)
    this.bufferSize = validateWholeNumber('readTextFile.bufferSize', options.bufferSize, 65_536, 16)
    const stats = statSync(this.path, { throwIfNoEntry: false })
    if (stats === undefined || !(stats.isFile() || stats.isDirectory()))
      throw new ConfigError('readTextFile.path', path, 'an existing file or directory')
    this.isDirectory = stats.isDirectory()
    this.maxParallelism = this.isDirectory ? undefined : 1
  }

  /**
   * The reader of one subtask; `restored` (even empty) replaces the start positions, and splits of
   * files this subtask does not own are ignored, so the runtime may hand every reader all splits.
   *
   * @example
   * const reader = source.createReader({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime })
   */
  createReader(context: SourceReaderContext, restored?: FileSplit[]): FileLinesReader {
    const owns = (name: string): boolean => subtaskOfFile(name, context.parallelism) === context.subtask
    const accepts = nameFilter('readTextFile.pattern', undefined)
    const list = this.isDirectory
      ? () => listDirectory(this.path, (name) => accepts(name) && owns(name))
      : async () => {
          if (context.subtask !== 0) return []
          const file = await statFile(this.path, basename(this.path))
          if (file === undefined)
            throw new ConnectorError(
              'ERR_FILE_NOT_FOUND',
              `readTextFile: ${this.path} does not exist or is no regular file`,
            )
          return [file]
        }
    const mine = (restored ?? []).filter((split) => {
      if (!isFileSplit(split))
        throw new StateError(
          'ERR_STATE_CORRUPT',
          `readTextFile ${this.path}: restored split ${JSON.stringify(split)} is not { path, offset }`,
        )
      return this.isDirectory ? owns(basename(split.path)) : split.path === this.path && context.subtask === 0
    })
    return new FileLinesReader(
      {
        list,
        continuous: false,
        intervalMs: 0,
        encoding: this.encoding,
        bufferSize: this.bufferSize,
        processingTime: context.processingTime,
        logger: createLogger().child({ source: 'readTextFile', path: this.path, subtask: context.subtask }),
        description: `readTextFile ${this.path}`,
      },
      mine,
    )
  }
}
