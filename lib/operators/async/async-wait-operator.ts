import { CancelledError } from '../../errors.js'
import { AsyncRetriesExhaustedError } from './async-retries-exhausted-error.js'
import type { Output } from '../../runtime/output.js'
import {
  handleUserError,
  type OperatorSetup,
  type OperatorStateEntries,
  StreamOperator,
} from '../../runtime/stream-operator.js'
import { AsyncIoMetrics, registerAsyncMetrics } from './async-io-metrics.js'
import type { AsyncFunction, ResolvedAsyncOptions } from './async-options.js'
import { AsyncRequest } from './async-request.js'
import { AsyncTimeoutError } from './async-timeout-error.js'
import { type ElementQueue, OrderedQueue, type QueueEmitter, UnorderedQueue } from './element-queue.js'
import { type InFlightInput, readInFlight, writeInFlight } from './in-flight-state.js'
import { Deferred } from '../../util/deferred.js'
import { Fifo } from '../../util/fifo.js'
import { retryDelayMs } from './retry-strategy.js'

type Request<IN, OUT> = AsyncRequest<IN, OUT>

/**
 * Calls an async function per record with at most `capacity` requests in flight (Flink's
 * AsyncWaitOperator), and emits the results in input order or as they come between watermarks.
 *
 * Threading: promise and timer callbacks only mark the request and post it to an inbox; the inbox is
 * drained by one `runInMailbox` call, inside the subtask, which decides retries and timeouts, starts
 * queued requests, emits what is due and settles `ready()`.
 *
 * Bounds: calls in flight ≤ capacity, always. Records held ≤ capacity − 1 + the records the subtask
 * hands over between two `ready()` checks (one input batch; for an operator chained to a source, what
 * the source emits in one run of its loop): the surplus waits, not started, in `queued`.
 *
 * End of input: `endInput()` returns a promise that settles when every held record has been emitted;
 * the runtime tells downstream of the end only then. `close()` finds nothing held after that; a close
 * without end of input (a torn-down embedded run) abandons what is held, as `abort()` does.
 */
export class AsyncWaitOperator<IN, OUT> extends StreamOperator<IN, OUT> {
  metrics!: AsyncIoMetrics

  override detailedMetrics(): Readonly<Record<string, unknown>> {
    return { ...this.metrics.snapshot() }
  }
  private readonly queue: ElementQueue<Request<IN, OUT>>
  private readonly waiting = new Fifo<Request<IN, OUT>>()
  private inbox: Request<IN, OUT>[] = []
  private drainScheduled = false
  private restored: InFlightInput[] = []
  private ending = false
  private stopped = false
  private readiness: Deferred | undefined
  private ended: Deferred | undefined
  private readonly emitter: QueueEmitter<Request<IN, OUT>> = {
    record: (request) => this.emit(request),
    watermark: (watermark) => this.output.emitWatermark(watermark),
  }

  constructor(
    private readonly fn: AsyncFunction<IN, OUT>,
    private readonly options: ResolvedAsyncOptions<IN, OUT>,
  ) {
    super()
    this.queue = options.ordered ? new OrderedQueue() : new UnorderedQueue()
  }

  override setup(setup: OperatorSetup, output: Output<OUT>): void {
    super.setup(setup, output)
    this.metrics = new AsyncIoMetrics(setup.name, setup.subtask, this.options.capacity, this.options.ordered)
    registerAsyncMetrics(this.metrics)
  }

  protected override restoreOperatorState(split: readonly unknown[]): void {
    for (const entry of split) for (const input of readInFlight(entry)) this.restored.push(input)
  }

  /** Requests taken back from a checkpoint go out again before any new input. */
  override open(): void {
    super.open()
    const restored = this.restored
    this.restored = []
    this.metrics.restored = restored.length
    for (const { value, timestamp } of restored) this.accept(new AsyncRequest<IN, OUT>(value as IN, timestamp))
  }

  processRecord(value: IN, timestamp: number | undefined): void {
    this.accept(new AsyncRequest<IN, OUT>(value, timestamp))
  }

