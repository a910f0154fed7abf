import { ConfigError } from '../../../errors.js'
import type { BucketAssigner, BucketContext } from '../bucket-assigner.js'

/**
 * Buckets by a function of the record and its {@link BucketContext}. The id it returns is a relative
 * path ('' for the base path, '/' between levels); an id that would leave the base path fails the write
 * with ConnectorError 'ERR_BUCKET_ID'. The sink option `bucketAssigner` also takes the bare function.
 *
 * @example
 * customBucketAssigner((e: Event, ctx) => `${e.tenant}/${new Date(ctx.timestamp ?? ctx.currentProcessingTime).getUTCFullYear()}`)
 */
export function customBucketAssigner<T>(
  getBucketId: (value: T, context: BucketContext) => string,
  name = getBucketId?.name || 'custom',
): BucketAssigner<T> {
  if (typeof getBucketId !== 'function')
    throw new ConfigError('bucketingFileSink.bucketAssigner', getBucketId, 'a function (value, context) => string')
  return { name, getBucketId }
}
