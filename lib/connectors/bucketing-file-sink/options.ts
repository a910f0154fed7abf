import { resolve } from 'node:path'
import { ConfigError } from '../../errors.js'
import { type Logger, createLogger } from '../../logging.js'
import { type BucketAssigner, type BucketFunction, toBucketAssigner } from './bucket-assigner.js'
import { dateTimeBucketAssigner } from './bucket-assigners/date-time.js'
import { type CompactionOptions, resolveCompaction } from './compaction/compaction-options.js'
import { partMerger } from './compaction/part-merger.js'
import { type BlockEncoder, isBlockEncoder } from './encoders/block-encoder.js'
import type { Encoder } from './encoders/encoder.js'
import { textLines } from './encoders/text-lines.js'
import type { FileSystem } from './file-system.js'
import { FileSystemRecoverableWriter } from './file-system-writer.js'
import { LocalFileSystem } from './local-file-system.js'
import { OutputFileConfig, type OutputFileConfigOptions } from './output-file-config.js'
import { DefaultRollingPolicy } from './rolling-policies/default.js'
import { OnCheckpointRollingPolicy } from './rolling-policies/on-checkpoint.js'
import type { RecoverableWriter } from './recoverable-writer.js'
import type { RollingPolicy } from './rolling-policy.js'
import type { BucketingSettings } from './subtask-buckets.js'

/** Options of {@link BucketingFileSink}; every one has a default. */
export interface BucketingFileSinkOptions<T> {
  /**
   * How records become bytes; default `textLines()` (`String(value)` and '\n'). A block encoder
   * (`avroContainer(schema)`, `parquet(columns)`) sends a record its schema cannot encode to the
   * dead-letter output.
   */
  encoder?: Encoder<T> | BlockEncoder<T>
  /** Which directory each record goes to; default `dateTimeBucketAssigner()` (one per hour, UTC). */
  bucketAssigner?: BucketAssigner<T> | BucketFunction<T>
  /**
   * When part files roll between checkpoints; default `new DefaultRollingPolicy()`, or
   * `new OnCheckpointRollingPolicy()` for a bulk encoder (gzip), the only policy those accept.
   */
  rollingPolicy?: RollingPolicy
  /** Part file prefix and suffix; default `part` and ''. */
  outputFileConfig?: OutputFileConfig | OutputFileConfigOptions
  /** The store; default the local disk ({@link LocalFileSystem}), where `basePath` is resolved to absolute. */
  fileSystem?: FileSystem
  /**
   * The store as a {@link RecoverableWriter}, for a store that cannot rename: `s3Writer({ bucket })`
   * (then `basePath` is the key prefix). Not together with `fileSystem`.
   */
  writer?: RecoverableWriter
  /** How often open parts are checked against the rolling policy's time limits; default 60 000 ms, as Flink. */
  bucketCheckIntervalMs?: number
  /** Bytes held per part before they are written to its file; default 64 KiB. */
  writeBufferBytes?: number
  /** Bytes a subtask holds in memory before it pauses its input; default 16 MiB. */
  maxBufferedBytes?: number
  /** Where warnings go (stale files, retried commits); default the JSON-lines logger on standard error. */
  logger?: Logger
  /**
   * Merge each bucket's small part files before they become visible (Flink's FileSink compaction);
   * default off. Needs a store that reads parts back (the local disk, WebHDFS).
   */
  compaction?: CompactionOptions
}

const KNOWN = [
  'encoder',
  'bucketAssigner',
  'rollingPolicy',
  'outputFileConfig',
  'fileSystem',
  'writer',
  'bucketCheckIntervalMs',
  'writeBufferBytes',
  'maxBufferedBytes',
  'logger',
  'compaction',
]

/**
 * Checks every option once, when the sink is built, and fills in the defaults; a ConfigError names the
 * option (`bucketingFileSink.rollingPolicy`, …) and the bad value.
 *
 * @example
 * const settings = resolveBucketingOptions('/data/out', { encoder: jsonLines() })
 */
