import type { Observable, OperatorFunction } from 'rxjs'
import { ConfigError } from '../errors.js'
import type { Key } from '../state/key-groups.js'
import type { OutputTag } from '../runtime/output-tag.js'
import type { Sink } from '../runtime/sink.js'
import {
  csvFileSink,
  textFileSink,
  type CsvFileSinkOptions,
  type TextFileSinkOptions,
} from '../connectors/files/index.js'
import { printSink } from '../connectors/print/index.js'
import { socketSink, type SocketSinkOptions } from '../connectors/socket/index.js'
import type { SinkOperator } from '../runtime/sink-operator.js'
import type { StreamOperator } from '../runtime/stream-operator.js'
import { applyStage, isStream, notAStream } from './stage.js'
import type { OperatorOptions, Partitioning, Transformation } from '../runtime/transformation.js'
import { validateOperatorOptions } from './validate-options.js'

/** A node as a stream hands it to its builder, which gives it its id. */
export type NewTransformation = Transformation extends infer T
  ? T extends Transformation
    ? Omit<T, 'id'>
    : never
  : never

/**
 * The job under construction a stream belongs to (its `StreamEnvironment`), as far as streams use it:
 * they add their nodes and sinks to it and run their lineage through it. Declared here so that streams
 * do not import the environment that creates them.
 */
export interface StreamBuilder {
  /** Registers a node and gives it its id. */
  addTransformation<N extends NewTransformation>(transformation: N): N & { id: number }
  /** Marks a node as a sink: the job runs it. */
  addSink(transformation: Transformation): void
  createSinkOperator<T>(sink: Sink<T>): SinkOperator<T>
  /** A cold Observable that runs `stream`'s lineage as a job per subscription. */
  observe<T>(stream: DataStream<T>): Observable<T>
  /** Runs `stream`'s lineage and collects its records. */
  collect<T>(stream: DataStream<T>): Promise<T[]>
  /** A stream from an Observable. */
  fromObservable<T>(observable: Observable<T>): DataStream<T>
}

/**
 * The stream a stage continues, or a clear error naming the operator when the stage before left
 * something else (a windowed stream must be followed by a window function).
 *
 * @example
 * const stream = requireStream(input, 'map')
 */
export function requireStream(current: unknown, operator: string): DataStream<any> {
  if (isStream(current)) return current as DataStream<any>
  throw notAStream(current, operator)
}

/**
 * A stream of records in a job under construction (Flink's DataStream). Compose it with RxJS `pipe`
 * syntax; engine operators become nodes of the job, plain RxJS operators run inside one subtask.
 *
 * @example
 * env.fromCollection(['a b', 'b']).pipe(flatMap((l) => l.split(' ')), keyBy((w) => w), reduce(...)).print()
 */
export class DataStream<T> {
  constructor(
    readonly env: StreamBuilder,
    readonly transformation: Transformation,
  ) {}

  pipe(): DataStream<T>
  pipe<A>(op1: OperatorFunction<T, A>): DataStream<A>
  pipe<A, B>(op1: OperatorFunction<T, A>, op2: OperatorFunction<A, B>): DataStream<B>
  pipe<A, B, C>(op1: OperatorFunction<T, A>, op2: OperatorFunction<A, B>, op3: OperatorFunction<B, C>): DataStream<C>
  pipe<A, B, C, D>(
    op1: OperatorFunction<T, A>,
    op2: OperatorFunction<A, B>,
    op3: OperatorFunction<B, C>,
    op4: OperatorFunction<C, D>,
  ): DataStream<D>
  pipe<A, B, C, D, E>(
    op1: OperatorFunction<T, A>,
    op2: OperatorFunction<A, B>,
    op3: OperatorFunction<B, C>,
    op4: OperatorFunction<C, D>,
    op5: OperatorFunction<D, E>,
  ): DataStream<E>
  pipe<A, B, C, D, E, F>(
    op1: OperatorFunction<T, A>,
    op2: OperatorFunction<A, B>,
    op3: OperatorFunction<B, C>,
    op4: OperatorFunction<C, D>,
    op5: OperatorFunction<D, E>,
    op6: OperatorFunction<E, F>,
  ): DataStream<F>
  pipe<A, B, C, D, E, F, G>(
    op1: OperatorFunction<T, A>,
    op2: OperatorFunction<A, B>,
    op3: OperatorFunction<B, C>,
    op4: OperatorFunction<C, D>,
    op5: OperatorFunction<D, E>,
    op6: OperatorFunction<E, F>,
    op7: OperatorFunction<F, G>,
  ): DataStream<G>
  pipe<A, B, C, D, E, F, G, H>(
    op1: OperatorFunction<T, A>,
    op2: OperatorFunction<A, B>,
    op3: OperatorFunction<B, C>,
    op4: OperatorFunction<C, D>,
    op5: OperatorFunction<D, E>,
    op6: OperatorFunction<E, F>,
    op7: OperatorFunction<F, G>,
    op8: OperatorFunction<G, H>,
  ): DataStream<H>
  pipe(...ops: OperatorFunction<any, any>[]): DataStream<any>
  pipe(...ops: OperatorFunction<any, any>[]): DataStream<any> {
    let current: unknown = this
    for (const op of ops) current = applyStage(current, op)
    if (!(current instanceof DataStream)) {
      throw new ConfigError(
        'pipe',
        (current as object).constructor.name,
        'a pipe that ends in a stream: follow window(...) with reduce, aggregate or process',
      )
    }
    return current
  }

