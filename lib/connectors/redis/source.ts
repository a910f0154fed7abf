import { ioredis } from './connection.js'
import { ConfigError } from '../../errors.js'
import type { Source, SourceReaderContext } from '../../runtime/source.js'
import {
  type RedisStreamEntry,
  type RedisStreamSettings,
  type RedisStreamSourceOptions,
  type RedisStreamSplit,
  validateStreamOptions,
} from './options.js'
import { RedisStreamReader } from './reader.js'

/**
 * Reads a Redis stream through a consumer group (beyond Bahir, which has no Redis source): each
 * subtask is the consumer `<consumer>-<subtask>` of `group`, reading with XREADGROUP, COUNT and BLOCK
 * bounded by what its buffer and `maxUnacknowledged` leave room for.
 *
 * - Acknowledgement: an entry is XACKed when the checkpoint that covers it completes (the ids of each
 *   checkpoint are kept until its completion; a later completion acknowledges earlier ones too).
 * - Restart: a reader first reads its own pending entries from id 0 (entries read before a crash, or
 *   whose reply a dropped connection lost), then claims entries idle for over `claimIdleMs` in any
 *   consumer of the group that is not a subtask of this job (XPENDING IDLE + XCLAIM: subtasks of a
 *   parallelism given up, dead processes), then reads new ones; it checks again every `checkIntervalMs`. It reconnects with backoff after a Redis restart and
 *   fails with ConnectorError 'ERR_CONNECT' once `retry.maxRetries` retries failed.
 * - Backpressure: reading stops when `maxBuffered` entries wait for the job or `maxUnacknowledged`
 *   are read and not acknowledged, so a slow job keeps the group's pending list of each subtask within
 *   `maxUnacknowledged`.
 *
 * Guarantee: **at-least-once** by default; **exactly-once** with `guarantee: 'exactly-once'` and an
 * exactly-once sink, under the conditions in docs/connectors/redis.md (durable Redis state, no
 * trimming of pending entries, `claimIdleMs` longer than an entry's wait for its checkpoint).
 *
 * @example
 * env.fromSource(new RedisStreamSource({ stream: 'orders', group: 'billing' }), { uid: 'orders' })
 *   .pipe(decode((e: RedisStreamEntry) => JSON.parse(e.fields.payload!)))
 */
export class RedisStreamSource implements Source<RedisStreamEntry, RedisStreamSplit> {
  readonly name = 'redis-stream'
  readonly bounded: boolean
  readonly commitsOnCheckpoint = true
  /**
   * At another parallelism every reader gets every restored id and XACKs them all before it reads or
   * claims: a reader must not claim an entry that a checkpoint covers before its new owner acknowledged it.
   */
  readonly restoredSplits = 'all'
  /** Reading stops at `maxUnacknowledged` entries until a checkpoint XACKs them. */
  readonly acknowledgesOnCheckpoint = true
  readonly settings: RedisStreamSettings

  constructor(options: RedisStreamSourceOptions) {
    ioredis.check('redisStreamSource')
    this.settings = validateStreamOptions(options)
    this.bounded = this.settings.bounded
  }

  /**
   * The reader of one subtask; `restored` are the splits of the checkpoint dealt to it.
   *
   * @example
   * const reader = source.createReader({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime })
   */
  createReader(context: SourceReaderContext, restored?: RedisStreamSplit[]): RedisStreamReader {
    const ids: string[] = []
    for (const split of restored ?? []) {
      if (split?.v !== 1 || !Array.isArray(split.ids))
        throw new ConfigError(
          'redisStreamSource restored state',
          split,
          'a split { v: 1, stream, group, ids } written by this version',
        )
      if (split.stream === this.settings.stream && split.group === this.settings.group) ids.push(...split.ids)
    }
    return new RedisStreamReader(this.settings, context, ids)
  }
}