  override processWatermark(watermark: number): void {
    if (!this.queue.addWatermark(watermark)) this.output.emitWatermark(watermark)
  }

  /** A promise while `capacity` records are held (after end of input: while any is), settled when fewer are. */
  override ready(): Promise<void> | undefined {
    if (this.stopped || !this.full()) return undefined
    this.readiness ??= new Deferred()
    return this.readiness.promise
  }

  override endInput(): void | Promise<void> {
    this.ending = true
    if (this.metrics.held === 0) return undefined
    this.ended ??= new Deferred()
    return this.ended.promise
  }

  override snapshotOperatorState(): OperatorStateEntries | undefined {
    if (this.metrics.held === 0) return undefined
    return { split: [writeInFlight(this.queue.requests())] }
  }

  override close(): void {
    super.close()
    const { held, inFlight } = this.metrics
    if (held === 0) return
    this.setupInfo.logger.info('async operator closed before its input ended: held requests abandoned', {
      held,
      inFlight,
    })
    this.stop(
      new CancelledError(
        `operator ${this.name} (subtask ${this.subtask}) closed with ${held} request(s) held before its input ended`,
      ),
    )
  }

  override abort(): void {
    super.abort()
    this.stop(new CancelledError(`operator ${this.name} (subtask ${this.subtask}) aborted`))
  }

  private full(): boolean {
    return this.ending ? this.metrics.held > 0 : this.metrics.held >= this.options.capacity
  }

  private accept(request: Request<IN, OUT>): void {
    this.queue.add(request)
    const m = this.metrics
    if (++m.held > m.maxHeld) m.maxHeld = m.held
    if (m.inFlight < this.options.capacity) this.start(request)
    else {
      this.waiting.push(request)
      m.queued++
    }
  }

  private start(request: Request<IN, OUT>): void {
    const m = this.metrics
    if (++m.inFlight > m.maxInFlight) m.maxInFlight = m.inFlight
    request.status = 'running'
    request.controller = new AbortController()
    request.startedAt = performance.now()
    if (this.options.timeoutMs !== undefined)
      request.timeoutTimer = setTimeout(this.onTimeoutTimer, this.options.timeoutMs, request)
    this.attempt(request)
  }

  private attempt(request: Request<IN, OUT>): void {
    const attempt = ++request.attempts
    const signal = request.controller!.signal
    const {
      fn,
      options: { limiter },
    } = this
    let pending: PromiseLike<OUT>
    try {
      // A call that waited in a shared limiter past its timeout is not made at all.
      pending =
        limiter === undefined
          ? fn(request.value, signal)
          : limiter.run(() => (signal.aborted ? Promise.reject(signal.reason) : fn(request.value, signal)))
    } catch (error) {
      pending = Promise.reject(error)
    }
    Promise.resolve(pending).then(
      (result) => this.onSettled(request, attempt, true, result),
      (error) => this.onSettled(request, attempt, false, error),
    )
  }

  // The callbacks below run outside the subtask: they only mark the request and post it.

  private onSettled(request: Request<IN, OUT>, attempt: number, ok: boolean, value: unknown): void {
    if (request.status !== 'running' || request.attempts !== attempt || this.stopped) return
    request.settled = true
    request.settledOk = ok
    request.settledValue = value
    this.post(request)
  }

  private readonly onTimeoutTimer = (request: Request<IN, OUT>): void => {
    request.timeoutTimer = undefined
    if (request.status !== 'running' || this.stopped) return
    request.timedOut = true
    this.post(request)
  }

  private readonly onRetryTimer = (request: Request<IN, OUT>): void => {
    request.cancelRetry = undefined
    if (request.status !== 'running' || this.stopped) return
    request.retryDue = true
    this.post(request)
  }

  private post(request: Request<IN, OUT>): void {
    this.inbox.push(request)
    if (this.drainScheduled) return
    this.drainScheduled = true
    this.setupInfo.runInMailbox(this.onMailbox)
  }

  // Inside the subtask from here on.