  /**
   * Adds an operator after this stream; what every engine operator is built on.
   *
   * @example
   * stream.transform('double', () => new DoubleOperator(), { parallelism: 2 })
   */
  transform<R>(
    defaultName: string,
    createOperator: () => StreamOperator<T, R>,
    options: OperatorOptions = {},
    extraInputs: DataStream<unknown>[] = [],
  ): DataStream<R> {
    validateOperatorOptions(defaultName, options)
    return new DataStream<R>(
      this.env,
      this.env.addTransformation({
        kind: 'operator',
        name: options.name ?? defaultName,
        uid: options.uid,
        parallelism: options.parallelism,
        inputs: [this.transformation, ...extraInputs.map((s) => s.transformation)],
        createOperator,
        errorPolicy: options.onError ?? 'escalate',
        chaining: options.chaining ?? 'default',
        isSink: false,
        maxParallelism: undefined,
      }),
    )
  }

  /**
   * The records this stream's operator sent to a side output.
   *
   * @example
   * const late = windowed.getSideOutput(lateTag)
   */
  getSideOutput<X>(tag: OutputTag<X>): DataStream<X> {
    return new DataStream<X>(
      this.env,
      this.env.addTransformation({
        kind: 'side-output',
        name: `side:${tag.id}`,
        uid: undefined,
        parallelism: undefined,
        input: this.transformation,
        tag,
      }),
    )
  }

  /** Reads this stream and the others as one. */
  union(...others: DataStream<T>[]): DataStream<T> {
    for (const other of others)
      if (other.env !== this.env)
        throw new ConfigError('union', 'a stream of another environment', 'streams of the same environment')
    return new DataStream<T>(
      this.env,
      this.env.addTransformation({
        kind: 'union',
        name: 'union',
        uid: undefined,
        parallelism: undefined,
        inputs: [this.transformation, ...others.map((o) => o.transformation)],
      }),
    )
  }

  /**
   * Partitions by key: each key's records go to one subtask, chosen by its key group.
   *
   * @example
   * orders.keyBy((o) => o.customerId)
   */
  keyBy(keySelector: (value: T) => Key): KeyedStream<T> {
    if (typeof keySelector !== 'function') throw new ConfigError('keyBy', keySelector, 'a function value => key')
    return new KeyedStream<T>(this.env, this.partition({ kind: 'hash', keySelector }), keySelector)
  }

  /** Spreads records round-robin over all subtasks downstream. */
  rebalance(): DataStream<T> {
    return new DataStream<T>(this.env, this.partition({ kind: 'rebalance' }))
  }

  /** Spreads records round-robin over a local group of subtasks downstream. */
  rescale(): DataStream<T> {
    return new DataStream<T>(this.env, this.partition({ kind: 'rescale' }))
  }

  /** Sends every record to every subtask downstream. */
  broadcast(): DataStream<T> {
    return new DataStream<T>(this.env, this.partition({ kind: 'broadcast' }))
  }

  /** Sends every record to subtask 0 downstream. */
  global(): DataStream<T> {
    return new DataStream<T>(this.env, this.partition({ kind: 'global' }))
  }

