import { PrintSink, type PrintSinkOptions } from './print-sink.js'

export { linePrefix, PrintSink, type PrintSinkOptions } from './print-sink.js'
export { recordText } from './record-text.js'

/**
 * A sink printing each record as a line, prefixed with the subtask in parallel (Flink's print();
 * `{ target: 'stderr' }` is printToErr()).
 *
 * @example
 * stream.sinkTo(printSink())
 * stream.sinkTo(printSink({ target: 'stderr', prefix: 'errors' }))
 */
export function printSink<T>(options?: PrintSinkOptions): PrintSink<T> {
  return new PrintSink<T>(options)
}
