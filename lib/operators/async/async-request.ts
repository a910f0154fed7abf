/**
 * Where a request is in its life: `queued` (accepted while `capacity` requests were in flight, waits
 * for a slot), `running` (calling, waiting in a shared limiter, or waiting to retry), `done` (finished
 * with a result or an error, waits in its queue to be emitted).
 */
export type RequestStatus = 'queued' | 'running' | 'done'

/**
 * One record of an async operator and the request made for it. The `settled`, `timedOut` and
 * `retryDue` flags are its mailbox slots: the promise and timer callbacks only set them and hand the
 * request to the operator's inbox; everything else changes inside the subtask.
 */
export class AsyncRequest<IN, OUT> {
  status: RequestStatus = 'queued'
  attempts = 0
  startedAt = 0
  controller: AbortController | undefined = undefined
  timeoutTimer: ReturnType<typeof setTimeout> | undefined = undefined
  /** Cancels the retry scheduled on the subtask's processing-time service. */
  cancelRetry: (() => void) | undefined = undefined
  settled = false
  settledOk = false
  settledValue: unknown = undefined
  timedOut = false
  retryDue = false
  failed = false
  result: OUT | undefined = undefined
  error: unknown = undefined
  /** The unordered queue's segment (the records between two watermarks) this record belongs to. */
  segment: unknown = undefined

  constructor(
    readonly value: IN,
    readonly timestamp: number | undefined,
  ) {}

  get done(): boolean {
    return this.status === 'done'
  }

  /** Stops its timers; the request is finished or abandoned. */
  clearTimers(): void {
    if (this.timeoutTimer !== undefined) clearTimeout(this.timeoutTimer)
    this.cancelRetry?.()
    this.timeoutTimer = undefined
    this.cancelRetry = undefined
  }
}
