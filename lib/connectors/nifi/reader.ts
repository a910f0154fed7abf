import { ConnectorError, messageOf } from '../../errors.js'
import { createLogger, type Logger } from '../../logging.js'
import { Availability } from '../../runtime/availability.js'
import { MetricGroup } from '../../runtime/metric-group.js'
import type { InputStatus, SourceOutput, SourceReader, SourceReaderContext } from '../../runtime/source.js'
import { ClosingProcessingTime } from '../../time/closing-processing-time.js'
import { Deferred } from '../../util/deferred.js'
import { Fifo } from '../../util/fifo.js'
import { type AckStateV1, CheckpointAcks } from '../base/checkpoint-acks.js'
import { decodeFlowFiles, siteToSiteChecksum } from './flowfile-codec.js'
import { cancelTransaction, keepAlive, onTransaction } from './held-transaction.js'
import type { NiFiRecord, NiFiSourceSettings } from './options.js'
import { RemoteCluster } from './remote-cluster.js'
import { SiteToSiteClient, SiteToSiteError } from './site-to-site-client.js'

/**
 * The receive transactions a reader held at a checkpoint (version 1). The reader restored from that
 * checkpoint confirms those whose FlowFiles were all taken before the barrier (`whole`: the checkpoint
 * covers them and it completed) and cancels the others, so that none waits for NiFi's TTL after a
 * crash. Kept beside the uuids ({@link AckStateV1}), in the same list of splits.
 */
export interface NiFiHeldStateV1 {
  readonly v: 1
  readonly held: ReadonlyArray<{ readonly url: string; readonly checksum: string; readonly whole: boolean }>
}

/** What the NiFi source checkpoints: the uuids to drop on redelivery, and the transactions it held. */
export type NiFiSourceSplit = AckStateV1 | NiFiHeldStateV1

/** A receive transaction held open until the checkpoint covering its FlowFiles completes. */
interface HeldTransaction {
  readonly url: string
  readonly checksum: string
  readonly count: number
  /** FlowFiles taken from the buffer (emitted or dropped as duplicates). */
  taken: number
  covered: number
  state: 'open' | 'committing' | 'committed' | 'lost'
  stopKeepAlive: () => void
}

interface Delivery {
  readonly tx: HeldTransaction
  readonly flowFile: NiFiRecord
}

/** Completed checkpoints' ids to forget once every transaction they cover is committed. */
interface PendingConfirm {
  readonly transactions: ReadonlySet<HeldTransaction>
  readonly confirm: () => void
}

/**
 * Reads an output port of a remote NiFi over HTTP site-to-site, exactly-once:
 * - a pump opens a transaction on the next peer, takes its FlowFiles (`GET …/flow-files`) and keeps
 *   the transaction alive (TTL extension) — NiFi holds those FlowFiles meanwhile;
 * - a transaction is confirmed to NiFi (`DELETE …?responseCode=12&checksum=<CRC32>`) only when the
 *   checkpoint covering all of its FlowFiles completes; then NiFi removes them from its queue;
 * - the `uuid` attributes of FlowFiles emitted and not yet confirmed are in the checkpoint
 *   ({@link CheckpointAcks}), so NiFi's redelivery of a transaction that expired, failed its checksum
 *   or belonged to a run that died is dropped, not emitted twice.
 * A body that cannot be decoded is dead-lettered from the first bad FlowFile on (the ones before are
 * emitted); the CRC still covers the whole body, so the transaction confirms.
 * No transaction is left open on NiFi by this reader: one it will not confirm (a failed receive, a
 * failed confirmation, closing) is cancelled, with retries, and `close()` waits for those requests
 * and for confirmations under way. With `endWhenIdleMs` the reader ends once the port stayed empty
 * that long; the job's final checkpoint confirms what it still holds.
 *
 * Threading: every method runs on the subtask's mailbox; the pump is one async loop on it.
 * Bounds: at most `maxOpenTransactions` transactions (each ≤ batchCount FlowFiles) are held, which
 * caps throughput at maxOpenTransactions × batchCount per checkpoint interval.
 *
 * @example
 * env.fromSource(new NiFiSource({ urls: 'http://127.0.0.1:8080/nifi', portName: 'to-sluice' }), { uid: 'nifi' })
 */
