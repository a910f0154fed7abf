/**
 * Tests in the files of the worker-executor test pass that do not run there, each with why: a test
 * that watches memory of the spec file's own thread that the job's operators or user functions change
 * and that is not shared with the workers (a probe operator, writer or reader, a `Subject` the test
 * feeds). A `CallbackSink`, `executeAndCollect()`, the test `Ledger` (thread-bridged), flags in
 * `shared-flags.ts` memory, a `SharedList`, a `SharedGate`, a `SlowSink` and readers' gauges kept by
 * `watchReaders` do reach the coordinator: tests that use only those run; what a test does between its
 * jobs that only the coordinator can do (read a finished job's checkpoints, write checkpoint files) runs
 * there alone (`coordinatorStep`, `coordinatorOnly`). The pass counts those listed here as skipped.
 */
export const LEFT_OUT: Readonly<Record<string, string>> = {}
