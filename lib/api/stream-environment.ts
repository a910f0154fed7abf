import { Observable } from 'rxjs'
import { optionKeys, optionsObject } from '../util/options.js'
import { AsyncIterableSource, type AsyncIterableOptions } from '../connectors/collections/async-iterable-source.js'
import { CallbackSink } from '../connectors/collections/callback-sink.js'
import { CollectionSource } from '../connectors/collections/collection-source.js'
import { IteratorSource } from '../connectors/collections/iterator-source.js'
import { ObservableSource, type ObservableSourceOptions } from '../connectors/collections/observable-source.js'
import { SequenceSource } from '../connectors/collections/sequence-source.js'
import { ConfigError } from '../errors.js'
import {
  monitorDirectory,
  readTextFile,
  type DirectoryMonitorOptions,
  type TextFileSourceOptions,
} from '../connectors/files/index.js'
import { socketTextStream, type SocketTextSourceOptions } from '../connectors/socket/index.js'
import { JobHandle, type JobResult } from '../runtime/job-handle.js'
import type { Sink } from '../runtime/sink.js'
import { SinkOperator } from '../runtime/sink-operator.js'
import type { Source } from '../runtime/source.js'
import { StreamGraph } from '../runtime/stream-graph.js'
import { DataStream, type NewTransformation, type StreamBuilder } from './data-stream.js'
import type { ResolvedConfig } from '../runtime/job-config.js'
import { type EnvironmentConfig, resolveConfig } from './environment-config.js'
import type { Transformation } from '../runtime/transformation.js'
import { validateOperatorOptions } from './validate-options.js'
import { workerSubtaskHost } from '../runtime/workers/worker-subtask-host.js'
import { CollectSink } from '../runtime/workers/collect-sink.js'
import { serveWorkerSlot } from '../runtime/workers/worker-slot.js'
import { hostedJob, nextWorkerJob, recordWorkerJobEnd } from '../runtime/workers/worker-thread.js'

function pickSourceOptions(options: SourceOptions | undefined): SourceOptions {
  const { name, uid, parallelism } = options ?? {}
  return {
    ...(name === undefined ? {} : { name }),
    ...(uid === undefined ? {} : { uid }),
    ...(parallelism === undefined ? {} : { parallelism }),
  }
}

/** The connector's own options: what is left once the source node's (name, uid, parallelism) are taken out. */
function connectorOptions<O extends object>(options: (O & SourceOptions) | undefined): O | undefined {
  if (options === undefined || options === null || typeof options !== 'object') return options
  const { name: _name, uid: _uid, parallelism: _parallelism, ...rest } = options
  return rest as unknown as O
}

/** Options of a source node. */
export interface SourceOptions {
  name?: string
  uid?: string
  parallelism?: number
}

const SOURCE_OPTIONS = optionKeys<SourceOptions>({ name: true, uid: true, parallelism: true })

/**
 * Where a job is put together and run (Flink's StreamExecutionEnvironment): sources come from here,
 * `executeAsync()` runs every sink's lineage as one job.
 *
 * @example
 * const env = StreamEnvironment.create({ parallelism: 2 })
 * env.fromSequence(1, 100).pipe(map((x) => x * x)).print()
 * await env.execute('squares')
 */
export class StreamEnvironment implements StreamBuilder {
  readonly config: ResolvedConfig
  private readonly transformations: Transformation[] = []
  private readonly sinks: Transformation[] = []

  private constructor(config: EnvironmentConfig = {}) {
    this.config = resolveConfig(config)
  }

  /** A new environment; every setting is checked here. */
  static create(config: EnvironmentConfig = {}): StreamEnvironment {
    return new StreamEnvironment(config)
  }

  /**
   * A stream from any source.
   *
   * @example
   * env.fromSource(new SequenceSource(1, 10), { parallelism: 2 })
   */
  fromSource<T>(source: Source<T>, options: SourceOptions = {}): DataStream<T> {
    if (source === null || typeof source !== 'object' || typeof source.createReader !== 'function')
      throw new ConfigError('fromSource', source, 'a Source with createReader')
    optionsObject(source.name, options, SOURCE_OPTIONS)
    validateOperatorOptions(source.name, options)
    const t = this.addTransformation({
      kind: 'source',
      name: options.name ?? source.name,
      uid: options.uid,
      parallelism: options.parallelism,
      source: source as Source<unknown>,
    })
    return new DataStream<T>(this, t)
  }

