import { messageOf } from '../../errors.js'
import { createLogger, type Logger } from '../../logging.js'
import { Availability } from '../../runtime/availability.js'
import { MetricGroup } from '../../runtime/metric-group.js'
import type { InputStatus, SourceOutput, SourceReader, SourceReaderContext } from '../../runtime/source.js'
import { Deferred } from '../../util/deferred.js'
import { Fifo } from '../../util/fifo.js'
import { type AckStateV1, CheckpointAcks } from '../base/checkpoint-acks.js'
import { decodeFlowFiles, siteToSiteChecksum } from './flowfile-codec.js'
import { keepAlive, onTransaction } from './held-transaction.js'
import type { NiFiRecord, NiFiSourceSettings } from './options.js'
import { RemoteCluster } from './remote-cluster.js'
import { SiteToSiteClient, SiteToSiteError } from './site-to-site-client.js'

/** A receive transaction held open until the checkpoint covering its FlowFiles completes. */
interface HeldTransaction {
  readonly url: string
  readonly checksum: string
  readonly count: number
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
 *
 * Threading: every method runs on the subtask's mailbox; the pump is one async loop on it.
 * Bounds: at most `maxOpenTransactions` transactions (each ≤ batchCount FlowFiles) are held, which
 * caps throughput at maxOpenTransactions × batchCount per checkpoint interval.
 *
 * @example
 * env.fromSource(new NiFiSource({ urls: 'http://127.0.0.1:8080/nifi', portName: 'to-sluice' }), { uid: 'nifi' })
 */
export class NiFiReader implements SourceReader<NiFiRecord, AckStateV1> {
  private readonly buffer = new Fifo<Delivery>()
  private readonly available = new Availability()
  private readonly acks: CheckpointAcks<HeldTransaction>
  private readonly client: SiteToSiteClient
  private readonly cluster: RemoteCluster
  private readonly open = new Set<HeldTransaction>()
  private readonly confirms: PendingConfirm[] = []
  private readonly log: Logger
  private readonly metrics: MetricGroup
  private wake = new Deferred<void>()
  private readonly stopped = new Deferred<void>()
  private failure: Error | undefined
  private closed = false
  private pumping: Promise<void> | undefined

  constructor(
    private readonly settings: NiFiSourceSettings,
    private readonly context: SourceReaderContext,
    restored: readonly unknown[] = [],
  ) {
    const time = context.processingTime
    this.acks = new CheckpointAcks<HeldTransaction>(true, settings.dedupRetentionMs, () => time.now(), restored)
    this.client = new SiteToSiteClient(settings.client)
    this.cluster = new RemoteCluster(this.client, settings.address, settings.retry, time, 'nifiSource')
    this.log = (context.logger ?? createLogger()).child({ connector: 'nifi-source' })
    this.metrics = context.metrics ?? new MetricGroup('nifi')
    this.metrics.gauge('openTransactions', () => this.open.size)
    this.metrics.gauge('requestRetries', () => this.cluster.retries)
    this.metrics.gauge('rememberedUuids', () => this.acks.rememberedIds)
  }

  start(): void {
    this.pumping = this.pump()
  }

  pollNext(output: SourceOutput<NiFiRecord>): InputStatus {
    if (this.failure !== undefined) throw this.failure
    const delivery = this.buffer.shift()
    if (delivery === undefined) return 'nothing-available'
    if (this.acks.take(delivery.tx, delivery.flowFile.attributes.uuid)) output.collect(delivery.flowFile)
    else this.metrics.counter('duplicatesDropped').inc()
    return this.buffer.size > 0 ? 'more' : 'nothing-available'
  }

  isAvailable(): Promise<void> {
    return this.available.promise
  }

  snapshotState(checkpointId: number): AckStateV1[] {
    return this.acks.snapshot(checkpointId)
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
  }

