/**
 * sluice: a streaming engine for Node.js on RxJS. This is the public entry: the environment and
 * streams, the operators, state descriptors, time and windows, and the built-in sources and sinks.
 */
export { StreamEnvironment, type SourceOptions } from './api/stream-environment.js'
export type { EnvironmentConfig } from './api/environment-config.js'
export { DataStream, KeyedStream } from './api/data-stream.js'
export { EmbeddedStream } from './api/embedded-stream.js'
export { engineOperator, type EngineOperator } from './api/engine-operator.js'
export type { OperatorOptions, Partitioning, ChainingStrategy } from './runtime/transformation.js'

export { map } from './operators/map.js'
export { filter } from './operators/filter.js'
export { flatMap } from './operators/flat-map.js'
export { decode } from './operators/decode.js'
export {
  asyncMap,
  orderedWait,
  unorderedWait,
  sharedLimiter,
  SharedLimiter,
  asyncMetrics,
  AsyncTimeoutError,
  type AsyncIoMetrics,
  type AsyncMapOptions,
  type AsyncFunction,
  type TimeoutPolicy,
  type RetryStrategy,
  type FixedDelayRetry,
  type ExponentialBackoffRetry,
  type AsyncIoMetricsSnapshot,
  type LatencyPercentiles,
} from './operators/async-map.js'
export { keyBy } from './operators/key-by.js'
export { reduce } from './operators/reduce.js'
export { aggregate } from './operators/aggregate.js'
export { process } from './operators/process.js'
export { union, merge } from './operators/union.js'
export { connect, type CoProcessFunction, type ConnectOptions } from './operators/connect.js'
export { rebalance, broadcast, global, rescale } from './operators/partitioning.js'
export type {
  Collector,
  ProcessContext,
  ProcessFunction,
  RuntimeContext,
  TimerAccess,
} from './operators/process-function.js'

export {
  ValueStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  AggregatingStateDescriptor,
  type AggregateFunction,
  type StateTtl,
  type StateOptions,
} from './state/descriptors.js'
export type { ValueState } from './state/value-state.js'
export type { ListState } from './state/list-state.js'
export type { MapState } from './state/map-state.js'
export type { ReducingState } from './state/reducing-state.js'
export type { AggregatingState } from './state/aggregating-state.js'
export { type Key, KeyGroupRange, keyGroupOf, DEFAULT_MAX_PARALLELISM } from './state/key-groups.js'

export { assignTimestampsAndWatermarks } from './operators/assign-timestamps.js'
export { window, countWindow } from './operators/window.js'
export { WindowedStream } from './api/windowed-stream.js'
export { WatermarkStrategy, type TimestampAssigner } from './time/watermark-strategy.js'
export { tumblingEventTimeWindows, tumblingProcessingTimeWindows } from './windows/assigners/tumbling.js'
export { slidingEventTimeWindows, slidingProcessingTimeWindows } from './windows/assigners/sliding.js'
export { eventTimeSessionWindows, processingTimeSessionWindows } from './windows/assigners/session.js'
export { globalWindows } from './windows/assigners/global.js'
export { TimeWindow } from './windows/time-window.js'
export { GlobalWindow } from './windows/global-window.js'
export type { Window } from './windows/window.js'
export type { WindowOptions } from './windows/window-options.js'
export type { ProcessWindowFunction, ProcessWindowContext } from './windows/process-window-function.js'
export { CountTrigger } from './windows/triggers/count-trigger.js'
export { EventTimeTrigger } from './windows/triggers/event-time-trigger.js'
export { ProcessingTimeTrigger } from './windows/triggers/processing-time-trigger.js'
export { PurgingTrigger } from './windows/triggers/purging-trigger.js'

export { MemoryStorage } from './checkpoint/memory-storage.js'
export { DirectoryStorage } from './checkpoint/directory-storage.js'
export type { CheckpointStorage } from './checkpoint/checkpoint-storage.js'
export type { CheckpointConfig } from './checkpoint/checkpoint-config.js'
export type { CheckpointStats, CheckpointMetadata } from './checkpoint/checkpoint-types.js'
export { TwoPhaseCommitSink, type CommitOutcome } from './checkpoint/two-phase-commit-sink.js'

export {
  JobServer,
  type JobServerOptions,
  type ResultSerializer,
  registerSluiceMetrics,
  type SluiceMetricsOptions,
} from './server/index.js'
export {
  type JobRegistry,
  jobRegistry,
  type RegisteredJob,
  type JobStatus,
  type JobException,
} from './runtime/job-registry.js'
export type { ErrorChain } from './util/error-chain.js'
export { QueryableStateClient, QueryableStateError } from './queryable/queryable-state-client.js'

export { OutputTag, DEAD_LETTERS, type DeadLetter } from './runtime/output-tag.js'
export { StreamOperator, type ErrorPolicy } from './runtime/stream-operator.js'
export type { Source, SourceReader, SourceOutput, InputStatus, SourceReaderContext } from './runtime/source.js'
export type { Sink, SinkWriter, DeliveryGuarantee, SinkWriterContext } from './runtime/sink.js'
export { type Counter, MetricGroup } from './runtime/metric-group.js'
export type { JobHandle, JobResult } from './runtime/job-handle.js'
export type {
  ConnectorMetricsSnapshot,
  JobMetricsSnapshot,
  OperatorMetricsSnapshot,
  SubtaskMetricsSnapshot,
} from './runtime/job-metrics.js'
export type { RestartStrategy } from './runtime/restart-strategy.js'
export type { ExecutorConfig } from './runtime/workers/executor-config.js'
export { isCoordinator, onCoordinator } from './runtime/workers/worker-thread.js'

export { CollectionSource } from './connectors/collections/collection-source.js'
export { SequenceSource } from './connectors/collections/sequence-source.js'
export { IteratorSource } from './connectors/collections/iterator-source.js'
export { AsyncIterableSource } from './connectors/collections/async-iterable-source.js'
export { ObservableSource } from './connectors/collections/observable-source.js'
export { CallbackSink } from './connectors/collections/callback-sink.js'

export * from './errors.js'
export { createLogger, type Logger, type LogLevel } from './logging.js'
