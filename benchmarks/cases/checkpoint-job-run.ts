/** What one run of case e's job reports from its child process (benchmarks/cases/checkpoint-job.ts). */
export interface CheckpointJobRun {
  readonly records: number
  readonly output: number
  readonly checksum: number
  /** Wall and CPU time of the timed run (every thread of the child). */
  readonly ms: number
  readonly cpuMs: number
  /** The longest time between two sink outputs, read every 128 outputs. */
  readonly maxGapMs: number
  /** Completed checkpoints, the longest of them and the largest in bytes (0 without checkpoints). */
  readonly completed: number
  readonly longestMs: number
  readonly largestBytes: number
}