  async close(): Promise<void> {
    this.closed = true
    this.wake.resolve()
    this.stopped.resolve()
    const open = [...this.open].filter((tx) => tx.state === 'open')
    for (const tx of open) tx.stopKeepAlive()
    // NiFi would hand these FlowFiles out again after the TTL; cancelling hands them out now.
    await Promise.all(open.map((tx) => this.client.cancel(tx.url).catch(() => undefined)))
    await this.pumping
    this.client.close()
  }

  private async pump(): Promise<void> {
    try {
      await this.cluster.connect()
      while (!this.closed) {
        // A fresh signal each round: a commit or a loss after this point wakes the wait below.
        if (this.wake.settled) this.wake = new Deferred<void>()
        if (this.open.size >= this.settings.maxOpenTransactions) {
          await this.wake.promise
          continue
        }
        const received = await this.cluster.call(async (peer) => {
          const tx = await this.client.begin(peer, 'receive', this.cluster.portId)
          try {
            return { tx, body: await this.client.receive(tx.url) }
          } catch (error) {
            this.client.cancel(tx.url).catch(() => undefined)
            throw error
          }
        })
        if (this.closed) {
          if (received.body !== undefined) await this.client.cancel(received.tx.url).catch(() => undefined)
          return
        }
        if (received.body === undefined) {
          await this.sleep(this.settings.pollIntervalMs)
          continue
        }
        this.hold(received.tx, received.body)
      }
    } catch (error) {
      if (this.closed) return
      this.failure = error instanceof Error ? error : new Error(messageOf(error))
      this.log.error('NiFi source failed', { error: messageOf(error) })
      this.available.signal()
    }
  }

  private hold(transaction: { url: string; ttlSeconds: number }, body: Buffer): void {
    const decoded = decodeFlowFiles(body)
    const tx: HeldTransaction = {
      url: transaction.url,
      checksum: siteToSiteChecksum(body),
      count: decoded.flowFiles.length,
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
        at: this.context.processingTime.now(),
      })
    }
    this.open.add(tx)
    if (tx.count === 0) {
      void this.commit(tx)
      return
    }
    tx.stopKeepAlive = keepAlive(this.client, transaction, this.context.processingTime, this.log, () => {
      this.lose(tx, 'expired on NiFi before its checkpoint completed (NiFi hands its FlowFiles out again)')
    })
    for (const flowFile of decoded.flowFiles) this.buffer.push({ tx, flowFile })
    this.available.signal()
  }

  private async commit(tx: HeldTransaction): Promise<void> {
    tx.state = 'committing'
    tx.stopKeepAlive()
    try {
      const result = await onTransaction(this.settings.retry, this.context.processingTime, () =>
        this.client.confirmReceived(tx.url, tx.checksum),
      )
      if (result === 'bad-checksum')
        return this.lose(tx, 'NiFi computed another CRC32 (it hands the FlowFiles out again)')
      tx.state = 'committed'
      this.open.delete(tx)
      this.metrics.counter('transactionsConfirmed').inc()
      this.wake.resolve()
    } catch (error) {
      const why = error instanceof SiteToSiteError && error.transactionGone ? 'expired on NiFi' : messageOf(error)
      this.lose(tx, `could not be confirmed: ${why}`)
    }
  }

  /** The transaction will not be confirmed: NiFi redelivers its FlowFiles, whose uuids stay remembered. */
  private lose(tx: HeldTransaction, why: string): void {
    if (tx.state === 'lost' || tx.state === 'committed') return
    tx.state = 'lost'
    tx.stopKeepAlive()
    this.open.delete(tx)
    this.metrics.counter('transactionsLost').inc()
    this.log.warn(`NiFi transaction ${why}; its redelivery is dropped by uuid`, {
      transaction: tx.url,
      flowFiles: tx.count,
    })
    this.wake.resolve()
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
    const time = this.context.processingTime
    return new Promise((resolve) => {
      const cancel = time.scheduleAt(time.now() + ms, resolve)
      this.stopped.promise.then(() => {
        cancel()
        resolve()
      })
    })
  }
}
