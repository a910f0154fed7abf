export { type MultipartState, S3MultipartStream, type UploadedPart } from './multipart-stream.js'
export {
  MIN_PART_SIZE,
  type S3Credentials,
  type S3WriterOptions,
  type S3WriterSettings,
  resolveS3Options,
} from './s3-options.js'
export { S3RecoverableWriter, s3Writer } from './s3-writer.js'