  /** Keeps records on the same subtask index downstream (needs equal parallelism). */
  forward(): DataStream<T> {
    return new DataStream<T>(this.env, this.partition({ kind: 'forward' }))
  }

  /**
   * Writes this stream to a sink.
   *
   * @example
   * stream.sinkTo(fileSink, { name: 'archive', parallelism: 2 })
   */
  sinkTo(sink: Sink<T>, options: OperatorOptions = {}): this {
    validateOperatorOptions(sink.name, options)
    this.env.addSink(
      this.env.addTransformation({
        kind: 'operator',
        name: options.name ?? sink.name,
        uid: options.uid,
        parallelism: options.parallelism ?? (sink.maxParallelism === 1 ? 1 : undefined),
        inputs: [this.transformation],
        createOperator: () => this.env.createSinkOperator(sink),
        errorPolicy: options.onError ?? 'escalate',
        chaining: options.chaining ?? 'default',
        isSink: true,
        commitsOnCheckpoint: sink.guarantee === 'exactly-once',
        maxParallelism: sink.maxParallelism,
      }),
    )
    return this
  }

  /**
   * Prints each record to standard output, one line each; at parallelism > 1 prefixed with the subtask
   * (`2> record`), as Flink's print().
   *
   * @example
   * counts.print('counts') // counts:1> {"word":"to","n":2}
   */
  print(prefix?: string): this {
    return this.sinkTo(printSink<T>({ target: 'stdout', ...(prefix === undefined ? {} : { prefix }) }), {
      name: 'print',
    })
  }

  /**
   * Prints each record to standard error, as Flink's printToErr().
   *
   * @example
   * errors.printToErr('errors')
   */
  printToErr(prefix?: string): this {
    return this.sinkTo(printSink<T>({ target: 'stderr', ...(prefix === undefined ? {} : { prefix }) }), {
      name: 'printToErr',
    })
  }

  /**
   * Writes each record as a line of text (a directory of files `1`, `2`, … at parallelism > 1).
   *
   * @example
   * stream.writeAsText('/tmp/out.txt', { writeMode: 'overwrite' })
   */
  writeAsText(path: string, options?: TextFileSinkOptions<T>): this {
    return this.sinkTo(textFileSink<T>(path, options), { name: 'writeAsText' })
  }

  /**
   * Writes each record as a CSV row.
   *
   * @example
   * stream.writeAsCsv('/tmp/out.csv', { fields: (o) => [o.id, o.total], header: ['id', 'total'] })
   */
  writeAsCsv(path: string, options?: CsvFileSinkOptions<T>): this {
    return this.sinkTo(csvFileSink<T>(path, options), { name: 'writeAsCsv' })
  }

  /**
   * Writes each record to a TCP server with a serializer.
   *
   * @example
   * stream.writeToSocket('127.0.0.1', 9000, { serializer: (v) => JSON.stringify(v) + '\n' })
   */
  writeToSocket(host: string, port: number, options?: SocketSinkOptions<T>): this {
    return this.sinkTo(socketSink<T>(host, port, options), { name: 'writeToSocket' })
  }

  /**
   * Runs a job of this stream's lineage for each subscription and emits its records; unsubscribing
   * cancels the job. The way to embed a job in a reactive service.
   *
   * @example
   * stream.toObservable().subscribe((v) => console.log(v))
   */
  toObservable(): Observable<T> {
    return this.env.observe(this)
  }

  /**
   * Runs a job of this stream's lineage and resolves with every record it produced.
   *
   * @example
   * const words = await env.fromElements('a', 'b').executeAndCollect()
   */
  executeAndCollect(): Promise<T[]> {
    return this.env.collect(this)
  }

  private partition(partitioning: Partitioning): Transformation {
    return this.env.addTransformation({
      kind: 'partition',
      name: partitioning.kind,
      uid: undefined,
      parallelism: undefined,
      input: this.transformation,
      partitioning,
    })
  }
}

/**
 * A stream partitioned by key; keyed operators (reduce, aggregate, process with state, windows) need one.
 *
 * @example
 * const byUser = events.keyBy((e) => e.user)
 */
export class KeyedStream<T> extends DataStream<T> {
  constructor(
    env: StreamBuilder,
    transformation: Transformation,
    readonly keySelector: (value: T) => Key,
  ) {
    super(env, transformation)
  }
}