export class NiFiReader implements SourceReader<NiFiRecord, NiFiSourceSplit> {
  private readonly buffer = new Fifo<Delivery>()
  private readonly available = new Availability()
  private readonly acks: CheckpointAcks<HeldTransaction>
  private readonly client: SiteToSiteClient
  private readonly cluster: RemoteCluster
  private readonly open = new Set<HeldTransaction>()
  private readonly confirms: PendingConfirm[] = []
  private readonly log: Logger
  private readonly metrics: MetricGroup
  /** The waits of the reader (polls, backoffs), released by `close()`; TTL extensions keep the subtask's time. */
  private readonly time: ClosingProcessingTime
  private wake = new Deferred<void>()
  /** Confirmations and cancels under way: `close()` waits for them. */
  private readonly ending = new Set<Promise<void>>()
  private failure: Error | undefined
  private closed = false
  /** The port stayed empty for `endWhenIdleMs`: the pump stopped, and the reader ends once its buffer is. */
  private drained = false
  private lastDeliveryAt = 0
  private pumping: Promise<void> | undefined
  /** Transactions of the restored checkpoint, settled by subtask 0 (every subtask gets every split). */
  private readonly restoredHeld: NiFiHeldStateV1['held']

  constructor(
    private readonly settings: NiFiSourceSettings,
    private readonly context: SourceReaderContext,
    restored: readonly unknown[] = [],
  ) {
    const time = new ClosingProcessingTime(context.processingTime)
    this.time = time
    const held = restored.filter((s): s is NiFiHeldStateV1 => Array.isArray((s as NiFiHeldStateV1 | null)?.held))
    this.restoredHeld = context.subtask === 0 ? held.flatMap((s) => s.held) : []
    const uuids = restored.filter((s) => !held.includes(s as NiFiHeldStateV1))
    this.acks = new CheckpointAcks<HeldTransaction>(true, settings.dedupRetentionMs, () => time.now(), uuids)
    this.client = new SiteToSiteClient(settings.client)
    this.cluster = new RemoteCluster(this.client, settings.address, settings.retry, time, 'nifiSource')
    this.log = (context.logger ?? createLogger()).child({ connector: 'nifi-source' })
    this.metrics = context.metrics ?? new MetricGroup('nifi')
    this.metrics.gauge('openTransactions', () => this.open.size)
    this.metrics.gauge('requestRetries', () => this.cluster.retries)
    this.metrics.gauge('rememberedUuids', () => this.acks.rememberedIds)
  }

  start(): void {
    for (const tx of this.restoredHeld) this.track(this.settleRestored(tx))
    this.pumping = this.pump()
  }

  pollNext(output: SourceOutput<NiFiRecord>): InputStatus {
    if (this.failure !== undefined) throw this.failure
    const delivery = this.buffer.shift()
    if (delivery !== undefined) {
      delivery.tx.taken++
      if (this.acks.take(delivery.tx, delivery.flowFile.attributes.uuid)) output.collect(delivery.flowFile)
      else this.metrics.counter('duplicatesDropped').inc()
      if (this.buffer.size > 0) return 'more'
    }
    return this.drained ? 'end' : 'nothing-available'
  }

  isAvailable(): Promise<void> {
    return this.available.promise
  }

