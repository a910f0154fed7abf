import type { BucketAssigner, BucketContext } from '../bucket-assigner.js'
import { DateTimePattern } from '../date-time-pattern.js'

/**
 * Buckets by the time of each record formatted with `format` in `timeZone` (Flink's
 * DateTimeBucketAssigner): with the default 'yyyy-MM-dd--HH', one directory per hour. The format may hold
 * '/' to nest directories ('yyyy/MM/dd'). See {@link DateTimePattern} for the pattern letters.
 *
 * Which time: the record's event timestamp when it has one, else the processing time of the write.
 * Flink uses processing time only; event time is preferred here because a replay after a restore then
 * puts every record back into the same bucket, and late data lands in the hour it belongs to. To bucket
 * timestamped records by processing time anyway, pass a function:
 * `(v, ctx) => new DateTimePattern('yyyy-MM-dd--HH', 'UTC').format(ctx.currentProcessingTime)` (make
 * the pattern once, outside the function).
 *
 * @example
 * bucketingFileSink('/data/events', { bucketAssigner: dateTimeBucketAssigner('yyyy/MM/dd/HH', 'Europe/Berlin') })
 */
export function dateTimeBucketAssigner<T = unknown>(format = 'yyyy-MM-dd--HH', timeZone = 'UTC'): BucketAssigner<T> {
  const pattern = new DateTimePattern(format, timeZone, 'bucketingFileSink.bucketAssigner')
  return {
    name: `date-time(${format}, ${timeZone})`,
    getBucketId: (_value: T, context: BucketContext) =>
      pattern.format(context.timestamp ?? context.currentProcessingTime),
  }
}
