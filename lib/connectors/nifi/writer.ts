import { ConnectorError, messageOf } from '../../errors.js'
import { createLogger, type Logger } from '../../logging.js'
import { MetricGroup } from '../../runtime/metric-group.js'
import type { SinkWriter, SinkWriterContext } from '../../runtime/sink.js'
import { ClosingProcessingTime } from '../../time/closing-processing-time.js'
import { Deferred } from '../../util/deferred.js'
import { encodeFlowFileInto, type FlowFile, siteToSiteChecksum } from './flowfile-codec.js'
import { cancelTransaction, keepAlive, onTransaction } from './held-transaction.js'
import type { NiFiSinkSettings } from './options.js'
import { RemoteCluster } from './remote-cluster.js'
import { SiteToSiteClient, SiteToSiteError } from './site-to-site-client.js'

/** The sink's checkpointed state (version 1): the transactions pre-committed for one checkpoint. */
export interface NiFiSinkStateV1 {
  readonly v: 1
  readonly checkpointId: number
  readonly transactions: ReadonlyArray<{ readonly url: string; readonly flowFiles: number }>
}

/** A send transaction whose FlowFiles NiFi holds, checksum verified, until it is committed. */
interface SentTransaction {
  readonly url: string
  readonly body: Buffer
  readonly count: number
  stopKeepAlive: () => void
  expired: boolean
}

/**
 * Writes FlowFiles to an input port of a remote NiFi in two phases:
 * - records are built into FlowFiles and encoded; every `batchCount` FlowFiles / `batchSizeBytes`
 *   (or after `batchDurationMs`, or at the barrier) they are sent in a transaction on the next peer
 *   (`POST …/transactions`, `POST …/flow-files`) and NiFi's CRC32 is checked against the client's (a
 *   mismatch cancels with BAD_CHECKSUM and sends again);
 * - the barrier waits until every send before it is in (pre-commit) and records in the checkpoint the
 *   URLs of every transaction not yet committed (those of an earlier checkpoint that did not complete
 *   too); the transactions stay open, their TTL extended;
 * - when the checkpoint completes they are committed (`DELETE …?responseCode=12`), and only then does
 *   NiFi hand the FlowFiles to its flow. A restored writer commits the transactions of the restored
 *   checkpoint first (a 404 there: already committed, or expired — logged).
 * A transaction that expired before its checkpoint completed is sent again and committed at once
 * (`resendExpired`), so a slow checkpoint costs no data; past a restart, only NiFi's TTL protects it.
 *
 * Threading: the subtask's mailbox; sends run concurrently, at most `maxOpenTransactions` at once.
 *
 * @example
 * const writer = new NiFiWriter(settings, context, [])
 * writer.write('hello', undefined)
 */
export class NiFiWriter<T> implements SinkWriter<T> {
  private readonly client: SiteToSiteClient
  private readonly cluster: RemoteCluster
  private readonly log: Logger
  private readonly metrics: MetricGroup
  /** The backoffs of the writer, released by `close()`; linger and TTL extensions keep the subtask's time. */
  private readonly time: ClosingProcessingTime
  private parts: Buffer[] = []
  private partsCount = 0
  private partsBytes = 0
  private lingerCancel: (() => void) | undefined
  private readonly sending = new Set<Promise<void>>()
  private slotFreed = new Deferred<void>()
  private epoch: SentTransaction[] = []
  /** Pre-committed transactions by checkpoint, until that checkpoint's (or a later one's) completion. */
  private readonly pending = new Map<number, SentTransaction[]>()
  /** Transactions whose commit a completion notice started and that have not been committed yet. */
  private readonly committing = new Set<SentTransaction>()
  private readonly connected: Promise<void>
  private failure: Error | undefined

  constructor(
    private readonly settings: NiFiSinkSettings<T>,
    private readonly context: SinkWriterContext,
    restored: readonly unknown[],
  ) {
    this.time = new ClosingProcessingTime(context.processingTime)
    this.client = new SiteToSiteClient(settings.client)
    this.cluster = new RemoteCluster(this.client, settings.address, settings.retry, this.time, 'nifiSink')
    this.log = (context.logger ?? createLogger()).child({ connector: 'nifi-sink' })
    this.metrics = context.metrics ?? new MetricGroup('nifi')
    this.metrics.gauge('requestRetries', () => this.cluster.retries)
    this.connected = this.cluster.connect()
    this.connected.catch((e: unknown) => this.fail(e))
    const urls = restored.flatMap((s) => stateOf(s).transactions.map((t) => t.url))
    for (const url of urls) this.track(this.commitRestored(url))
  }

