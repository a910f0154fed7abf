import { ConfigError } from '../../errors.js'
import type { Sink, SinkWriterContext } from '../../runtime/sink.js'
import { recordText } from '../print/record-text.js'
import { FileSinkWriter } from './file-sink-writer.js'
import { validateOptionsObject, validatePath, validateWholeNumber, validateWriteMode, type TextFileSinkOptions, type WriteMode } from './options.js'
import { OutputFiles } from './output-files.js'

/**
 * Writes each record as one line of a text file (Flink's writeAsText): strings as they are, other
 * values as JSON, unless `serializer` says otherwise. At parallelism 1 `path` is the file; at a higher
 * parallelism it is a directory with one file per subtask, named `1`, `2`, … as in Flink.
 *
 * `writeMode` 'fail-if-exists' (the default) refuses an existing path when the sink is built
 * (ConfigError naming `textFileSink.path`) and when a file is opened (ConnectorError 'ERR_FILE_EXISTS');
 * 'overwrite' replaces it. Writes are batched and backpressured: `ready()` waits while the file stream
 * is over its buffer. Guarantee: at-least-once — every record before a checkpoint is in the file when
 * the checkpoint completes (flush on the barrier), and a restarted job appends to the files it wrote,
 * so records after the restored checkpoint may appear twice.
 *
 * @example
 * stream.sinkTo(new TextFileSink('/tmp/out.txt', { writeMode: 'overwrite' }))
 * stream.sinkTo(new TextFileSink('/tmp/out', { serializer: (e: Event) => `${e.id}\t${e.name}` }), { parallelism: 4 }) // /tmp/out/1 … /tmp/out/4
 */
export class TextFileSink<T> implements Sink<T> {
  readonly name = 'text-file'
  readonly guarantee = 'at-least-once'
  readonly writeMode: WriteMode
  readonly batchSize: number
  private readonly serializer: (value: T) => string
  private readonly outputs: OutputFiles

  constructor(path: string, options: TextFileSinkOptions<T> = {}) {
    validatePath('textFileSink.path', path)
    validateOptionsObject('textFileSink options', options)
    this.writeMode = validateWriteMode('textFileSink.writeMode', options.writeMode)
    this.batchSize = validateWholeNumber('textFileSink.batchSize', options.batchSize, 16_384, 1)
    if (options.serializer !== undefined && typeof options.serializer !== 'function') throw new ConfigError('textFileSink.serializer', options.serializer, 'a function (value) => string')
    this.serializer = options.serializer ?? recordText
    this.outputs = new OutputFiles('textFileSink', path, this.writeMode)
  }

  /** The file or directory written (absolute). */
  get path(): string {
    return this.outputs.path
  }

  /**
   * Opens the subtask's file; throws ConnectorError naming the path when it cannot.
   *
   * @example
   * const writer = sink.createWriter({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime })
   */
  createWriter(context: SinkWriterContext): FileSinkWriter<T> {
    const serializer = this.serializer
    return new FileSinkWriter<T>(this.outputs.open(context.subtask, context.parallelism), (value) => `${serializer(value)}\n`, this.batchSize, 'textFileSink')
  }
}
