import { ConfigError } from '../../../errors.js'
import type { BucketAssigner } from '../bucket-assigner.js'

/** Characters that would leave the bucket's one directory level, or make its name ambiguous. */
const UNSAFE = /[/\\%\0]/g

/**
 * Buckets by a key of each record: one directory per key, directly under the base path. The key's text
 * is made one safe directory name: '/', '\', '%' and NUL are percent-encoded, as is a leading '.' or '_'
 * (readers such as Hive, Spark and Flink's file source skip names starting with them, so the bucket
 * would be invisible; this also covers '.' and '..'), and '' becomes '%00'. Distinct keys stay distinct
 * directories and none escapes the base path.
 *
 * @example
 * bucketingFileSink('/data/orders', { bucketAssigner: keyBucketAssigner((o: Order) => `country=${o.country}`) })
 */
export function keyBucketAssigner<T>(keyOf: (value: T) => string | number | bigint | boolean): BucketAssigner<T> {
  if (typeof keyOf !== 'function')
    throw new ConfigError('bucketingFileSink.bucketAssigner', keyOf, 'a function value => key')
  return { name: `key(${keyOf.name || 'function'})`, getBucketId: (value: T) => keyDirectoryName(String(keyOf(value))) }
}

/**
 * The directory name of a key (see {@link keyBucketAssigner}).
 *
 * @example
 * keyDirectoryName('a/b')  // 'a%2Fb'
 * keyDirectoryName('.tmp') // '%2Etmp'
 */
export function keyDirectoryName(key: string): string {
  if (key === '') return '%00'
  const escaped = key.replace(UNSAFE, percent)
  return escaped[0] === '.' || escaped[0] === '_' ? percent(escaped[0]) + escaped.slice(1) : escaped
}

function percent(c: string): string {
  return `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`
}