  snapshotState(checkpointId: number): NiFiSourceSplit[] {
    const state: NiFiSourceSplit[] = this.acks.snapshot(checkpointId)
    if (this.open.size === 0) return state
    const held = [...this.open].map((tx) => ({ url: tx.url, checksum: tx.checksum, whole: tx.taken === tx.count }))
    return [...state, { v: 1, held }]
  }

  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    const done = this.acks.complete(checkpointId)
    const covered = new Set<HeldTransaction>()
    for (const handles of done.handles)
      for (const tx of handles) {
        tx.covered++
        covered.add(tx)
      }
    this.confirms.push({ transactions: covered, confirm: done.confirm })
    await Promise.all(
      [...covered].filter((tx) => tx.state === 'open' && tx.covered >= tx.count).map((tx) => this.commit(tx)),
    )
    this.settleConfirms()
    if (this.failure !== undefined) throw this.failure
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.wake.resolve()
    this.time.close()
    // NiFi would hand these FlowFiles out again after the TTL; cancelling hands them out now. Their
    // uuids are in the checkpoints taken since they arrived, so a restored reader drops the redelivery.
    for (const tx of this.open) if (tx.state === 'open') this.drop(tx, true)
    await this.pumping
    while (this.ending.size > 0) await Promise.all([...this.ending])
    this.client.close()
  }

  private async pump(): Promise<void> {
    try {
      await this.cluster.connect()
      this.lastDeliveryAt = this.time.now()
      while (!this.closed) {
        // A fresh signal each round: a commit or a loss after this point wakes the wait below.
        if (this.wake.settled) this.wake = new Deferred<void>()
        if (this.open.size >= this.settings.maxOpenTransactions) {
          await this.wake.promise
          continue
        }
        const received = await this.cluster.call(async (peer) => {
          // A closed reader begins nothing more (the retries of a failing call stop here).
          if (this.closed) throw new ConnectorError('ERR_CLOSED', 'nifiSource: closed', { retriable: false })
          const tx = await this.client.begin(peer, 'receive', this.cluster.portId)
          try {
            return { tx, body: await this.client.receive(tx.url) }
          } catch (error) {
            this.cancel(tx.url)
            throw error
          }
        })
        if (this.closed) {
          if (received.body !== undefined) this.cancel(received.tx.url)
          return
        }
        const now = this.time.now()
        if (received.body !== undefined) {
          this.lastDeliveryAt = now
          this.hold(received.tx, received.body)
          continue
        }
        const idleEnd = this.settings.endWhenIdleMs
        if (idleEnd !== undefined && now - this.lastDeliveryAt >= idleEnd) {
          this.log.info('NiFi port stayed empty; the source ends', { idleMs: now - this.lastDeliveryAt })
          this.drained = true
          this.available.signal()
          return
        }
        await this.sleep(this.settings.pollIntervalMs)
      }
    } catch (error) {
      if (!this.closed) this.fail(error)
    }
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return
    this.failure = error instanceof Error ? error : new Error(messageOf(error))
    this.log.error('NiFi source failed', { error: messageOf(error) })
    this.available.signal()
  }

  private hold(transaction: { url: string; ttlSeconds: number }, body: Buffer): void {
    const decoded = decodeFlowFiles(body)
    const tx: HeldTransaction = {
      url: transaction.url,
      checksum: siteToSiteChecksum(body),
      count: decoded.flowFiles.length,
      taken: 0,
      covered: 0,
      state: 'open',
      stopKeepAlive: () => undefined,
    }
    this.metrics.counter('transactionsReceived').inc()
    this.metrics.counter('flowFilesReceived').inc(decoded.flowFiles.length)
    if (decoded.error !== undefined) {
      this.metrics.counter('deadLetters').inc()
      this.log.warn('NiFi sent a malformed FlowFile; the rest of the transaction goes to the dead letters', {
        transaction: tx.url,
        reason: decoded.error,
        bytes: decoded.rest?.length,
      })
      this.context.deadLetter?.({
        operator: 'nifiSource',
        subtask: this.context.subtask,
        reason: `malformed FlowFile: ${decoded.error}`,
        record: decoded.rest,
        at: this.time.now(),
      })
    }
    this.open.add(tx)
    if (tx.count === 0) {
      this.track(this.commit(tx))
      return
    }
    tx.stopKeepAlive = keepAlive(this.client, transaction, this.context.processingTime, this.log, () => {
      this.lose(tx, 'expired on NiFi before its checkpoint completed (NiFi hands its FlowFiles out again)', true)
    })
    for (const flowFile of decoded.flowFiles) this.buffer.push({ tx, flowFile })
    this.available.signal()
  }

  private commit(tx: HeldTransaction): Promise<void> {
    const done = this.confirm(tx)
    this.track(done)
    return done
  }

  private async confirm(tx: HeldTransaction): Promise<void> {
    tx.state = 'committing'
    tx.stopKeepAlive()
    try {
      const result = await onTransaction(this.settings.retry, this.time, () =>
        this.client.confirmReceived(tx.url, tx.checksum),
      )
      if (result === 'bad-checksum')
        return this.lose(tx, 'NiFi computed another CRC32 (it hands the FlowFiles out again)', false)
      tx.state = 'committed'
      this.open.delete(tx)
      this.metrics.counter('transactionsConfirmed').inc()
      this.wake.resolve()
    } catch (error) {
      const gone = error instanceof SiteToSiteError && error.transactionGone
      this.lose(tx, `could not be confirmed: ${gone ? 'expired on NiFi' : messageOf(error)}`, !gone)
    }
  }

  /**
   * A transaction held at the restored checkpoint: confirmed when that checkpoint covered all of its
   * FlowFiles, cancelled otherwise (its FlowFiles come again, those emitted before it dropped by uuid).
   * A 404: it is gone already (the old reader ended it, or NiFi's TTL did).
   */
  private async settleRestored(tx: NiFiHeldStateV1['held'][number]): Promise<void> {
    if (!tx.whole) {
      await cancelTransaction(this.client, tx.url, this.settings.retry, this.time, this.log)
      this.metrics.counter('restoredTransactionsCancelled').inc()
      return
    }
    try {
      const result = await onTransaction(this.settings.retry, this.time, () =>
        this.client.confirmReceived(tx.url, tx.checksum),
      )
      if (result === 'confirmed') this.metrics.counter('restoredTransactionsConfirmed').inc()
    } catch (error) {
      if (error instanceof SiteToSiteError && error.transactionGone) return
      this.log.warn('a restored NiFi transaction could not be confirmed; NiFi ends it after its TTL', {
        transaction: tx.url,
        error: messageOf(error),
      })
    }
  }

  /**
   * The transaction will not be confirmed: NiFi redelivers its FlowFiles, whose uuids stay remembered.
   * `mayBeOpen`: NiFi may still hold it (it did not answer 404 or a bad checksum): it is cancelled.
   * Only this reader knows which of them it emitted, and NiFi may hand them to another subtask (or,
   * once this reader has ended, to nobody in this job): then the reader fails, and the restore gives
   * every subtask every uuid of the checkpoint (`restoredSplits: 'union'`).
   */
  private lose(tx: HeldTransaction, why: string, mayBeOpen: boolean): void {
    if (tx.state === 'lost' || tx.state === 'committed') return
    this.drop(tx, mayBeOpen)
    this.metrics.counter('transactionsLost').inc()
    if (this.context.parallelism > 1 || this.drained) {
      this.fail(
        new ConnectorError(
          'ERR_TRANSACTION_LOST',
          `nifiSource: transaction ${tx.url} ${why}; NiFi hands its ${tx.count} FlowFiles out again, maybe to another subtask: restoring from the last checkpoint so that no subtask emits them twice`,
          { retriable: true },
        ),
      )
      return
    }
    this.log.warn(`NiFi transaction ${why}; its redelivery is dropped by uuid`, {
      transaction: tx.url,
      flowFiles: tx.count,
    })
  }

  /** Stops holding a transaction that will not be confirmed, and cancels it when NiFi may still hold it. */
  private drop(tx: HeldTransaction, cancel: boolean): void {
    tx.state = 'lost'
    tx.stopKeepAlive()
    this.open.delete(tx)
    if (cancel) this.cancel(tx.url)
    this.wake.resolve()
  }

  /** Cancels a transaction on NiFi, with retries; `close()` waits for it. */
  private cancel(url: string): void {
    this.track(cancelTransaction(this.client, url, this.settings.retry, this.time, this.log))
  }

  private track(request: Promise<void>): void {
    const p = request.finally(() => this.ending.delete(p))
    this.ending.add(p)
  }

  /** Forgets the uuids of completed checkpoints whose transactions are all confirmed, oldest first. */
  private settleConfirms(): void {
    while (this.confirms.length > 0) {
      const first = this.confirms[0]!
      const states = [...first.transactions].map((tx) => tx.state)
      if (states.some((s) => s === 'open' || s === 'committing')) return
      this.confirms.shift()
      // A lost transaction's uuids stay remembered until its redelivery arrives (or they expire).
      if (states.every((s) => s === 'committed')) first.confirm()
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.time.scheduleAt(this.time.now() + ms, resolve))
  }
}
