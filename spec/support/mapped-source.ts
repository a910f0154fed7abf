import type { InputStatus, Source, SourceOutput, SourceReader } from '../../lib/runtime/source.js'

/**
 * A connector's source whose records pass through `fn` inside the reader, with every other trait
 * (bounded, acknowledging on checkpoints, state) its own: the fault harness's number jobs
 * (spec/support/fault-jobs.ts) read a connector this way.
 *
 * @example
 * buildCountJob(env, plan, log, sink, mappedSource(new NiFiSource({ … }), (f) => Number(f.content)))
 */
export function mappedSource<A, B, Split>(source: Source<A, Split>, fn: (value: A) => B): Source<B, Split> {
  return {
    name: source.name,
    bounded: source.bounded,
    maxParallelism: source.maxParallelism,
    restoredSplits: source.restoredSplits,
    commitsOnCheckpoint: source.commitsOnCheckpoint,
    acknowledgesOnCheckpoint: source.acknowledgesOnCheckpoint,
    createReader: (context, restored) => new MappedReader(source.createReader(context, restored), fn),
  }
}

class MappedReader<A, B, Split> implements SourceReader<B, Split> {
  private outer: SourceOutput<B> | undefined
  private readonly inner: SourceOutput<A> = {
    collect: (value, timestamp) => this.outer!.collect(this.fn(value), timestamp),
    emitWatermark: (watermark) => this.outer!.emitWatermark(watermark),
    markIdle: () => this.outer!.markIdle(),
  }

  constructor(
    private readonly reader: SourceReader<A, Split>,
    private readonly fn: (value: A) => B,
  ) {}

  start(): void | Promise<void> {
    return this.reader.start()
  }

  pollNext(output: SourceOutput<B>): InputStatus {
    this.outer = output
    return this.reader.pollNext(this.inner)
  }

  isAvailable(): Promise<void> {
    return this.reader.isAvailable()
  }

  snapshotState(checkpointId: number): Split[] {
    return this.reader.snapshotState(checkpointId)
  }

  notifyCheckpointComplete(checkpointId: number): void | Promise<void> {
    return this.reader.notifyCheckpointComplete?.(checkpointId)
  }

  close(): void | Promise<void> {
    return this.reader.close()
  }
}
