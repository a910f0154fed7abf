import { parentPort } from 'node:worker_threads'
import { SluiceError } from '../../errors.js'
import type { Sink, SinkWriter } from '../sink.js'
import { recordForCrossing } from './crossing-errors.js'
import type { FromWorker } from './worker-protocol.js'

/**
 * The sink of `executeAndCollect()` on the worker executor: it runs in a worker thread and sends each
 * record to the coordinator on the worker's own port, ahead of its subtask's end, where the host hands
 * it to the collecting job (`workerSubtaskHost`'s `collected`). So the collected list is complete when
 * the job's result resolves, as on one thread; a restart sends again what the failed attempt had sent
 * (at-least-once, as a `CallbackSink`).
 *
 * @example
 * env.fromElements(1, 2).sinkTo(new CollectSink()) // on workers: the coordinator receives 1 and 2
 */
export class CollectSink<T> implements Sink<T> {
  readonly name = 'collect'
  readonly guarantee = 'at-least-once'

  createWriter(): SinkWriter<T> {
    const port = parentPort
    if (port === null)
      throw new SluiceError('ERR_WORKER_COLLECT', 'a collecting sink runs in a worker thread of the worker executor')
    return {
      write: (value) => port.postMessage({ t: 'collected', values: [recordForCrossing(value)] } satisfies FromWorker),
      close() {},
    }
  }
}
