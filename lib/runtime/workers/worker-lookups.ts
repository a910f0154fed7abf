import { ActorError } from '../../errors.js'
import type { Key } from '../../state/key-groups.js'
import type { LookupSignal } from './lookup-signal.js'
import { revivedError } from './transferred-error.js'
import type { FromWorker, QueryableLookup, ToWorker } from './worker-protocol.js'

type Found = { found: boolean; value: unknown }

interface Waiting extends QueryableLookup {
  readonly resolve: (answer: Found) => void
  readonly reject: (error: unknown) => void
  readonly timeoutMs: number
}

/**
 * The coordinator's side of queryable-state lookups to one worker thread. The lookups that reach the
 * job server in one turn of the event loop leave in one message (at the end of the turn), and the
 * worker answers them all in one reply, between its subtasks' batches. A batch not answered within its
 * lookups' timeout rejects them with ERR_ASK_TIMEOUT (a busy subtask, as on one thread); a worker that
 * fails, exits or is stopped rejects what waits and what comes later with ERR_SUBTASK_STOPPED (the job
 * is restarting). Each batch raises the worker's {@link LookupSignal} before it leaves, so the worker
 * reads it at its next check of the clock rather than at the end of its time slice.
 *
 * @example
 * const lookups = new WorkerLookups((m) => worker.postMessage(m), signal)
 * worker.on('message', (m) => m.t === 'lookup-reply' && lookups.answer(m))
 * await lookups.lookup('clicks', '/checkout', 2_000) // { found: true, value: 3 }
 */
export class WorkerLookups {
  private queued: Waiting[] = []
  private readonly sent = new Map<number, { lookups: Waiting[]; timer: NodeJS.Timeout }>()
  private nextBatch = 0
  private gone: string | undefined

  constructor(
    private readonly post: (message: ToWorker) => void,
    private readonly signal: LookupSignal,
  ) {}

  /** Reads `key` of state `state` in the worker; resolves with whether it has a value, and the value. */
  lookup(state: string, key: Key, timeoutMs: number): Promise<Found> {
    if (this.gone !== undefined) return Promise.reject(stopped(this.gone))
    return new Promise((resolve, reject) => {
      if (this.queued.length === 0) setImmediate(() => this.flush())
      this.queued.push({ state, key, resolve, reject, timeoutMs })
    })
  }

  /** Settles the lookups of a batch with the worker's answers. */
  answer(reply: Extract<FromWorker, { t: 'lookup-reply' }>): void {
    const batch = this.sent.get(reply.batch)
    if (batch === undefined) return // timed out, or the worker is gone
    this.sent.delete(reply.batch)
    clearTimeout(batch.timer)
    reply.answers.forEach((answer, i) => {
      const waiting = batch.lookups[i]!
      if ('error' in answer) waiting.reject(revivedError(answer.error))
      else waiting.resolve(answer)
    })
  }

  /** The worker is gone (`why`): every lookup waiting for it, and every later one, is rejected. */
  fail(why: string): void {
    this.gone ??= why
    const waiting = [...this.queued, ...[...this.sent.values()].flatMap((b) => b.lookups)]
    for (const b of this.sent.values()) clearTimeout(b.timer)
    this.queued = []
    this.sent.clear()
    for (const w of waiting) w.reject(stopped(why))
  }

  private flush(): void {
    const lookups = this.queued
    this.queued = []
    if (lookups.length === 0) return
    const batch = this.nextBatch++
    const timeoutMs = Math.min(...lookups.map((l) => l.timeoutMs))
    const timer = setTimeout(() => {
      if (!this.sent.delete(batch)) return
      for (const l of lookups)
        l.reject(
          new ActorError('ERR_ASK_TIMEOUT', `queryable-state lookup timed out after ${timeoutMs} ms`, {
            retriable: true,
          }),
        )
    }, timeoutMs)
    this.sent.set(batch, { lookups, timer })
    this.signal.raise()
    this.post({ t: 'lookup', batch, lookups: lookups.map(({ state, key }) => ({ state, key })) })
  }
}

function stopped(why: string): ActorError {
  return new ActorError('ERR_SUBTASK_STOPPED', `the worker thread hosting the subtask is gone: ${why}`, {
    retriable: true,
  })
}