  /**
   * The elements of an array, in order, from one subtask.
   *
   * @example
   * env.fromCollection([{ user: 'a', n: 1 }])
   */
  fromCollection<T>(items: readonly T[], options?: SourceOptions): DataStream<T> {
    if (!Array.isArray(items)) throw new ConfigError('fromCollection', items, 'an array')
    return this.fromSource(new CollectionSource(items), options)
  }

  /**
   * The given elements, in order.
   *
   * @example
   * env.fromElements('to', 'be', 'or')
   */
  fromElements<T>(...items: T[]): DataStream<T> {
    return this.fromCollection(items)
  }

  /**
   * The numbers from `from` to `to` inclusive, split over the source's subtasks.
   *
   * @example
   * env.fromSequence(1, 1_000_000, { parallelism: 4 })
   */
  fromSequence(from: number, to: number, options?: SourceOptions): DataStream<number> {
    return this.fromSource(new SequenceSource(from, to), options)
  }

  /**
   * The elements of an iterable or generator; pass a function that makes it for exactly-once restores.
   *
   * @example
   * env.fromIterable(function* () { for (let i = 0; i < 10; i++) yield i })
   */
  fromIterable<T>(iterable: Iterable<T> | (() => Iterable<T>), options?: SourceOptions): DataStream<T> {
    if (typeof iterable !== 'function' && typeof (iterable as Iterable<T>)?.[Symbol.iterator] !== 'function')
      throw new ConfigError('fromIterable', iterable, 'an iterable or a function returning one')
    return this.fromSource(new IteratorSource(iterable), options)
  }

  /**
   * The elements of an async iterable, read with demand.
   *
   * @example
   * env.fromAsyncIterable(() => fs.createReadStream('x.log').pipe(split()))
   */
  fromAsyncIterable<T>(
    iterable: AsyncIterable<T> | (() => AsyncIterable<T>),
    options: SourceOptions & AsyncIterableOptions = {},
  ): DataStream<T> {
    if (typeof iterable !== 'function' && typeof (iterable as AsyncIterable<T>)?.[Symbol.asyncIterator] !== 'function')
      throw new ConfigError('fromAsyncIterable', iterable, 'an async iterable or a function returning one')
    optionsObject('fromAsyncIterable', options, [...SOURCE_OPTIONS, 'prefetch'])
    const { prefetch, ...sourceOptions } = options
    return this.fromSource(new AsyncIterableSource(iterable, prefetch === undefined ? {} : { prefetch }), sourceOptions)
  }

  /**
   * What an Observable emits (bounded buffer: see {@link ObservableSourceOptions}).
   *
   * @example
   * env.fromObservable(fromEvent(emitter, 'order'))
   */
  fromObservable<T>(observable: Observable<T>, options: SourceOptions & ObservableSourceOptions = {}): DataStream<T> {
    optionsObject('fromObservable', options, [...SOURCE_OPTIONS, 'bufferSize', 'overflow'])
    const { bufferSize, overflow, ...sourceOptions } = options
    return this.fromSource(
      new ObservableSource(observable, {
        ...(bufferSize === undefined ? {} : { bufferSize }),
        ...(overflow === undefined ? {} : { overflow }),
      }),
      sourceOptions,
    )
  }

  /**
   * The lines of a text file, read with demand; its position is checkpointed.
   *
   * @example
   * env.readTextFile('access.log').pipe(decode(parseLogLine))
   */
  readTextFile(path: string, options?: TextFileSourceOptions & SourceOptions): DataStream<string> {
    return this.fromSource(readTextFile(path, connectorOptions(options)), pickSourceOptions(options))
  }

  /**
   * New files and appended lines of a directory, scanned every `intervalMs`; positions per file are
   * checkpointed.
   *
   * @example
   * env.monitorDirectory('/var/spool/orders', { intervalMs: 1000 })
   */
  monitorDirectory(directory: string, options?: DirectoryMonitorOptions & SourceOptions): DataStream<string> {
    return this.fromSource(monitorDirectory(directory, connectorOptions(options)), pickSourceOptions(options))
  }

  /**
   * Lines from a TCP server, reconnecting with bounded retries; at-most-once across a restore.
   *
   * @example
   * env.socketTextStream('127.0.0.1', 9999, { delimiter: '\n', retry: { maxRetries: 5 } })
   */
  socketTextStream(host: string, port: number, options?: SocketTextSourceOptions & SourceOptions): DataStream<string> {
    return this.fromSource(socketTextStream(host, port, connectorOptions(options)), pickSourceOptions(options))
  }

