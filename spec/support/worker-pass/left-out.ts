/**
 * Tests in the files of the worker-executor test pass that do not run there, each with why: they
 * watch memory of the spec file's own thread that the job's operators or user functions change and
 * that is not shared with the workers (a probe operator, writer or reader, a `Subject` the test feeds),
 * or, between their jobs, read what only the coordinator has or write files a replaying worker would
 * write again. A `CallbackSink`, `executeAndCollect()`, the test `Ledger` (thread-bridged), flags in
 * `shared-flags.ts` memory, a `SharedList`, a `SharedGate`, a `SlowSink` and readers' gauges kept by
 * `watchReaders` do reach the coordinator: tests that use only those run. The pass counts these as
 * skipped.
 */
export const LEFT_OUT: Readonly<Record<string, string>> = {
  // runtime
  'a transaction whose checkpoint failed (tolerated) is committed with the next checkpoint, though its pre-commit outlasted the next barrier':
    'a gate, a ledger and sink flags in the spec drive and watch the job',
  // checkpoint
  'a corrupted latest checkpoint (its newest state file is truncated) falls back to the previous one, and the job restores from it':
    "between its jobs it reads the first job's checkpoints (job.checkpoints()), which a replaying worker does not have: it stops before the job it hosts",
  'a corrupted latest checkpoint (its _metadata is garbled) falls back to the previous one, and the job restores from it':
    "between its jobs it reads the first job's checkpoints (job.checkpoints()), which a replaying worker does not have: it stops before the job it hosts",
  'when every completed checkpoint is damaged, the restore fails naming each and why; start-fresh is an explicit choice':
    'its test body writes and damages checkpoint files before its jobs: a replaying worker would do it again, racing the coordinator',
  'an unaligned checkpoint cannot be restored at another parallelism':
    "between its jobs it reads the first job's MemoryStorage, which lives in the spec's thread: a replaying worker stops before the job it hosts",
}