export function resolveBucketingOptions<T>(
  basePath: string,
  options: BucketingFileSinkOptions<T>,
): BucketingSettings<T> {
  if (typeof basePath !== 'string' || basePath === '')
    throw new ConfigError('bucketingFileSink.basePath', basePath, 'a directory path')
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new ConfigError('bucketingFileSink options', options, 'an options object')
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key))
      throw new ConfigError(
        `bucketingFileSink.${key}`,
        (options as Record<string, unknown>)[key],
        `no such option (known: ${KNOWN.join(', ')})`,
      )
  }
  const encoder = options.encoder ?? textLines<T>()
  if (
    !isBlockEncoder(encoder) &&
    (encoder === null ||
      typeof encoder !== 'object' ||
      typeof encoder.encode !== 'function' ||
      typeof encoder.bulk !== 'boolean')
  ) {
    throw new ConfigError(
      'bucketingFileSink.encoder',
      encoder,
      'an Encoder such as textLines(), jsonLines(), csv(), gzip(…), avroContainer(…) or parquet(…)',
    )
  }
  const rollingPolicy =
    options.rollingPolicy ?? (encoder.bulk ? new OnCheckpointRollingPolicy() : new DefaultRollingPolicy())
  if (
    rollingPolicy === null ||
    typeof rollingPolicy !== 'object' ||
    typeof rollingPolicy.shouldRollOnEvent !== 'function' ||
    typeof rollingPolicy.shouldRollOnProcessingTime !== 'function'
  ) {
    throw new ConfigError(
      'bucketingFileSink.rollingPolicy',
      rollingPolicy,
      'a RollingPolicy such as new DefaultRollingPolicy() or new OnCheckpointRollingPolicy()',
    )
  }
  if (encoder.bulk && !(rollingPolicy instanceof OnCheckpointRollingPolicy)) {
    throw new ConfigError(
      'bucketingFileSink.rollingPolicy',
      rollingPolicy.name,
      `new OnCheckpointRollingPolicy() with the bulk encoder ${encoder.name}: a compressed or columnar part is only whole once closed (a size or time roll would cut it mid-block), so parts roll on checkpoints only`,
    )
  }
  const outputFileConfig =
    options.outputFileConfig instanceof OutputFileConfig
      ? options.outputFileConfig
      : new OutputFileConfig(options.outputFileConfig ?? {})
  if (options.writer !== undefined && options.fileSystem !== undefined)
    throw new ConfigError('bucketingFileSink.writer', options.writer, 'no writer together with fileSystem')
  const fileSystem = options.fileSystem ?? new LocalFileSystem()
  for (const method of ['create', 'rename', 'exists', 'list', 'delete', 'mkdirs', 'join'] as const) {
    if (typeof (fileSystem as Partial<FileSystem> | null)?.[method] !== 'function')
      throw new ConfigError('bucketingFileSink.fileSystem', fileSystem, `a FileSystem (it has no ${method}())`)
  }
  const writer = options.writer ?? new FileSystemRecoverableWriter(fileSystem)
  for (const method of ['open', 'recover', 'commit', 'commitAfterRecovery', 'discard', 'scan', 'identities'] as const) {
    if (typeof (writer as Partial<RecoverableWriter> | null)?.[method] !== 'function')
      throw new ConfigError(
        'bucketingFileSink.writer',
        writer,
        `a RecoverableWriter such as s3Writer({ bucket }) (it has no ${method}())`,
      )
  }
  let compaction: BucketingSettings<T>['compaction']
  if (options.compaction !== undefined) {
    const settings = resolveCompaction(options.compaction)
    const merge = partMerger(encoder)
    if (typeof merge === 'string')
      throw new ConfigError(
        'bucketingFileSink.compaction',
        options.compaction,
        `an encoder whose parts can be merged: ${merge}`,
      )
    if (typeof writer.read !== 'function')
      throw new ConfigError(
        'bucketingFileSink.compaction',
        options.compaction,
        `a store that reads part files back (${writer.name} cannot)`,
      )
    compaction = { settings, merge }
  }
  const logger = options.logger ?? createLogger()
  if (typeof logger?.warn !== 'function' || typeof logger.child !== 'function')
    throw new ConfigError('bucketingFileSink.logger', logger, 'a Logger')
  return {
    basePath: options.writer === undefined && fileSystem instanceof LocalFileSystem ? resolve(basePath) : basePath,
    writer,
    encoder,
    bucketAssigner: toBucketAssigner(
      'bucketingFileSink.bucketAssigner',
      options.bucketAssigner ?? dateTimeBucketAssigner<T>(),
    ),
    rollingPolicy,
    outputFileConfig,
    bucketCheckIntervalMs: wholeNumber('bucketCheckIntervalMs', options.bucketCheckIntervalMs, 60_000),
    writeBufferBytes: wholeNumber('writeBufferBytes', options.writeBufferBytes, 64 * 1024),
    maxBufferedBytes: wholeNumber('maxBufferedBytes', options.maxBufferedBytes, 16 * 1024 * 1024),
    logger,
    compaction,
  }
}

function wholeNumber(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw new ConfigError(`bucketingFileSink.${name}`, value, 'a whole number of at least 1')
  return value
}