  /**
   * Runs every sink's lineage as one job and returns its handle at once. Throws at once when the job
   * cannot start: a `restoreFrom` directory that does not exist or holds no savepoint.
   *
   * @example
   * const job = env.executeAsync('orders'); setTimeout(() => job.cancel(), 60_000); await job.result
   */
  executeAsync(name = 'sluice job'): JobHandle {
    return this.launch(name, this.graphOf(this.sinks))
  }

  /** Starts `graph` on the configured executor; on workers, a {@link CollectSink}'s records go to `collected`. */
  private launch(name: string, graph: StreamGraph, collected?: (values: readonly unknown[]) => void): JobHandle {
    const executor = this.config.executor
    const hosted = hostedJob()
    if (executor.kind === 'single-thread') {
      if (hosted === undefined) return JobHandle.start(name, graph, this.config)
      // a worker thread runs the entry module for one worker-executor job: it runs no other job
      return JobHandle.inWorker(name, graph, this.config, undefined)
    }
    const job = nextWorkerJob()
    if (hosted === undefined) {
      const handle = JobHandle.start(name, graph, this.config, workerSubtaskHost(executor.threads, job, collected))
      recordWorkerJobEnd(job, handle.result)
      return handle
    }
    if (hosted.job !== job) return JobHandle.inWorker(name, graph, this.config, undefined, hosted.ended?.[job])
    return JobHandle.inWorker(name, graph, this.config, (vertices) =>
      serveWorkerSlot(hosted, vertices, this.config, this.config.logger),
    )
  }

  /**
   * Runs the job and resolves when it has finished (a bounded job) with its final metrics; rejects at
   * once when it cannot start (see {@link executeAsync}).
   *
   * @example
   * const { metrics } = await env.execute('word count')
   */
  execute(name?: string): Promise<JobResult> {
    try {
      return this.executeAsync(name).result
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** @internal Registers a node and gives it its id. */
  addTransformation<T extends NewTransformation>(transformation: T): T & { id: number } {
    const t = { ...transformation, id: this.transformations.length + 1 } as T & { id: number }
    this.transformations.push(t as unknown as Transformation)
    return t
  }

  /** @internal Marks a node as a sink: `execute` runs it. */
  addSink(transformation: Transformation): void {
    this.sinks.push(transformation)
  }

  /** @internal The sinks registered so far. */
  sinkTransformations(): readonly Transformation[] {
    return this.sinks
  }

  /** @internal */
  createSinkOperator<T>(sink: Sink<T>): SinkOperator<T> {
    return new SinkOperator(sink)
  }

  /** @internal A cold Observable that runs `stream`'s lineage as a job per subscription. */
  observe<T>(stream: DataStream<T>): Observable<T> {
    return new Observable<T>((subscriber) => {
      const sinkT = this.detachedSink(stream, new CallbackSink<T>((value) => subscriber.next(value)))
      const job = JobHandle.start('observable job', this.graphOf([sinkT]), this.config)
      job.result.then(
        () => subscriber.complete(),
        (error) => subscriber.error(error),
      )
      return () => void job.cancel()
    })
  }

  /** @internal Runs `stream`'s lineage and collects its records. */
  async collect<T>(stream: DataStream<T>): Promise<T[]> {
    const out: T[] = []
    if (this.config.executor.kind === 'workers') {
      // the sink runs in the workers: its records come back through the host
      const sinkT = this.detachedSink(stream, new CollectSink<T>())
      await this.launch('collect job', this.graphOf([sinkT]), (values) => out.push(...(values as T[]))).result
      return out
    }
    const sinkT = this.detachedSink(stream, new CallbackSink<T>((value) => out.push(value)))
    await JobHandle.start('collect job', this.graphOf([sinkT]), this.config).result
    return out
  }

  private detachedSink<T>(stream: DataStream<T>, sink: Sink<T>): Transformation {
    return this.addTransformation({
      kind: 'operator',
      name: sink.name,
      uid: undefined,
      parallelism: undefined,
      inputs: [stream.transformation],
      createOperator: () => new SinkOperator(sink),
      errorPolicy: 'escalate',
      chaining: 'default',
      isSink: true,
      maxParallelism: undefined,
    })
  }

  private graphOf(sinks: readonly Transformation[]): StreamGraph {
    return StreamGraph.build(sinks, {
      parallelism: this.config.parallelism,
      maxParallelism: this.config.maxParallelism,
    })
  }
}
