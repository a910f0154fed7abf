import { ConnectorError, messageOf } from '../../errors.js'
import { Availability } from '../../runtime/availability.js'
import type { InputStatus, SourceOutput, SourceReader, SourceReaderContext } from '../../runtime/source.js'
import { RedisLink } from './connection.js'
import { PendingEntries } from './pending-entries.js'
import type { RedisStreamEntry, RedisStreamSplit, RedisStreamSettings } from './options.js'
import { Fifo } from '../../util/fifo.js'

/** What the next read does: own pending entries from the cursor, claim idle ones, compare counts, or new entries. */
type Step = 'pending' | 'claim' | 'check' | 'new'

/** Ids per XACK command. */
const ACK_CHUNK = 10_000

/**
 * The reader of {@link RedisStreamSource} for one subtask. Two connections: one for the blocking
 * reads, one for XACK and the group commands (an XACK must not wait behind a BLOCK). One read at a
 * time; each is sized by the room left in the buffer and under `maxUnacknowledged`.
 *
 * `unacknowledged` (entries read and not yet acknowledged) never exceeds `maxUnacknowledged`;
 * `maxUnacknowledgedSeen` is its high-water mark, for tests and metrics.
 *
 * @example
 * const reader = new RedisStreamSource({ stream: 's', group: 'g' }).createReader(context)
 * await reader.start()
 */
export class RedisStreamReader implements SourceReader<RedisStreamEntry, RedisStreamSplit> {
  readonly consumer: string
  private readonly commands: RedisLink
  private readonly reads: RedisLink
  private readonly available = new Availability()
  private readonly buffer = new Fifo<RedisStreamEntry>()
  private readonly pending = new PendingEntries()
  private step: Step = 'pending'
  private cursor = '0'
  /** The consumer names of this job's subtasks: never claimed from. */
  private readonly siblings: ReadonlySet<string>
  private reading = false
  private started = false
  private ended = false
  private closed = false
  private failure: ConnectorError | undefined
  private lastCheckAt = 0
  /** A reconnection happened during a read: rescan once it is done. */
  private rescanRequested = false
  /** Bounded: nothing new came; the next check decides whether the stream ended. */
  private checkingForEnd = false
  /** Entries read (pending, claimed, new), acknowledged, and claimed from other consumers. */
  readonly counts = { read: 0, acknowledged: 0, claimed: 0, deleted: 0, restoredAcknowledged: 0, rescans: 0 }

  constructor(
    private readonly settings: RedisStreamSettings,
    context: SourceReaderContext,
    private readonly restoredIds: readonly string[],
  ) {
    this.consumer = `${settings.consumer}-${context.subtask}`
    this.siblings = new Set(Array.from({ length: context.parallelism }, (_, i) => `${settings.consumer}-${i}`))
    this.commands = new RedisLink(settings.connection, settings.retry, 'redisStreamSource')
    this.reads = this.commands.duplicate()
    for (const link of [this.commands, this.reads]) link.onFailure((error) => this.fail(error))
  }

  /** Entries read and not acknowledged now. */
  get unacknowledged(): number {
    return this.pending.size
  }

  /** The most entries ever read and not yet acknowledged at once. */
  get maxUnacknowledgedSeen(): number {
    return this.pending.maxSize
  }

  /** Entries read and not yet handed to the job. */
  get buffered(): number {
    return this.buffer.size
  }

  /** Connections made after the first ones (reconnections). */
  get reconnections(): number {
    return Math.max(0, this.commands.connections - 1) + Math.max(0, this.reads.connections - 1)
  }

  async start(): Promise<void> {
    await Promise.all([this.commands.ready(), this.reads.ready()])
    const { stream, group, startId } = this.settings
    try {
      await this.commands.client.call('XGROUP', 'CREATE', stream, group, startId, 'MKSTREAM')
    } catch (error) {
      if (!/BUSYGROUP/.test(messageOf(error))) throw this.commandError('XGROUP CREATE', error)
    }
    // Exactly-once: what the restored checkpoint covers is done; acknowledge it before reading, so
    // Redis does not hand it out again (XACK of an id no longer pending does nothing).
    for (let i = 0; i < this.restoredIds.length; i += ACK_CHUNK) {
      const chunk = this.restoredIds.slice(i, i + ACK_CHUNK)
      this.counts.restoredAcknowledged += Number(await this.commands.client.call('XACK', stream, group, ...chunk))
    }
    // A reply lost with a dropped connection leaves entries pending here: look again from id 0.
    this.reads.onReady(() => this.rescan())
    this.started = true
    this.lastCheckAt = Date.now()
    this.pump()
  }

