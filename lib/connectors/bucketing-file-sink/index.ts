export {
  type BucketAssigner,
  type BucketContext,
  type BucketFunction,
  checkBucketId,
  toBucketAssigner,
} from './bucket-assigner.js'
export { basePathBucketAssigner } from './bucket-assigners/base-path.js'
export { customBucketAssigner } from './bucket-assigners/custom.js'
export { dateTimeBucketAssigner } from './bucket-assigners/date-time.js'
export { keyBucketAssigner, keyDirectoryName } from './bucket-assigners/key.js'
export { BucketingFileSink, bucketingFileSink } from './bucketing-file-sink.js'
export { BucketingFileWriter } from './bucketing-writer.js'
export { type BlockEncoder, type BlockWriter, isBlockEncoder } from './encoders/block-encoder.js'
export { DateTimePattern } from './date-time-pattern.js'
export { csv, type CsvEncoderOptions } from './encoders/csv.js'
export { csvRow } from '../files/csv-format.js'
export type { Encoder, PartOutput } from './encoders/encoder.js'
export { gzip, type GzipOptions } from './encoders/gzip.js'
export { jsonLines } from './encoders/json-lines.js'
export { textLines } from './encoders/text-lines.js'
export type { CreateMode, FileEntry, FileSystem, WritableFile } from './file-system.js'
export { FileSystemRecoverableWriter } from './file-system-writer.js'
export { LocalFileSystem } from './local-file-system.js'
export type { CompactionOptions } from './compaction/compaction-options.js'
export type { BucketingFileSinkOptions } from './options.js'
export { OutputFileConfig, type OutputFileConfigOptions, type ParsedPartName } from './output-file-config.js'
export type { PartFileState } from './part-file.js'
export type { FoundInProgressPart, PartScan, RecoverableStream, RecoverableWriter } from './recoverable-writer.js'
export { DefaultRollingPolicy, type DefaultRollingPolicyOptions } from './rolling-policies/default.js'
export { OnCheckpointRollingPolicy } from './rolling-policies/on-checkpoint.js'
export type { PartFileInfo, RollingPolicy } from './rolling-policy.js'
export type {
  HeldPartRef,
  PartFileRef,
  TransactionState,
  TransactionStateV1,
  TransactionStateV2,
} from './transaction-state.js'
