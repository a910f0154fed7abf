import type { BucketAssigner } from '../bucket-assigner.js'

/**
 * One bucket, the base path itself (Flink's BasePathBucketAssigner): part files are written directly
 * into the sink's directory.
 *
 * @example
 * bucketingFileSink('/data/out', { bucketAssigner: basePathBucketAssigner() }) // /data/out/part-0-0, …
 */
export function basePathBucketAssigner<T = unknown>(): BucketAssigner<T> {
  return { name: 'base-path', getBucketId: () => '' }
}
