import { StreamEnvironment } from '../lib/api/stream-environment.js'
import type { MetricGroup } from '../lib/runtime/metric-group.js'
import type { Source, SourceReader, SourceReaderContext } from '../lib/runtime/source.js'
import { CountingSink } from './counting-sink.js'
import { hotPhase, type RunResult, until } from './measure.js'

/** A message-queue source as the queue cases time it: its readers count what waits for acknowledgement. */
type QueueSource<M> = Omit<Source<M, unknown>, 'createReader'> & {
  createReader(context: SourceReaderContext, restored?: never): QueueReader<M>
}
type QueueReader<M> = SourceReader<M, unknown> & { readonly unacknowledged: number; readonly metrics: MetricGroup }

/**
 * The engine contender of a queue source case (RabbitMQ, ActiveMQ): `n` messages already waiting are
 * read by `source` into a counting sink with checkpoints every `checkpointMs`. At short intervals it is
 * timed until every message is acknowledged; at 1 s or more until every message reached the sink (the
 * acknowledgement of the last checkpoint then comes up to a second later: a latency, not a rate;
 * recorded as an extra), with the reader's window figures as extras.
 *
 * @example
 * const result = await queueSourceRun('rabbitmq', new RabbitMQSource({ queue }), (m) => numberOf(m.content), n, 20)
 */
export async function queueSourceRun<M>(
  name: string,
  source: QueueSource<M>,
  numberOf: (message: M) => number,
  n: number,
  checkpointMs: number,
): Promise<RunResult> {
  const sink = new CountingSink(numberOf)
  const readers: QueueReader<M>[] = []
  const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: checkpointMs } })
  env
    .fromSource({
      ...source,
      name: source.name,
      bounded: false,
      createReader: (c: SourceReaderContext, r?: unknown[]) => {
        const reader = source.createReader(c, r as never)
        readers.push(reader)
        return reader
      },
    })
    .sinkTo(sink)
  const phase = hotPhase()
  const job = env.executeAsync(`bench: ${name} source`)
  const slow = checkpointMs >= 1000
  await until(() => sink.output >= n && (slow || readers[0]?.unacknowledged === 0))
  const time = phase.end()
  await until(() => readers[0]?.unacknowledged === 0)
  const acknowledgedMs = phase.end().ms
  await job.cancel()
  const metrics = readers[0]!.metrics
  return {
    records: n,
    output: sink.output,
    checksum: sink.checksum,
    ...time,
    extra: {
      'max unacknowledged': metrics.value('maxUnacknowledged')!,
      'max window': metrics.value('maxWindow')!,
      'max unacknowledged MB': Math.round(metrics.value('maxUnacknowledgedBytes')! / 1e4) / 100,
      ...(slow ? { 'ms until all acknowledged': Math.round(acknowledgedMs) } : {}),
    },
  }
}
