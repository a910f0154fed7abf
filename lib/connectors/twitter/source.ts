import type { Source, SourceReaderContext } from '../../runtime/source.js'
import { checkTwitterClient } from './client.js'
import {
  type TweetRecord,
  type TwitterSourceOptions,
  type TwitterSourceSettings,
  type TwitterSourceState,
  twitterSourceSettings,
} from './options.js'
import { TwitterReader } from './reader.js'

/**
 * Reads X's v2 filtered stream (`/2/tweets/search/stream`) or sample stream with `twitter-api-v2`:
 * one record per tweet (tweet, includes, matching rules), event time from `created_at`. Rules are
 * synced to the configured set at start (dry run first); reconnects follow X's backoff guidance.
 * X allows one connection per app: maxParallelism 1, so a job asking for more fails when it is built
 * (ConfigError naming `<name>.parallelism`).
 *
 * Guarantee: with `backfillMinutes` > 0, a reconnect or a restore asks X for the missed minutes and
 * drops tweets already emitted by id (kept in checkpoints): exactly-once downstream of a
 * transactional sink for outages shorter than the backfill window. Without backfill, at-most-once:
 * what X sent while the stream was down is lost.
 *
 * @example
 * env.fromSource(new TwitterSource({ bearerToken: process.env.X_BEARER_TOKEN!, rules: [{ value: 'cats', tag: 'cats' }] }), { uid: 'x' })
 */
export class TwitterSource implements Source<TweetRecord, TwitterSourceState> {
  readonly name = 'twitter'
  readonly bounded = false
  readonly maxParallelism = 1
  readonly settings: TwitterSourceSettings

  constructor(options: TwitterSourceOptions) {
    this.settings = twitterSourceSettings(options)
    checkTwitterClient()
  }

  /**
   * The reader of the one subtask; restored splits hold the recent ids and the checkpoint's time.
   *
   * @example
   * const reader = source.createReader({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime })
   */
  createReader(context: SourceReaderContext, restored?: TwitterSourceState[]): TwitterReader {
    return new TwitterReader(this.settings, context, restored)
  }
}
