import { Observable, Subject, type OperatorFunction } from 'rxjs'
import { CallbackSink } from '../connectors/collections/callback-sink.js'
import { createLogger } from '../logging.js'
import { runInline } from '../runtime/inline-executor.js'
import type { OutputTag } from '../runtime/output-tag.js'
import { StreamGraph } from '../runtime/stream-graph.js'
import { requireStream } from './data-stream.js'
import { applyStage } from './stage.js'
import { StreamEnvironment } from './stream-environment.js'

/**
 * The Observable an engine operator returns in a plain RxJS `pipe` (embedded mode). Consecutive engine
 * operators gather here and run as one inline job per subscription, so `keyBy`, windows and keyed
 * state behave as in the engine, without actors or checkpoints.
 *
 * @example
 * from([1, 2, 3]).pipe(keyBy((x) => x % 2), reduce((a, b) => a + b)).subscribe(console.log)
 */
export class EmbeddedStream<T> extends Observable<T> {
  private readonly sides = new Map<string, Subject<unknown>>()

  private constructor(
    private readonly upstream: Observable<unknown>,
    private readonly stages: readonly OperatorFunction<any, any>[],
  ) {
    super((subscriber) => {
      const env = StreamEnvironment.create({ parallelism: 1 })
      let current: unknown = env.fromObservable(this.upstream, {
        overflow: 'fail',
        bufferSize: Number.MAX_SAFE_INTEGER,
      })
      for (const stage of this.stages) current = applyStage(current, stage)
      const stream = requireStream(current, 'embedded pipe')
      stream.sinkTo(new CallbackSink<T>((value) => subscriber.next(value)))
      for (const [id, subject] of this.sides)
        stream.getSideOutput({ id } as OutputTag<unknown>).sinkTo(new CallbackSink((value) => subject.next(value)))
      const graph = StreamGraph.build(env.sinkTransformations(), {
        parallelism: 1,
        maxParallelism: env.config.maxParallelism,
        singleSubtask: true,
      })
      return runInline(graph, subscriber, createLogger().child({ mode: 'embedded' }))
    })
  }

  /** Adds an engine operator to the stages of `source`, or starts them. */
  static extend<I, O>(source: Observable<I>, operator: OperatorFunction<I, O>): EmbeddedStream<O> {
    if (source instanceof EmbeddedStream) return new EmbeddedStream<O>(source.upstream, [...source.stages, operator])
    return new EmbeddedStream<O>(source, [operator])
  }

  /**
   * What the last operator sent to a side output, while this stream runs; subscribe before it runs.
   *
   * @example
   * const main$ = readings$.pipe(keyBy(r => r.id), window(tumbling(1000), { lateOutput: late }), reduce(sum))
   * main$.sideOutput(late).subscribe(logLate); main$.subscribe(save)
   */
  sideOutput<X>(tag: OutputTag<X>): Observable<X> {
    let subject = this.sides.get(tag.id)
    if (subject === undefined) {
      subject = new Subject<unknown>()
      this.sides.set(tag.id, subject)
    }
    return subject as Observable<X>
  }
}
