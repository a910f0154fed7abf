import type { Writable } from 'node:stream'
import { ConfigError } from '../../errors.js'
import type { Sink, SinkWriter, SinkWriterContext } from '../../runtime/sink.js'
import { recordText } from './record-text.js'
import { optionKeys, optionsObject } from '../../util/options.js'

/** Options of {@link PrintSink}. */
export interface PrintSinkOptions {
  /** Default 'stdout'. A Writable (a pipe, a test stream) is accepted too; it is never ended. */
  target?: 'stdout' | 'stderr' | Writable
  /** Flink's sink identifier, written before the subtask number. */
  prefix?: string
  /** Receives each line (without newline) instead of a stream; no backpressure. For tests. */
  write?: (line: string) => void
}

const PRINT_SINK_OPTIONS = optionKeys<PrintSinkOptions>({ target: true, prefix: true, write: true })

/**
 * Prints each record as one line (Flink's print() / printToErr()): strings as they are, objects and
 * arrays as JSON. The line prefix is Flink's: at parallelism > 1 the 1-based subtask, `2> value`, or
 * `${prefix}:2> value` with a prefix; at parallelism 1 nothing, or `${prefix}> value`.
 *
 * Backpressure: while the stream's `write()` returned false (a slow terminal or pipe) `ready()` waits
 * for its 'drain', so printing cannot fill memory. Guarantee: at-least-once (a restarted job prints the
 * records after the restored checkpoint again).
 *
 * @example
 * counts.sinkTo(new PrintSink({ prefix: 'counts' }), { parallelism: 2 })
 * // counts:1> {"word":"a","count":3}
 * // counts:2> {"word":"b","count":1}
 */
export class PrintSink<T> implements Sink<T> {
  readonly name = 'print'
  readonly guarantee = 'at-least-once'
  readonly prefix: string
  private readonly target: 'stdout' | 'stderr' | Writable
  private readonly writeLine: ((line: string) => void) | undefined

  constructor(options: PrintSinkOptions = {}) {
    optionsObject('printSink', options, PRINT_SINK_OPTIONS)
    const { target = 'stdout', prefix = '', write } = options
    if (target !== 'stdout' && target !== 'stderr' && typeof (target as Writable)?.write !== 'function') {
      throw new ConfigError('printSink.target', target, "'stdout' | 'stderr' | a Writable stream")
    }
    if (typeof prefix !== 'string') throw new ConfigError('printSink.prefix', prefix, 'a string')
    if (write !== undefined && typeof write !== 'function')
      throw new ConfigError('printSink.write', write, 'a function (line) => void')
    this.target = target
    this.prefix = prefix
    this.writeLine = write
  }

  /**
   * The writer of one subtask, with its line prefix fixed.
   *
   * @example
   * const writer = new PrintSink().createWriter({ subtask: 1, parallelism: 2, processingTime: systemProcessingTime })
   * writer.write('hello', undefined) // prints "2> hello"
   */
  createWriter(context: SinkWriterContext): SinkWriter<T> {
    const prefix = linePrefix(this.prefix, context.subtask, context.parallelism)
    if (this.writeLine !== undefined) {
      const writeLine = this.writeLine
      return { write: (value) => writeLine(prefix + recordText(value)), close() {} }
    }
    const stream = this.target === 'stdout' ? process.stdout : this.target === 'stderr' ? process.stderr : this.target
    return new PrintStreamWriter<T>(stream, prefix)
  }
}

/**
 * Flink's print prefix (PrintSinkOutputWriter): `${prefix}:${subtask + 1}> ` in parallel, `${prefix}> `
 * alone, the colon and the prefix left out when the prefix is empty.
 *
 * @example
 * linePrefix('', 1, 2)     // '2> '
 * linePrefix('out', 0, 2)  // 'out:1> '
 * linePrefix('out', 0, 1)  // 'out> '
 * linePrefix('', 0, 1)     // ''
 */
export function linePrefix(prefix: string, subtask: number, parallelism: number): string {
  let text = prefix
  if (parallelism > 1) text += `${text === '' ? '' : ':'}${subtask + 1}`
  return text === '' ? '' : `${text}> `
}

class PrintStreamWriter<T> implements SinkWriter<T> {
  private draining: Promise<void> | undefined

  constructor(
    private readonly stream: NodeJS.WritableStream | Writable,
    private readonly prefix: string,
  ) {}

  write(value: T, _timestamp?: number): void {
    if (!this.stream.write(`${this.prefix}${recordText(value)}\n`)) this.awaitDrain()
  }

  ready(): Promise<void> | undefined {
    return this.draining
  }

  flush(): Promise<void> | undefined {
    return this.draining
  }

  /** The stream is shared (stdout) or the caller's: it is left open. */
  close(): Promise<void> | undefined {
    return this.draining
  }

  private awaitDrain(): void {
    this.draining ??= new Promise<void>((resolve) => {
      const done = (): void => {
        this.stream.off('drain', done)
        this.stream.off('close', done)
        this.draining = undefined
        resolve()
      }
      this.stream.on('drain', done)
      this.stream.on('close', done)
    })
  }
}
