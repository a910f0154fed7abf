/**
 * The keyed count of a fault plan written by the bucketing file sink, for process-kill tests, run as
 * its own process:
 *
 *   node --import tsx spec/support/child-jobs/bucketing-count-job.ts '<plan json>' <work dir>
 *
 * `<work dir>/target.json` says where the sink writes (a {@link BucketingTarget}: the local disk, S3 or
 * HDFS; the test's servers outlive the kills). Checkpoints go to `<work dir>/checkpoints`; started again
 * on the same directory the job resumes from the newest complete one. It prints `restoring <id>|fresh`,
 * `running`, `checkpoint <id>`, `finished`, and exits 0 when the job finished, 1 when it failed.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  BucketingFileSink,
  type BucketingFileSinkOptions,
  type CompactionOptions,
  basePathBucketAssigner,
} from '../../../lib/connectors/bucketing-file-sink/index.js'
import { s3Writer } from '../../../lib/connectors/bucketing-file-sink/s3/index.js'
import { webHdfs } from '../../../lib/connectors/hdfs/index.js'
import { createLogger } from '../../../lib/logging.js'
import type { FaultPlan } from '../fault-injection.js'
import { buildCountJob } from '../fault-jobs.js'
import { jobArguments, planEnvironment, reportJob } from '../job-process.js'

/**
 * Where the job's sink writes: a base path on the local disk, a prefix in an S3 bucket, a path on HDFS;
 * with `compaction`, the sink merges parts so.
 */
export type BucketingTarget =
  | { readonly kind: 'local'; readonly path: string; readonly compaction?: CompactionOptions }
  | {
      readonly kind: 's3'
      readonly endpoint: string
      readonly bucket: string
      readonly prefix: string
      readonly accessKeyId: string
      readonly secretAccessKey: string
      readonly compaction?: CompactionOptions
    }
  | {
      readonly kind: 'hdfs'
      readonly url: string
      readonly user: string
      readonly path: string
      readonly compaction?: CompactionOptions
    }

const [planText, workDir] = jobArguments('spec/support/child-jobs/bucketing-count-job.ts', '<plan json>', '<work dir>')
const plan = JSON.parse(planText) as FaultPlan
const target = JSON.parse(readFileSync(join(workDir, 'target.json'), 'utf8')) as BucketingTarget
const env = await planEnvironment(plan, workDir)
const common: BucketingFileSinkOptions<string> = {
  bucketAssigner: basePathBucketAssigner(),
  logger: createLogger({ level: 'silent' }),
}
const sink =
  target.kind === 'local'
    ? new BucketingFileSink<string>(target.path, { ...common, compaction: target.compaction })
    : target.kind === 's3'
      ? new BucketingFileSink<string>(target.prefix, {
          ...common,
          writer: s3Writer({
            bucket: target.bucket,
            endpoint: target.endpoint,
            forcePathStyle: true,
            credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
          }),
          compaction: target.compaction,
        })
      : new BucketingFileSink<string>(target.path, {
          ...common,
          fileSystem: webHdfs({ url: target.url, user: target.user }),
          compaction: target.compaction,
        })
buildCountJob(env, plan, undefined, sink)
reportJob(env.executeAsync(`keyed count to a bucketing file sink (${target.kind}) ${plan.seed}`))