  private readonly onMailbox = (): void => {
    this.drainScheduled = false
    if (this.stopped) return
    const inbox = this.inbox
    this.inbox = []
    for (let i = 0; i < inbox.length; i++) this.handle(inbox[i]!)
    this.startQueued()
    this.queue.drain(this.emitter)
    this.settleReadiness()
  }

  private handle(request: Request<IN, OUT>): void {
    if (request.settled) {
      request.settled = false
      const value = request.settledValue
      request.settledValue = undefined
      if (request.status === 'running') this.attemptSettled(request, request.settledOk, value)
    }
    if (request.timedOut) {
      request.timedOut = false
      if (request.status === 'running') this.timedOut(request)
    }
    if (request.retryDue) {
      request.retryDue = false
      if (request.status === 'running') this.attempt(request)
    }
  }

  private attemptSettled(request: Request<IN, OUT>, ok: boolean, value: unknown): void {
    const retry = this.options.retry
    if (retry !== undefined && request.attempts < retry.maxAttempts) {
      let again: boolean
      try {
        again = ok ? (retry.retryOnResult?.(value as OUT) ?? false) : (retry.retryOnError?.(value) ?? true)
      } catch (error) {
        return this.finish(request, false, error)
      }
      if (again) {
        this.metrics.retries++
        // On the processing-time service (the subtask's mailbox; a test's manual clock): a retry is not
        // per record, so the closure costs nothing on the hot path.
        const clock = this.setupInfo.processingTime
        request.cancelRetry = clock.scheduleAt(clock.now() + retryDelayMs(retry, request.attempts), () =>
          this.onRetryTimer(request),
        )
        return
      }
    } else if (retry !== undefined && !ok && request.attempts > 1) {
      return this.finish(request, false, new AsyncRetriesExhaustedError(this.name, request.attempts, value))
    }
    this.finish(request, ok, value)
  }

  private timedOut(request: Request<IN, OUT>): void {
    this.metrics.timeouts++
    const timeout = new AsyncTimeoutError(this.name, this.options.timeoutMs!, request.attempts)
    request.controller?.abort(timeout)
    const fallback = this.options.fallback
    if (fallback === undefined) return this.finish(request, false, timeout)
    let result: OUT
    try {
      result = fallback(request.value)
    } catch (error) {
      return this.finish(request, false, error)
    }
    this.finish(request, true, result)
  }

  /** The request is over. A failure under escalate or restart fails the subtask now; under resume it becomes a dead letter in its turn. */
  private finish(request: Request<IN, OUT>, ok: boolean, value: unknown): void {
    const m = this.metrics
    request.status = 'done'
    request.clearTimers()
    request.controller = undefined
    m.inFlight--
    m.latency.record(performance.now() - request.startedAt)
    if (ok) {
      request.result = value as OUT
      m.completed++
    } else {
      request.failed = true
      request.error = value
      m.failures++
    }
    this.queue.complete(request)
    if (!ok && this.errorPolicy !== 'resume') handleUserError(this, request.value, value)
  }

  private startQueued(): void {
    const m = this.metrics
    while (this.waiting.size > 0 && m.inFlight < this.options.capacity) {
      m.queued--
      this.start(this.waiting.shift()!)
    }
  }

  private emit(request: Request<IN, OUT>): void {
    this.metrics.held--
    if (request.failed) handleUserError(this, request.value, request.error)
    else this.output.collect(request.result as OUT, request.timestamp)
  }

  private settleReadiness(): void {
    if (this.readiness !== undefined && !this.full()) {
      this.readiness.resolve()
      this.readiness = undefined
    }
    if (this.metrics.held === 0) this.ended?.resolve()
  }

  /** Gives up everything held: signals abort, timers stop, nothing more is emitted. */
  private stop(reason: Error): void {
    if (this.stopped) return
    this.stopped = true
    for (const request of this.queue.requests()) {
      request.clearTimers()
      request.controller?.abort(reason)
      request.controller = undefined
    }
    this.queue.clear()
    this.waiting.clear()
    this.inbox = []
    const m = this.metrics
    m.inFlight = m.queued = m.held = 0
    this.readiness?.resolve()
    this.readiness = undefined
    this.ended?.reject(reason)
  }
}
