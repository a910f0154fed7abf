import type { MessagePort } from 'node:worker_threads'
import { Observable, type Subscription } from 'rxjs'
import { errorsForCrossing, revivedErrors } from '../../runtime/workers/crossing-errors.js'
import { revivedError, type TransferredError, transferError } from '../../runtime/workers/transferred-error.js'

/** From a worker's observable reader to the coordinating thread. */
type ToObservable = { readonly t: 'subscribe' } | { readonly t: 'unsubscribe' }

/** From the coordinating thread to the reader: what the Observable emitted, in order. */
type FromObservable<T> =
  | { readonly t: 'subscribed' }
  /** `errors`: some values hold errors as data, to rebuild (crossing-errors.ts). */
  | { readonly t: 'values'; readonly values: T[]; readonly errors: boolean }
  | { readonly t: 'complete' }
  | { readonly t: 'error'; readonly error: TransferredError }

/**
 * On the coordinating thread: subscribes to `observable` when the reader of a subtask, in a worker,
 * asks through `port`, and posts what it emits there — the values of one synchronous burst (one
 * microtask) in one message, then its completion or error — until the reader unsubscribes or its
 * worker's port closes. So an Observable the application feeds on this thread (a `Subject` its handlers
 * call `next` on) reaches the job on the worker executor; the reader's buffer and overflow policy
 * apply there as on one thread. Values posted but not yet taken by the worker wait in the port, as long
 * as the worker's current slice lasts (a few ms of emissions).
 *
 * @example
 * serveObservable(subject, port1)
 */
export function serveObservable<T>(observable: Observable<T>, port: MessagePort): void {
  let subscription: Subscription | undefined
  let batch: T[] = []
  const flush = (): void => {
    if (batch.length === 0) return
    const values = batch
    batch = []
    const crossing = errorsForCrossing(values)
    port.postMessage({
      t: 'values',
      values: (crossing ?? values) as T[],
      errors: crossing !== undefined,
    } satisfies FromObservable<T>)
  }
  const end = (message: FromObservable<T>): void => {
    flush()
    port.postMessage(message)
  }
  port.on('message', (message: ToObservable) => {
    if (message.t === 'unsubscribe') {
      subscription?.unsubscribe()
      subscription = undefined
      return
    }
    subscription?.unsubscribe()
    // before subscribing, in the same turn: nothing the application emits falls between, and the
    // answer comes before anything a cold Observable emits while subscribing (its completion too)
    port.postMessage({ t: 'subscribed' } satisfies FromObservable<T>)
    subscription = observable.subscribe({
      next: (value) => {
        if (batch.push(value) === 1) queueMicrotask(flush)
      },
      error: (error) => end({ t: 'error', error: transferError(error) }),
      complete: () => end({ t: 'complete' }),
    })
  })
  port.on('close', () => subscription?.unsubscribe())
  port.unref()
}

/**
 * In a worker: the Observable of a subtask's reader whose source Observable lives on the coordinating
 * thread ({@link serveObservable}): subscribing asks the coordinator to subscribe, unsubscribing to
 * stop. `subscribed` settles once the coordinator has subscribed: the reader's `start()` waits for it,
 * so a job is running only when what the application emits from then on reaches it, as on one thread.
 *
 * @example
 * const { values, subscribed } = observableThrough<number>(port2)
 */
export function observableThrough<T>(port: MessagePort): {
  readonly values: Observable<T>
  readonly subscribed: Promise<void>
} {
  let markSubscribed!: () => void
  const subscribed = new Promise<void>((resolve) => {
    markSubscribed = resolve
  })
  const values = new Observable<T>((subscriber) => {
    const onMessage = (message: FromObservable<T>): void => {
      if (message.t === 'values') {
        if (message.errors) revivedErrors(message.values)
        for (const value of message.values) subscriber.next(value)
      } else if (message.t === 'subscribed') markSubscribed()
      else if (message.t === 'complete') subscriber.complete()
      else subscriber.error(revivedError(message.error))
    }
    port.on('message', onMessage)
    port.postMessage({ t: 'subscribe' } satisfies ToObservable)
    return () => {
      port.off('message', onMessage)
      port.postMessage({ t: 'unsubscribe' } satisfies ToObservable)
    }
  })
  return { values, subscribed }
}