  pollNext(output: SourceOutput<RedisStreamEntry>): InputStatus {
    const entry = this.buffer.shift()
    if (entry !== undefined) {
      output.collect(entry)
      this.pending.emitted(entry.id)
      if (!this.reading) this.pump()
      if (this.buffer.size > 0) return 'more'
    }
    if (this.failure !== undefined) throw this.failure
    return this.ended && this.buffer.size === 0 ? 'end' : 'nothing-available'
  }

  isAvailable(): Promise<void> {
    return this.available.promise
  }

  /** The ids emitted since the last barrier now wait for this checkpoint; exactly-once keeps every unacknowledged one. */
  snapshotState(checkpointId: number): RedisStreamSplit[] {
    this.pending.barrier(checkpointId)
    if (!this.settings.exactlyOnce) return []
    return [
      { v: 1, stream: this.settings.stream, group: this.settings.group, ids: this.pending.unacknowledgedEmitted() },
    ]
  }

  /** XACKs what this checkpoint and the earlier ones cover. */
  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    const ids = this.pending.completed(checkpointId)
    if (ids.length === 0) return
    try {
      for (let i = 0; i < ids.length; i += ACK_CHUNK) {
        if (this.closed) return
        const chunk = ids.slice(i, i + ACK_CHUNK)
        await this.commands.client.call('XACK', this.settings.stream, this.settings.group, ...chunk)
        this.pending.acknowledged(chunk)
        this.counts.acknowledged += chunk.length
      }
    } catch (error) {
      if (this.closed) return
      throw this.commands.failure ?? this.commandError('XACK', error)
    } finally {
      this.pending.settled(ids)
    }
    this.pump()
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.all([this.reads.close(true), this.commands.close()])
  }

  /** Starts the next read when none runs and there is room. */
  private pump(): void {
    if (this.reading || !this.started || this.closed || this.ended || this.failure !== undefined) return
    const { maxBuffered, maxUnacknowledged, batchSize, checkIntervalMs } = this.settings
    const room = Math.min(maxBuffered - this.buffered, maxUnacknowledged - this.pending.size)
    if (room <= 0) return
    if (this.step === 'new' && Date.now() - this.lastCheckAt >= checkIntervalMs) this.step = 'check'
    this.reading = true
    const step = this.step
    this.pending.readingPending(step !== 'new')
    this.read(step, Math.min(batchSize, room)).then(
      () => {
        this.reading = false
        this.pending.readingPending(false)
        if (this.rescanRequested) {
          this.rescanRequested = false
          this.rescan()
        }
        this.pump()
      },
      (error) => {
        this.reading = false
        this.pending.readingPending(false)
        if (!this.closed)
          this.fail(
            this.reads.failure ??
              this.commands.failure ??
              this.commandError(
                step === 'claim' ? 'XPENDING IDLE / XCLAIM' : step === 'check' ? 'XPENDING' : 'XREADGROUP',
                error,
              ),
          )
      },
    )
  }

  private async read(step: Step, count: number): Promise<void> {
    const { stream, group, blockMs, bounded, claimIdleMs } = this.settings
    const client = this.reads.client
    switch (step) {
      case 'pending': {
        const reply = await client.call(
          'XREADGROUP',
          'GROUP',
          group,
          this.consumer,
          'COUNT',
          count,
          'STREAMS',
          stream,
          this.cursor,
        )
        const entries = entriesOf(reply)
        const deleted: string[] = []
        for (const [id, fields] of entries) {
          this.cursor = id
          if (fields === null) deleted.push(id)
          else if (!this.pending.known(id)) this.accept(id, fields)
        }
        if (deleted.length > 0) await this.acknowledgeDeleted(deleted)
        if (entries.length < count) this.nextAfterPending()
        return
      }
      case 'claim': {
        // Idle entries of consumers that are not subtasks of this job (a dead process, a parallelism given
        // up). A sibling's entries are never claimed: a restored sibling re-reads its own pending list,
        // which does not reset their idle time, so claiming them would emit them twice.
        const idle = (await client.call('XPENDING', stream, group, 'IDLE', claimIdleMs, this.cursor, '+', count)) as [
          string,
          string,
        ][]
        const foreign: string[] = []
        for (const [id, owner] of idle) if (!this.siblings.has(owner) && !this.pending.known(id)) foreign.push(id)
        if (foreign.length > 0) {
          // XCLAIM checks the idle time again: of two readers claiming one entry, only the first gets it
          const claimed = entriesOf([
            [stream, await client.call('XCLAIM', stream, group, this.consumer, claimIdleMs, ...foreign)],
          ])
          const deleted: string[] = []
          for (const [id, fields] of claimed) {
            if (fields === null)
              deleted.push(id) // Redis < 7 answers an entry deleted while pending with nil
            else if (!this.pending.known(id)) {
              this.counts.claimed++
              this.accept(id, fields)
            }
          }
          if (deleted.length > 0) await this.acknowledgeDeleted(deleted)
        }
        if (idle.length < count) {
          this.step = 'new'
          this.lastCheckAt = Date.now()
        } else this.cursor = `(${idle[idle.length - 1]![0]}`
        return
      }
      case 'check': {
        // Entries pending for this consumer that it does not know of: a reply lost on a dropped
        // connection, or a read of a crashed predecessor of the same name that landed late.
        const reply = (await this.commands.client.call('XPENDING', stream, group)) as [
          number,
          unknown,
          unknown,
          [string, string][] | null,
        ]
        const mine = Number(reply[3]?.find(([name]) => name === this.consumer)?.[1] ?? 0)
        this.lastCheckAt = Date.now()
        if (mine > this.pending.size) this.rescan()
        else if (this.checkingForEnd) this.end()
        else if (claimIdleMs > 0) this.claimNext()
        else this.step = 'new'
        return
      }
      case 'new': {
        const args: (string | number)[] = ['GROUP', group, this.consumer, 'COUNT', count]
        if (!bounded) args.push('BLOCK', blockMs)
        const entries = entriesOf(await client.call('XREADGROUP', ...args, 'STREAMS', stream, '>'))
        // an id in flight again: a Redis that lost its last deliveries (no fsync'd persistence) hands them out anew
        for (const [id, fields] of entries) if (fields !== null && !this.pending.has(id)) this.accept(id, fields)
        if (bounded && entries.length === 0) {
          // nothing new: end once a check shows nothing of ours pending unseen
          this.checkingForEnd = true
          this.step = 'check'
        }
        return
      }
    }
  }

  private nextAfterPending(): void {
    if (this.settings.claimIdleMs > 0) this.claimNext()
    else this.step = 'new'
  }

  private claimNext(): void {
    this.step = 'claim'
    this.cursor = '-'
  }

  /** Reads this consumer's pending entries again from id 0 (skipping those in flight), after the read that runs. */
  private rescan(): void {
    if (!this.started) return
    if (this.reading) {
      this.rescanRequested = true
      return
    }
    this.counts.rescans++
    this.step = 'pending'
    this.cursor = '0'
    this.checkingForEnd = false
  }

  private end(): void {
    this.ended = true
    this.available.signal()
  }

  private accept(id: string, flat: string[]): void {
    const fields: Record<string, string> = {}
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!
    this.buffer.push({ stream: this.settings.stream, id, fields })
    this.pending.add(id)
    this.counts.read++
    this.available.signal()
  }

  /** Pending entries deleted from the stream (XDEL, trimming) cannot be emitted: acknowledge them away. */
  private async acknowledgeDeleted(ids: string[]): Promise<void> {
    await this.commands.client.call('XACK', this.settings.stream, this.settings.group, ...ids)
    this.counts.deleted += ids.length
  }

  private commandError(command: string, error: unknown): ConnectorError {
    const text = messageOf(error)
    const hint = /NOGROUP/.test(text)
      ? ' (the group or stream is gone: was Redis restarted without persistence, or the group destroyed?)'
      : ''
    return new ConnectorError(
      'ERR_REDIS_COMMAND',
      `redisStreamSource ${this.commands.address}: ${command} on stream ${this.settings.stream}, group ${this.settings.group} failed: ${text}${hint}`,
      { cause: error },
    )
  }

  private fail(error: ConnectorError): void {
    if (this.closed) return
    this.failure ??= error
    this.available.signal()
  }
}

/**
 * The [id, fields] pairs of the one stream in an XREADGROUP reply (null fields: an entry deleted while
 * pending). RESP2 answers [[key, entries]]; ioredis flattens RESP3's map to [key, entries].
 */
function entriesOf(reply: unknown): [string, string[] | null][] {
  if (!Array.isArray(reply) || reply.length === 0) return []
  const entries = Array.isArray(reply[0]) ? (reply[0] as unknown[])[1] : reply[1]
  return Array.isArray(entries) ? (entries as [string, string[] | null][]) : []
}
