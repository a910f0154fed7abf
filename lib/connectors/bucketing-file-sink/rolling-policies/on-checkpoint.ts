import type { RollingPolicy } from '../rolling-policy.js'

/**
 * Rolls part files on checkpoints only (Flink's OnCheckpointRollingPolicy): each part holds the records
 * of one bucket between two checkpoints. The only policy allowed with a bulk encoder such as `gzip(…)`,
 * as in Flink, whose bulk formats cannot be resumed and so must be closed on each checkpoint. Without
 * checkpointing, a subtask writes one part per bucket, closed at the end of input.
 *
 * @example
 * bucketingFileSink('/data/out', { encoder: gzip(jsonLines()), rollingPolicy: new OnCheckpointRollingPolicy() })
 */
export class OnCheckpointRollingPolicy implements RollingPolicy {
  readonly name = 'on-checkpoint'
  readonly rollsOnProcessingTime = false

  shouldRollOnEvent(): boolean {
    return false
  }

  shouldRollOnProcessingTime(): boolean {
    return false
  }
}
