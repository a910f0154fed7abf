import { createWriteStream, type WriteStream } from 'node:fs'
import { ConnectorError, messageOf } from '../../errors.js'
import type { SinkWriter } from '../../runtime/sink.js'
import type { FileSinkState, OpenedOutput } from './output-files.js'

/**
 * Writes formatted records to one output file through an `fs.WriteStream`. Records are gathered into
 * a string of about `batchSize` characters and written together, so the stream sees few large writes
 * instead of one per record. While the stream's buffer is over its high-water mark (`write()` returned
 * false) `ready()` returns a promise that resolves on 'drain': the runtime stops handing records, and a
 * slow disk slows the job instead of filling memory.
 *
 * `flush()` writes out the gathered text and resolves once everything is in the file (at the end of
 * input); `snapshotState()` flushes too and returns the file's length, which a restore cuts the file
 * back to (see {@link OutputFiles}). `close()` flushes, ends the stream and resolves once it is finished
 * and its descriptor closed. A write error fails the next call with ConnectorError 'ERR_FILE_WRITE'.
 *
 * @example
 * const writer = new FileSinkWriter(outputs.open(0, 1), (line: string) => `${line}\n`, 16_384, 'textFileSink')
 * writer.write('hello', undefined)
 * await writer.close()
 */
export class FileSinkWriter<T> implements SinkWriter<T> {
  readonly path: string
  /** Bytes of the file that are this writer's, kept ones included; what a checkpoint records. */
  private length: number
  private readonly stream: WriteStream
  private gathered = ''
  private draining: Promise<void> | undefined
  private lastWrite: Promise<void> = Promise.resolve()
  private failure: ConnectorError | undefined
  private closing: Promise<void> | undefined

  constructor(
    output: OpenedOutput,
    private readonly format: (value: T) => string,
    private readonly batchSize: number,
    sinkName: string,
    highWaterMark = 65_536,
  ) {
    this.path = output.path
    this.length = output.length
    this.stream = createWriteStream(output.path, { fd: output.fd, highWaterMark })
    this.stream.on('error', (error) => {
      this.failure ??= new ConnectorError(
        'ERR_FILE_WRITE',
        `${sinkName}: cannot write ${this.path}: ${messageOf(error)}`,
        { cause: error, retriable: true },
      )
    })
  }

  /** Writes text that is not a record (a CSV header) ahead of the records. */
  writeText(text: string): void {
    this.gathered += text
  }

  write(value: T, _timestamp?: number): void {
    if (this.failure !== undefined) throw this.failure
    this.gathered += this.format(value)
    if (this.gathered.length >= this.batchSize) this.writeGathered()
  }

  ready(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    return this.draining
  }

  async flush(): Promise<void> {
    this.writeGathered()
    await this.lastWrite
    if (this.failure !== undefined) throw this.failure
  }

  /** Flushes, then returns how long the file is: everything before the barrier is in it. */
  async snapshotState(): Promise<FileSinkState[]> {
    await this.flush()
    return [{ version: 1, path: this.path, length: this.length }]
  }

  close(): Promise<void> {
    this.closing ??= this.finish()
    return this.closing
  }

  private async finish(): Promise<void> {
    try {
      await this.flush()
    } finally {
      if (!this.stream.closed) {
        await new Promise<void>((resolve) => {
          this.stream.once('close', resolve)
          this.stream.end()
        })
      }
    }
    if (this.failure !== undefined) throw this.failure
  }

  private writeGathered(): void {
    if (this.gathered === '' || this.stream.destroyed) return
    const chunk = this.gathered
    this.gathered = ''
    this.length += Buffer.byteLength(chunk)
    // Write callbacks run in order, so the last one settling means every earlier write is in the file.
    this.lastWrite = new Promise<void>((resolve) => {
      if (!this.stream.write(chunk, () => resolve())) this.awaitDrain()
    })
  }

  private awaitDrain(): void {
    this.draining ??= new Promise<void>((resolve) => {
      const settle = (): void => {
        this.stream.off('drain', settle)
        this.stream.off('close', settle)
        this.draining = undefined
        resolve()
      }
      // 'close' too: after an error there is no 'drain', and ready() must not hang.
      this.stream.on('drain', settle)
      this.stream.on('close', settle)
    })
  }
}
