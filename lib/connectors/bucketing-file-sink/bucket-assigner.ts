import { ConfigError, ConnectorError, describeValue } from '../../errors.js'

/**
 * What a bucket assigner may look at besides the record (Flink's BucketAssigner.Context). The sink
 * reuses one object per subtask, so read it during the call and do not keep it.
 */
export interface BucketContext {
  /** The record's event timestamp, when it carries one (set by assignTimestamps or the source). */
  readonly timestamp: number | undefined
  /** Processing time of this write, from the subtask's processing-time service. */
  readonly currentProcessingTime: number
}

/**
 * Picks the bucket of each record: a directory under the sink's base path, as a relative path with '/'
 * between levels ('' is the base path itself). Called once per record: keep it cheap.
 *
 * @example
 * const byRegion: BucketAssigner<Order> = { name: 'region', getBucketId: (o) => `region=${o.region}` }
 */
export interface BucketAssigner<T> {
  readonly name: string
  getBucketId(value: T, context: BucketContext): string
}

/** A bucket assigner written as a plain function. */
export type BucketFunction<T> = (value: T, context: BucketContext) => string

/**
 * The assigner for an option that takes an assigner or a plain function; a ConfigError naming `option`
 * otherwise.
 *
 * @example
 * toBucketAssigner('bucketingFileSink.bucketAssigner', (o: Order) => o.region).name // 'function'
 */
export function toBucketAssigner<T>(
  option: string,
  assigner: BucketAssigner<T> | BucketFunction<T>,
): BucketAssigner<T> {
  if (typeof assigner === 'function') return { name: assigner.name || 'function', getBucketId: assigner }
  if (assigner === null || typeof assigner !== 'object' || typeof assigner.getBucketId !== 'function') {
    throw new ConfigError(
      option,
      assigner,
      'a BucketAssigner ({ getBucketId(value, context) }) or a function (value, context) => string',
    )
  }
  return assigner
}

/**
 * Checks a bucket id before a directory is made for it: a relative path without '.' or '..' segments,
 * empty segments, backslashes or NUL, so that no record can write outside the base path. Throws
 * ConnectorError 'ERR_BUCKET_ID' naming the id and the record.
 *
 * @example
 * checkBucketId('2024-01-01--10', record) // ok
 * checkBucketId('../etc', record)          // throws
 */
export function checkBucketId(bucketId: unknown, value: unknown): string {
  if (typeof bucketId !== 'string') throw badBucket(bucketId, value, 'not a string')
  if (bucketId === '') return bucketId
  if (bucketId.includes('\\') || bucketId.includes('\0'))
    throw badBucket(bucketId, value, 'contains a backslash or NUL')
  if (bucketId.startsWith('/')) throw badBucket(bucketId, value, 'is absolute')
  for (const segment of bucketId.split('/')) {
    if (segment === '' || segment === '.' || segment === '..')
      throw badBucket(bucketId, value, "has an empty, '.' or '..' segment")
  }
  return bucketId
}

function badBucket(bucketId: unknown, value: unknown, why: string): ConnectorError {
  return new ConnectorError(
    'ERR_BUCKET_ID',
    `bucketingFileSink: bucket id ${describeValue(bucketId)} of record ${describeValue(value)} ${why}; a bucket id is a relative path under the base path`,
  )
}
