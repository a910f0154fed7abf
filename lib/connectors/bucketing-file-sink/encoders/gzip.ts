import { once } from 'node:events'
import { createGzip, type Gzip, gunzipSync } from 'node:zlib'
import { ConfigError } from '../../../errors.js'
import type { Encoder, PartOutput } from './encoder.js'

/** Options of {@link gzip}. */
export interface GzipOptions {
  /** zlib compression level, 0 (none) to 9 (smallest); default 6. */
  level?: number
}

/**
 * Compresses every part file of `encoder` with gzip: each finished part is one complete gzip stream that
 * `gunzip` or `zlib.gunzipSync` reads whole. Compression makes the encoder `bulk` (a part is readable
 * only once closed), so the sink requires {@link OnCheckpointRollingPolicy} with it, as Flink does for
 * bulk formats; a CSV header is compressed with the rest.
 *
 * @example
 * bucketingFileSink('/data/out', { encoder: gzip(jsonLines(), { level: 9 }), rollingPolicy: new OnCheckpointRollingPolicy() })
 */
export function gzip<T>(encoder: Encoder<T>, options: GzipOptions = {}): Encoder<T> {
  if (encoder === null || typeof encoder !== 'object' || typeof encoder.encode !== 'function')
    throw new ConfigError('bucketingFileSink.encoder', encoder, 'an Encoder to compress')
  if (encoder.wrap !== undefined)
    throw new ConfigError(
      'bucketingFileSink.encoder',
      encoder.name,
      'an encoder without its own output wrapping (gzip is applied once)',
    )
  if (options === null || typeof options !== 'object')
    throw new ConfigError('bucketingFileSink.encoder.gzip', options, 'an options object')
  const level = options.level ?? 6
  if (typeof level !== 'number' || !Number.isInteger(level) || level < 0 || level > 9)
    throw new ConfigError('bucketingFileSink.encoder.gzip.level', level, 'a whole number from 0 to 9')
  return {
    name: `gzip(${encoder.name})`,
    bulk: true,
    header: encoder.header,
    encode: (value: T) => encoder.encode(value),
    wrap: (output: PartOutput) => new GzipOutput(output, level),
    unwrap: (file: Uint8Array) => gunzipSync(file),
  }
}

/** A part's output through a zlib gzip stream; compressed bytes are passed on after each write. */
class GzipOutput implements PartOutput {
  private readonly zip: Gzip
  private readonly compressed: Buffer[] = []

  constructor(
    private readonly target: PartOutput,
    level: number,
  ) {
    this.zip = createGzip({ level })
    this.zip.on('data', (chunk: Buffer) => this.compressed.push(chunk))
  }

  async write(chunk: Uint8Array): Promise<void> {
    await new Promise<void>((resolve, reject) => this.zip.write(chunk, (error) => (error ? reject(error) : resolve())))
    await this.pass()
  }

  async end(): Promise<void> {
    const ended = once(this.zip, 'end')
    this.zip.end()
    await ended
    await this.pass()
    await this.target.end()
  }

  private async pass(): Promise<void> {
    if (this.compressed.length === 0) return
    await this.target.write(Buffer.concat(this.compressed.splice(0)))
  }
}
