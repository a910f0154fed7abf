import type { MessagePort } from 'node:worker_threads'
import type { CommitOutcome } from '../../lib/checkpoint/two-phase-commit-sink.js'
import { revivedError, type TransferredError, transferError } from '../../lib/runtime/workers/transferred-error.js'

/** A ledger transaction as the worker's writer holds it. */
export type LedgerTxn<T> = { id: string; records: T[] }

/** The protocol steps of a ledger sink that run where the {@link Ledger} is: on the coordinating thread. */
export interface LedgerSteps<T> {
  preCommit(txn: LedgerTxn<T>): Promise<void> | void
  commit(txn: LedgerTxn<T>): Promise<CommitOutcome> | CommitOutcome
  abort(txn: LedgerTxn<T>): Promise<void> | void
  fromState(state: unknown): LedgerTxn<T>
}

/** A step a worker's ledger writer asks the coordinating thread for; `state` names a restored transaction. */
type Ask<T> =
  | { readonly n: number; readonly step: 'preCommit'; readonly txn: LedgerTxn<T> }
  | { readonly n: number; readonly step: 'commit' | 'abort'; readonly txn: LedgerTxn<T>; readonly state: unknown }

type Answer =
  | { readonly n: number; readonly outcome: CommitOutcome | undefined }
  | { readonly n: number; readonly error: TransferredError }

/**
 * On the coordinating thread: runs the steps a worker's ledger writer asks for through `port` on this
 * thread's sink (its {@link Ledger}, its overrides, its fault flags), and answers each. The transactions of
 * one port (one subtask of one deployment) keep their identity here across pre-commit and commit, as a
 * writer's do on one thread; a restored one (unknown here) is rebuilt by the sink's own `fromState`.
 *
 * @example
 * serveLedger(steps, port1)
 */
export function serveLedger<T>(steps: LedgerSteps<T>, port: MessagePort): void {
  const transactions = new Map<string, LedgerTxn<T>>()
  const own = (ask: Ask<T>): LedgerTxn<T> => {
    let txn = transactions.get(ask.txn.id)
    if (txn === undefined) {
      txn = ask.step !== 'preCommit' && ask.state !== undefined ? steps.fromState(ask.state) : ask.txn
      transactions.set(ask.txn.id, txn)
    }
    return txn
  }
  port.on('message', async (ask: Ask<T>) => {
    try {
      const txn = ask.step === 'preCommit' ? ask.txn : own(ask)
      if (ask.step === 'preCommit') transactions.set(txn.id, txn)
      const outcome = await steps[ask.step](txn)
      port.postMessage({ n: ask.n, outcome: outcome ?? undefined } satisfies Answer)
    } catch (error) {
      port.postMessage({ n: ask.n, error: transferError(error) } satisfies Answer)
    }
  })
  port.unref()
}

/**
 * In a worker: the ledger writer's link to the coordinating thread ({@link serveLedger}). Each step is
 * one question and its answer; an error thrown there is thrown here, with its class where the executor
 * knows it.
 *
 * @example
 * await new LedgerLink(port2).ask('preCommit', txn)
 */
export class LedgerLink<T> {
  private next = 0
  private readonly waiting = new Map<number, { resolve: (a: Answer) => void }>()

  constructor(private readonly port: MessagePort) {
    port.on('message', (answer: Answer) => {
      this.waiting.get(answer.n)?.resolve(answer)
      this.waiting.delete(answer.n)
      if (this.waiting.size === 0) port.unref()
    })
    port.unref()
  }

  /** Asks for `step`; the port keeps the worker alive while an answer is awaited (a worker would exit meanwhile). */
  async ask(step: Ask<T>['step'], txn: LedgerTxn<T>, state?: unknown): Promise<CommitOutcome | undefined> {
    const n = this.next++
    if (this.waiting.size === 0) this.port.ref()
    const answered = new Promise<Answer>((resolve) => this.waiting.set(n, { resolve }))
    this.port.postMessage({ n, step, txn, state } as Ask<T>)
    const answer = await answered
    if ('error' in answer) throw revivedError(answer.error)
    return answer.outcome
  }
}
