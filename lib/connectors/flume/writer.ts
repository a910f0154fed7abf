import { backoffDelay } from '../../util/backoff.js'
import { ConnectorError, describeValue, messageOf } from '../../errors.js'
import type { Counter } from '../../runtime/metric-group.js'
import type { SinkWriterContext } from '../../runtime/sink.js'
import { BatchingWriter } from '../base/batching-writer.js'
import type { AvroFlumeEvent } from './avro-protocol.js'
import { AvroHostClient } from './avro-host-client.js'
import { type FlumeHostClient, HostFailure } from './host-client.js'
import { HostOrder } from './host-order.js'
import { HttpHostClient } from './http-host-client.js'
import type { FlumeEvent, FlumeSinkSettings } from './options.js'

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({})
const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * The writer of a Flume sink, on {@link BatchingWriter}: events collect in batches of
 * `maxBatchRecords` (or what `lingerMs` gathered), one batch in flight at a time. A batch goes to the
 * hosts in the order of the client kind ({@link HostOrder}) until one accepts it; when none does it is
 * sent again after the `retry` backoff, and after `retry.maxRetries` the writer fails the job — a
 * batch is never dropped. A barrier and `close` wait until every batch before them is accepted.
 *
 * Metrics: `requests` (one per host tried), `retriedBatches`, `hostFailures`, `eventsSent`.
 *
 * @example
 * const writer = flumeSink({ hosts: agent.avro, mapper: (s: string) => ({ body: s }) }).createWriter(context)
 */
export class FlumeSinkWriter<T> extends BatchingWriter<T, AvroFlumeEvent[]> {
  private batch: AvroFlumeEvent[] = []
  private readonly clients: FlumeHostClient[]
  private readonly order: HostOrder
  private readonly retriedBatches: Counter
  private readonly hostFailures: Counter
  private readonly eventsSent: Counter
  private readonly target: string
  private closed = false

  constructor(
    private readonly settings: FlumeSinkSettings,
    private readonly mapper: (value: T) => FlumeEvent,
    context: SinkWriterContext,
  ) {
    super(context, {
      connector: 'flume-sink',
      maxBatchRecords: settings.maxBatchRecords,
      lingerMs: settings.lingerMs,
      maxInFlightRecords: settings.maxInFlightRecords,
      flushOnBarrier: true,
    })
    this.clients = settings.hosts.map((host) =>
      settings.transport === 'avro'
        ? new AvroHostClient(host, settings.connectTimeoutMs, settings.requestTimeoutMs)
        : new HttpHostClient(host, settings.requestTimeoutMs),
    )
    this.order = new HostOrder(settings, () => context.processingTime.now())
    this.retriedBatches = this.metrics.counter('retriedBatches')
    this.hostFailures = this.metrics.counter('hostFailures')
    this.eventsSent = this.metrics.counter('eventsSent')
    this.target = `flume sink (subtask ${context.subtask}): ${settings.transport} ${settings.hosts.map((h) => h.address).join(', ')}`
  }

  protected addToBatch(value: T): void {
    const event = this.mapper(value)
    const body = event?.body
    const headers = event?.headers ?? NO_HEADERS
    if (typeof body === 'string') {
      if (headers !== NO_HEADERS) this.checkHeaders(headers, event, value)
      this.batch.push({ headers, body: Buffer.from(body, 'utf8') })
      return
    }
    if (!(body instanceof Uint8Array)) throw this.badEvent(event, value)
    if (headers !== NO_HEADERS) this.checkHeaders(headers, event, value)
    if (this.settings.transport === 'http') {
      try {
        utf8.decode(body)
      } catch {
        throw new TypeError(
          `flume sink: the body of ${describeValue(value)} is not UTF-8 text, which Flume's HTTP JSONHandler cannot carry (use transport 'avro')`,
        )
      }
    }
    this.batch.push({
      headers,
      body: Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.length),
    })
  }

  protected takeBatch(): AvroFlumeEvent[] {
    const batch = this.batch
    this.batch = []
    return batch
  }

  protected async sendBatch(batch: AvroFlumeEvent[], count: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const failures: HostFailure[] = []
      for (const i of this.order.next()) {
        const client = this.clients[i]!
        this.requests.inc()
        try {
          await client.appendBatch(batch)
          this.order.succeeded(i)
          this.eventsSent.inc(count)
          return
        } catch (error) {
          const failure =
            error instanceof HostFailure ? error : new HostFailure('lost', client.address, messageOf(error))
          if (failure.kind === 'rejected')
            throw new ConnectorError(
              'ERR_SEND',
              `${this.target}: a batch of ${count} events was rejected: ${failure.message}`,
              {
                cause: failure,
                retriable: false,
              },
            )
          failures.push(failure)
          this.hostFailures.inc()
          this.order.failed(i)
          if (this.closed) break
        }
      }
      const summary = failures.map((f) => f.message).join('; ')
      if (attempt >= this.settings.retry.maxRetries || this.closed) {
        const unreachable = failures.every((f) => f.kind === 'connect')
        throw new ConnectorError(
          unreachable ? 'ERR_CONNECT' : 'ERR_SEND',
          `${this.target}: ${unreachable ? 'cannot connect' : `a batch of ${count} events was not accepted`} after ${attempt + 1} attempt(s): ${summary}`,
          { cause: failures.at(-1), retriable: true },
        )
      }
      const delayMs = backoffDelay(attempt, this.settings.retry)
      this.retriedBatches.inc()
      this.context.logger?.warn('flume sink: batch not accepted, sending it again', {
        events: count,
        attempt: attempt + 1,
        delayMs,
        reason: summary,
      })
      // A plain timer: a barrier may be waiting on this batch (see BatchingWriter).
      await new Promise((resolve) => setTimeout(resolve, delayMs))
    }
  }

  protected toFailure(error: unknown): Error {
    return error instanceof ConnectorError
      ? error
      : new ConnectorError('ERR_SEND', `${this.target}: ${messageOf(error)}`, { cause: error, retriable: true })
  }

  private checkHeaders(headers: unknown, event: unknown, value: T): void {
    if (typeof headers !== 'object' || headers === null) throw this.badEvent(event, value)
    for (const key in headers)
      if (typeof (headers as Record<string, unknown>)[key] !== 'string') throw this.badEvent(event, value)
  }

  private badEvent(event: unknown, value: T): TypeError {
    return new TypeError(
      `flume sink mapper returned ${describeValue(event)} for ${describeValue(value)}: expected { headers?: Record<string, string>, body: string | Uint8Array }`,
    )
  }

  /** Sends what is batched and waits until it is accepted (or has failed), then closes the connections. */
  override async close(): Promise<void> {
    await this.flush().catch(() => undefined)
    this.closed = true
    await super.close()
    for (const client of this.clients) client.close()
  }
}
