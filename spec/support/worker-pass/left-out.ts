/**
 * Tests in the files of the worker-executor test pass that do not run there, each with why: they
 * watch memory of the spec file's own thread that the job's operators or user functions change and
 * that is not shared with the workers (a probe operator, writer or reader, a `SlowSink`), or metrics
 * sampled faster than the workers report them, or a reader's from before a restart. A `CallbackSink`,
 * `executeAndCollect()`, the test `Ledger` (thread-bridged) and flags in `shared-flags.ts` memory do
 * reach the coordinator: tests that use only those run; what a test does between its jobs that only
 * the coordinator can do (read a finished job's checkpoints, write checkpoint files) runs there alone
 * (`coordinatorStep`, `coordinatorOnly`). The pass counts these as skipped.
 */
export const LEFT_OUT: Readonly<Record<string, string>> = {
  'late records go to the side output in the engine':
    "its source waits until the CallbackSink filled an array of the spec's thread, which a worker's source cannot see",
  // runtime
  'a slow sink backpressures a fast source: records in flight stay within the credits':
    'samples job.metrics() every 2 ms: on workers each thread reports every 200 ms, so produced − consumed mixes moments',
  // connector sources
  'exactly-once at 1 s checkpoints: the window grows beyond the prefetch within maxUnacknowledgedBytes, through a failure and restore; committed exactly once each':
    "asserts on the metrics of the reader before the restart (its window grew), which lived in a worker thread the restart ended: the job's metrics show the current reader only",
  'exactly-once at 1 s checkpoints: by default the window grows beyond the prefetch within maxUnacknowledgedBytes, through a failure and restore; committed exactly once each':
    "asserts on the metrics of the reader before the restart (its window grew), which lived in a worker thread the restart ended: the job's metrics show the current reader only",
  'backpressure: a slow sink keeps the unacknowledged messages within the prefetch, on the broker too':
    "its SlowSink keeps what it received in the spec's thread, which a writer in a worker does not reach",
  'backpressure: a slow sink keeps the unacknowledged messages within the prefetch':
    "its SlowSink keeps what it received in the spec's thread, which a writer in a worker does not reach",
  ...Object.fromEntries(
    ['Mosquitto (MQTT 5)', 'Mosquitto (MQTT 3.1.1)', 'ActiveMQ (MQTT 3.1.1)'].map((broker) => [
      `${broker}: backpressure — a slow sink keeps the unacknowledged messages within maxUnacknowledged`,
      "its SlowSink keeps what it received in the spec's thread, which a writer in a worker does not reach",
    ]),
  ),
  'backpressure: a slow sink keeps the unacknowledged entries within maxUnacknowledged':
    "its SlowSink keeps what it received in the spec's thread, which a writer in a worker does not reach",
}
