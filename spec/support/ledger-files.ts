import { randomUUID } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { access, open, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { type CommitOutcome, TwoPhaseCommitSink } from '../../lib/checkpoint/two-phase-commit-sink.js'

/**
 * A transactional store in a directory that survives the process: a pre-commit writes the
 * transaction's records to `staged/<id>.json` atomically (temporary name, fsync, rename); a commit
 * renames it into `committed/`, and is idempotent (a transaction already in `committed/` is
 * 'already-committed'); an abort deletes the staged file. The output is the concatenation of the
 * committed files. An empty transaction writes no file.
 *
 * @example
 * const ledger = new FileLedger('/tmp/job/ledger'); stream.sinkTo(new FileLedgerSink(ledger))
 * FileLedger.readCommitted('/tmp/job/ledger') // every committed record
 */
export class FileLedger {
  readonly staged: string
  readonly committed: string

  constructor(readonly directory: string) {
    this.staged = join(directory, 'staged')
    this.committed = join(directory, 'committed')
    mkdirSync(this.staged, { recursive: true })
    mkdirSync(this.committed, { recursive: true })
  }

  async stage(id: string, records: readonly unknown[]): Promise<void> {
    const path = join(this.staged, `${id}.json`)
    const temp = `${path}.${process.pid}.tmp`
    const file = await open(temp, 'w')
    try {
      await file.writeFile(JSON.stringify(records))
      await file.sync()
    } finally {
      await file.close()
    }
    await rename(temp, path)
  }

  async commit(id: string): Promise<CommitOutcome> {
    const target = join(this.committed, `${id}.json`)
    try {
      await rename(join(this.staged, `${id}.json`), target)
      return 'committed'
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      if (await exists(target)) return 'already-committed'
      throw new Error(`transaction ${id} is neither staged nor committed in ${this.directory}`)
    }
  }

  async abort(id: string): Promise<void> {
    await rm(join(this.staged, `${id}.json`), { force: true })
  }

  /** Every committed record, in no particular order across transactions. */
  static readCommitted<T>(directory: string): T[] {
    const dir = join(directory, 'committed')
    const out: T[] = []
    for (const name of readdirSync(dir))
      if (name.endsWith('.json')) out.push(...(JSON.parse(readFileSync(join(dir, name), 'utf8')) as T[]))
    return out
  }

  /** How many transactions are committed and how many staged ones were left behind. */
  static census(directory: string): { committed: number; staged: number } {
    const count = (d: string): number => readdirSync(join(directory, d)).filter((n) => n.endsWith('.json')).length
    return { committed: count('committed'), staged: count('staged') }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

type Txn<T> = { id: string; records: T[]; size: number }

/**
 * An exactly-once sink into a {@link FileLedger}, on the two-phase-commit base: it survives the
 * process being killed at any moment, because what a checkpoint records (the ids of pre-committed
 * transactions) is on disk in the staged directory before the checkpoint can complete.
 *
 * @example
 * stream.sinkTo(new FileLedgerSink(new FileLedger(dir)), { uid: 'ledger' })
 */
export class FileLedgerSink<T> extends TwoPhaseCommitSink<T, Txn<T>> {
  readonly name = 'file-ledger'

  constructor(private readonly ledger: FileLedger) {
    super()
  }

  protected beginTransaction(): Txn<T> {
    return { id: randomUUID(), records: [], size: 0 }
  }

  protected write(txn: Txn<T>, value: T): void {
    txn.records.push(value)
  }

  protected async preCommit(txn: Txn<T>): Promise<void> {
    txn.size = txn.records.length
    if (txn.size > 0) await this.ledger.stage(txn.id, txn.records)
  }

  protected commit(txn: Txn<T>): Promise<CommitOutcome> | CommitOutcome {
    return txn.size === 0 ? 'committed' : this.ledger.commit(txn.id)
  }

  protected abort(txn: Txn<T>): Promise<void> {
    return this.ledger.abort(txn.id)
  }

  protected toState(txn: Txn<T>): unknown {
    return { id: txn.id, size: txn.size }
  }

  protected fromState(state: unknown): Txn<T> {
    const { id, size } = state as { id: string; size: number }
    return { id, records: [], size }
  }
}
