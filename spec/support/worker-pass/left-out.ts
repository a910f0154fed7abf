/**
 * Tests in the files of the worker-executor test pass that do not run there, each with why: they
 * watch memory of the spec file's own thread that the job's sinks or user functions change, and on the
 * worker executor those run in a worker thread, on that thread's copy (a sink pushing into an array, a
 * counter a user function bumps, an in-memory ledger sink). `executeAndCollect()` and the job's outcome
 * do come back from the workers: tests that use only those run. The pass counts these as skipped.
 */
export const LEFT_OUT: Readonly<Record<string, string>> = {
  'keyBy routes every key to exactly one subtask, the owner of its key group': 'a CallbackSink records subtasks',
  'process emits to a side output that a stream of the job reads': 'sinks push into arrays',
  'processing-time timers fire on the wall clock': 'a sink pushes into an array',
  'late records go to the side output in the engine': 'a sink pushes into an array',
}
