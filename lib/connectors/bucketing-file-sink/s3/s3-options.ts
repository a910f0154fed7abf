import { ConfigError } from '../../../errors.js'
import { type RetryOptions, type RetrySchedule, retrySchedule } from '../../base/retry-options.js'
import { booleanOption, nonEmptyString, optionKeys, optionsObject } from '../../../util/options.js'

/** S3 credentials given as options (else the SDK's default chain: environment, profile, instance role). */
export interface S3Credentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

/** Options of {@link s3Writer}. */
export interface S3WriterOptions {
  /** The S3 bucket the part objects go to (3–63 characters). */
  bucket: string
  /** The region; default the SDK's chain (AWS_REGION, profile), or 'us-east-1' with an `endpoint`. */
  region?: string
  /** An S3-compatible store's URL (MinIO, s3rver); default AWS's endpoint for the region. */
  endpoint?: string
  /** Path-style requests (`endpoint/bucket/key`), which most S3-compatible stores need; default false. */
  forcePathStyle?: boolean
  /** Default: the SDK's default credential chain. Never printed in errors or logs. */
  credentials?: S3Credentials
  /** Bytes of a multipart upload's parts but the last (one part is buffered per open part); ≥ 5 MiB, default 5 MiB. */
  partSizeBytes?: number
  /** Retries of a failed request; when used up, the sink fails with ConnectorError 'ERR_CONNECT'. */
  retry?: RetryOptions
}

/** {@link S3WriterOptions} after validation. */
export interface S3WriterSettings {
  readonly bucket: string
  readonly region: string | undefined
  readonly endpoint: string | undefined
  readonly forcePathStyle: boolean
  readonly credentials: S3Credentials | undefined
  readonly partSizeBytes: number
  readonly retry: RetrySchedule
}

/** S3's smallest part but the last. */
export const MIN_PART_SIZE = 5 * 1024 * 1024

const KNOWN = optionKeys<S3WriterOptions>({
  bucket: true,
  region: true,
  endpoint: true,
  forcePathStyle: true,
  credentials: true,
  partSizeBytes: true,
  retry: true,
})

/**
 * Checks the options of {@link s3Writer} once, when the sink is built; a ConfigError names the option
 * (`s3Writer.partSizeBytes`). A credential's value is never printed.
 *
 * @example
 * resolveS3Options({ bucket: 'archive', endpoint: 'http://127.0.0.1:4568', forcePathStyle: true })
 */
export function resolveS3Options(options: S3WriterOptions): S3WriterSettings {
  const o = optionsObject('s3Writer', options, KNOWN)
  const bucket = nonEmptyString('s3Writer.bucket', o.bucket)
  if (bucket.length < 3 || bucket.length > 63 || bucket.includes('/'))
    throw new ConfigError('s3Writer.bucket', bucket, 'a bucket name of 3 to 63 characters, without /')
  const region = o.region === undefined ? undefined : nonEmptyString('s3Writer.region', o.region)
  const endpoint = o.endpoint === undefined ? undefined : nonEmptyString('s3Writer.endpoint', o.endpoint)
  if (endpoint !== undefined && !/^https?:\/\/[^/]/.test(endpoint))
    throw new ConfigError('s3Writer.endpoint', endpoint, 'an http:// or https:// URL')
  let credentials: S3Credentials | undefined
  if (o.credentials !== undefined) {
    const c = optionsObject('s3Writer.credentials', o.credentials, ['accessKeyId', 'secretAccessKey', 'sessionToken'])
    for (const key of ['accessKeyId', 'secretAccessKey'] as const)
      if (typeof c[key] !== 'string' || c[key] === '')
        throw new ConfigError(`s3Writer.credentials.${key}`, c[key], 'a non-empty string')
    if (c.sessionToken !== undefined && typeof c.sessionToken !== 'string')
      throw new ConfigError('s3Writer.credentials.sessionToken', c.sessionToken, 'a string')
    // a copy: the SDK marks the credentials object it is given
    credentials = {
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      ...(c.sessionToken === undefined ? {} : { sessionToken: c.sessionToken }),
    }
  }
  const partSizeBytes = o.partSizeBytes ?? MIN_PART_SIZE
  if (typeof partSizeBytes !== 'number' || !Number.isSafeInteger(partSizeBytes) || partSizeBytes < MIN_PART_SIZE)
    throw new ConfigError(
      's3Writer.partSizeBytes',
      partSizeBytes,
      `a whole number of at least ${MIN_PART_SIZE} (5 MiB)`,
    )
  return {
    bucket,
    region: region ?? (endpoint === undefined ? undefined : 'us-east-1'),
    endpoint,
    forcePathStyle: booleanOption('s3Writer.forcePathStyle', o.forcePathStyle, false),
    credentials,
    partSizeBytes,
    retry: retrySchedule('s3Writer.retry', o.retry),
  }
}