  write(record: T, _timestamp: number | undefined): void {
    if (this.failure !== undefined) throw this.failure
    let flowFile: FlowFile
    try {
      flowFile = this.settings.flowFile(record)
      checkFlowFile(flowFile)
    } catch (error) {
      this.metrics.counter('invalidRecords').inc()
      this.log.warn('nifiSink.flowFile did not build a FlowFile; the record is skipped', { error: messageOf(error) })
      return
    }
    this.partsBytes += encodeFlowFileInto(flowFile, this.parts)
    this.partsCount++
    if (this.partsCount >= this.settings.client.batchCount || this.partsBytes >= this.settings.client.batchSizeBytes)
      this.sendBatch()
    else if (this.settings.batchDurationMs > 0 && this.lingerCancel === undefined) {
      const time = this.context.processingTime
      this.lingerCancel = time.scheduleAt(time.now() + this.settings.batchDurationMs, () => {
        this.lingerCancel = undefined
        this.sendBatch()
      })
    }
  }

  ready(): Promise<void> | undefined {
    if (this.sending.size < this.settings.maxOpenTransactions) return undefined
    return this.slotFreed.promise
  }

  async flush(_endOfInput: boolean): Promise<void> {
    this.sendBatch()
    await this.drain()
  }

  async snapshotState(checkpointId: number): Promise<NiFiSinkStateV1[]> {
    this.sendBatch()
    await this.drain()
    this.pending.set(checkpointId, this.epoch)
    this.epoch = []
    // Every transaction not yet committed is in this checkpoint's state: an earlier checkpoint that did
    // not complete (declined, or its notice still to come) is committed with this one, and a restore
    // from this one must commit it too (its records are before this barrier: no replay sends them again).
    const open = [...this.committing, ...[...this.pending.values()].flat()]
    return [{ v: 1, checkpointId, transactions: open.map((t) => ({ url: t.url, flowFiles: t.count })) }]
  }

  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    const due: SentTransaction[] = []
    for (const [id, sent] of this.pending)
      if (id <= checkpointId) {
        due.push(...sent)
        this.pending.delete(id)
      }
    for (const tx of due) this.committing.add(tx)
    await Promise.all(due.map((tx) => this.commit(tx).finally(() => this.committing.delete(tx))))
    if (this.failure !== undefined) throw this.failure
  }

  async close(): Promise<void> {
    this.lingerCancel?.()
    this.time.close()
    await Promise.allSettled([...this.sending])
    for (const tx of [...this.epoch, ...[...this.pending.values()].flat()]) tx.stopKeepAlive()
    // The transactions of this epoch are in no checkpoint: NiFi would drop them after the TTL; cancelling
    // drops them now. Pre-committed ones (in a checkpoint whose completion this writer did not see) are
    // left open for the restored writer to commit: cancelling them lost their FlowFiles on a failover.
    await Promise.all(this.epoch.map((tx) => this.cancel(tx.url)))
    this.client.close()
  }

  private sendBatch(): void {
    this.lingerCancel?.()
    this.lingerCancel = undefined
    if (this.partsCount === 0) return
    const body = Buffer.concat(this.parts)
    const count = this.partsCount
    this.parts = []
    this.partsCount = 0
    this.partsBytes = 0
    this.track(
      this.send(body, count).then((tx) => {
        this.epoch.push(tx)
      }),
    )
  }

  private track(work: Promise<void>): void {
    const p = work
      .catch((e: unknown) => this.fail(e))
      .finally(() => {
        this.sending.delete(p)
        this.slotFreed.resolve()
        this.slotFreed = new Deferred<void>()
      })
    this.sending.add(p)
  }

  private async drain(): Promise<void> {
    while (this.sending.size > 0) await Promise.allSettled([...this.sending])
    if (this.failure !== undefined) throw this.failure
  }

  /** Sends one batch in a new transaction, checksum verified; the transaction stays open. */
  private async send(body: Buffer, count: number): Promise<SentTransaction> {
    await this.connected
    const expected = siteToSiteChecksum(body)
    const sent = await this.cluster.call(async (peer) => {
      const tx = await this.client.begin(peer, 'send', this.cluster.portId)
      let checksum: string
      try {
        checksum = await this.client.send(tx.url, body)
      } catch (error) {
        await this.cancel(tx.url)
        throw error
      }
      if (checksum !== expected) {
        this.metrics.counter('badChecksums').inc()
        await this.cancel(tx.url, 'bad-checksum')
        throw new ConnectorError(
          'ERR_CHECKSUM',
          `NiFi computed CRC32 ${checksum}, the sink ${expected}: sending again`,
          {
            retriable: true,
          },
        )
      }
      return tx
    })
    this.metrics.counter('transactionsSent').inc()
    this.metrics.counter('flowFilesSent').inc(count)
    const tx: SentTransaction = { url: sent.url, body, count, stopKeepAlive: () => undefined, expired: false }
    tx.stopKeepAlive = keepAlive(this.client, sent, this.context.processingTime, this.log, () => {
      tx.expired = true
    })
    return tx
  }

  private async commit(tx: SentTransaction): Promise<void> {
    tx.stopKeepAlive()
    try {
      if (tx.expired) throw new SiteToSiteError(404, undefined, `${tx.url}: expired`, true)
      await onTransaction(this.settings.retry, this.time, async (attempt) => {
        try {
          return await this.client.commitSent(tx.url)
        } catch (error) {
          // A 404 on a retry: the failed attempt may have committed it. Resending would duplicate.
          if (attempt > 0 && error instanceof SiteToSiteError && error.transactionGone) {
            this.log.warn('NiFi no longer knows a transaction whose commit was retried: taken as committed', {
              transaction: tx.url,
            })
            return 'finished'
          }
          throw error
        }
      })
      this.metrics.counter('transactionsCommitted').inc()
      this.metrics.counter('flowFilesCommitted').inc(tx.count)
    } catch (error) {
      if (!(error instanceof SiteToSiteError && error.transactionGone && this.settings.resendExpired)) {
        this.fail(error)
        return
      }
      this.log.warn('a NiFi transaction expired before its checkpoint completed: sending its FlowFiles again', {
        transaction: tx.url,
        flowFiles: tx.count,
      })
      this.metrics.counter('transactionsResent').inc()
      try {
        const again = await this.send(tx.body, tx.count)
        await this.commit(again)
      } catch (e) {
        this.fail(e)
      }
    }
  }

  private async commitRestored(url: string): Promise<void> {
    await this.connected
    try {
      await onTransaction(this.settings.retry, this.time, () => this.client.commitSent(url))
      this.metrics.counter('restoredTransactionsCommitted').inc()
    } catch (error) {
      if (!(error instanceof SiteToSiteError && error.transactionGone)) throw error
      this.metrics.counter('restoredTransactionsGone').inc()
      this.log.warn(
        'a restored NiFi transaction is gone: committed before the restart, or expired (its FlowFiles are then lost)',
        {
          transaction: url,
        },
      )
    }
  }

  /** Cancels a transaction with retries (never rejects): none is left open for NiFi's TTL to end. */
  private cancel(url: string, why: 'cancel' | 'bad-checksum' = 'cancel'): Promise<void> {
    return cancelTransaction(this.client, url, this.settings.retry, this.time, this.log, why)
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return
    this.failure = error instanceof Error ? error : new Error(messageOf(error))
    this.log.error('NiFi sink failed', { error: messageOf(error) })
  }
}

function checkFlowFile(flowFile: FlowFile): void {
  if (flowFile === null || typeof flowFile !== 'object') throw new TypeError('not an object')
  if (!Buffer.isBuffer(flowFile.content)) throw new TypeError('content is not a Buffer')
  const attributes = flowFile.attributes
  if (attributes === null || typeof attributes !== 'object') throw new TypeError('attributes is not an object')
  for (const key of Object.keys(attributes))
    if (typeof attributes[key] !== 'string') throw new TypeError(`attribute ${key} is not a string`)
}

function stateOf(state: unknown): NiFiSinkStateV1 {
  const s = state as Partial<NiFiSinkStateV1> | null
  if (s === null || typeof s !== 'object' || s.v !== 1 || !Array.isArray(s.transactions))
    throw new ConnectorError(
      'ERR_STATE_VERSION',
      `NiFi sink state ${JSON.stringify(state)?.slice(0, 120)} is not version 1`,
    )
  return s as NiFiSinkStateV1
}
