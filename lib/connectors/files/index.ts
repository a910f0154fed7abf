import { CsvFileSink } from './csv-file-sink.js'
import { DirectoryMonitorSource } from './directory-monitor-source.js'
import type {
  CsvFileSinkOptions,
  DirectoryMonitorOptions,
  TextFileSinkOptions,
  TextFileSourceOptions,
} from './options.js'
import { TextFileSink } from './text-file-sink.js'
import { TextFileSource } from './text-file-source.js'

export { CsvFileSink } from './csv-file-sink.js'
export { csvField, csvRow } from './csv-format.js'
export { DirectoryMonitorSource } from './directory-monitor-source.js'
export { subtaskOfFile } from './file-assignment.js'
export { FileLinesReader } from './file-lines-reader.js'
export { FileSinkWriter } from './file-sink-writer.js'
export type { FileSplit } from './file-split.js'
export type { FileSinkState } from './output-files.js'
export type {
  CsvFileSinkOptions,
  DirectoryMonitorOptions,
  FileSinkOptions,
  LineEncoding,
  TextFileSinkOptions,
  TextFileSourceOptions,
  WriteMode,
} from './options.js'
export { TextFileSink } from './text-file-sink.js'
export { TextFileSource } from './text-file-source.js'

/**
 * The lines of a text file, or of the files in a directory (Flink's readTextFile).
 *
 * @example
 * env.fromSource(readTextFile('/data/input.txt')).pipe(flatMap((line: string) => line.split(' ')))
 */
export function readTextFile(path: string, options?: TextFileSourceOptions): TextFileSource {
  return new TextFileSource(path, options)
}

/**
 * The lines of the files in a directory, new files and appended lines included (Flink's readFile with
 * PROCESS_CONTINUOUSLY).
 *
 * @example
 * env.fromSource(monitorDirectory('/var/log/app', { pattern: '*.log', intervalMs: 500 }))
 */
export function monitorDirectory(dir: string, options?: DirectoryMonitorOptions): DirectoryMonitorSource {
  return new DirectoryMonitorSource(dir, options)
}

/**
 * A sink writing one line per record (Flink's writeAsText).
 *
 * @example
 * stream.sinkTo(textFileSink('/tmp/out.txt', { writeMode: 'overwrite' }))
 */
export function textFileSink<T>(path: string, options?: TextFileSinkOptions<T>): TextFileSink<T> {
  return new TextFileSink<T>(path, options)
}

/**
 * A sink writing one RFC-4180 CSV row per record (Flink's writeAsCsv).
 *
 * @example
 * stream.sinkTo(csvFileSink('/tmp/out.csv', { header: ['word', 'count'], fields: (c: Count) => [c.word, c.n] }))
 */
export function csvFileSink<T>(path: string, options?: CsvFileSinkOptions<T>): CsvFileSink<T> {
  return new CsvFileSink<T>(path, options)
}
