import { optionsObject } from '../../util/options.js'
import { ConfigError } from '../../errors.js'
import type { Sink, SinkWriterContext } from '../../runtime/sink.js'
import { recordText } from '../print/record-text.js'
import { FileSinkWriter } from './file-sink-writer.js'
import {
  TEXT_FILE_SINK_OPTIONS,
  validatePath,
  validateWholeNumber,
  validateWriteMode,
  type TextFileSinkOptions,
  type WriteMode,
} from './options.js'
import { OutputFiles } from './output-files.js'

/**
 * Writes each record as one line of a text file (Flink's writeAsText): strings as they are, other
 * values as JSON, unless `serializer` says otherwise. At parallelism 1 `path` is the file; at a higher
 * parallelism it is a directory with one file per subtask, named `1`, `2`, … as in Flink.
 *
 * `writeMode` 'fail-if-exists' (the default) refuses an existing file when it is opened, with
 * ConnectorError 'ERR_FILE_EXISTS' naming the path; 'overwrite' replaces it. Writes are batched and
 * backpressured: `ready()` waits while the file stream is over its buffer.
 *
 * Guarantee: exactly-once for the file's content, with checkpointing and replayable sources. On a
 * barrier the writer flushes and records the file's length; a restore cuts the file back to that length
 * before the rewound job writes on, and a restart without checkpoint starts the file again. A reader
 * tailing the file while the job runs may see lines that such a restore then removes.
 *
 * @example
 * stream.sinkTo(new TextFileSink('/tmp/out.txt', { writeMode: 'overwrite' }))
 * stream.sinkTo(new TextFileSink('/tmp/out', { serializer: (e: Event) => `${e.id}\t${e.name}` }), { parallelism: 4 }) // /tmp/out/1 … /tmp/out/4
 */
export class TextFileSink<T> implements Sink<T> {
  readonly name = 'text-file'
  readonly guarantee = 'exactly-once'
  readonly writeMode: WriteMode
  readonly batchSize: number
  private readonly serializer: (value: T) => string
  private readonly outputs: OutputFiles

  constructor(path: string, options: TextFileSinkOptions<T> = {}) {
    validatePath('textFileSink.path', path)
    optionsObject('textFileSink', options, TEXT_FILE_SINK_OPTIONS)
    this.writeMode = validateWriteMode('textFileSink.writeMode', options.writeMode)
    this.batchSize = validateWholeNumber('textFileSink.batchSize', options.batchSize, 16_384, 1)
    if (options.serializer !== undefined && typeof options.serializer !== 'function')
      throw new ConfigError('textFileSink.serializer', options.serializer, 'a function (value) => string')
    this.serializer = options.serializer ?? recordText
    this.outputs = new OutputFiles('textFileSink', path, this.writeMode)
  }

  /** The file or directory written (absolute). */
  get path(): string {
    return this.outputs.path
  }

  /**
   * Opens the subtask's file (cut back to its checkpointed length when `restored` holds its state);
   * throws ConnectorError naming the path when it cannot.
   *
   * @example
   * const writer = sink.createWriter({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime })
   */
  createWriter(context: SinkWriterContext, restored?: readonly unknown[]): FileSinkWriter<T> {
    const serializer = this.serializer
    const output = this.outputs.open(context.subtask, context.parallelism, restored)
    return new FileSinkWriter<T>(output, (value) => `${serializer(value)}\n`, this.batchSize, 'textFileSink')
  }
}
