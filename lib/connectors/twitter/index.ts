import type { TwitterSourceOptions } from './options.js'
import { TwitterSource } from './source.js'

export { TwitterStreamError, type TwitterFailureKind } from './client.js'
export {
  twitterSourceSettings,
  type MatchingRule,
  type Tweet,
  type TweetIncludes,
  type TweetRecord,
  type TwitterFields,
  type TwitterRule,
  type TwitterSourceOptions,
  type TwitterSourceSettings,
  type TwitterSourceState,
  type TwitterSourceStateV1,
  type TwitterSourceStateV2,
  type TwitterStreamKind,
} from './options.js'
export { TwitterReader } from './reader.js'
export { RecentIds, type IdEncoding, type IdSegment } from './recent-ids.js'
export { TwitterSource } from './source.js'

/**
 * A source of X's (Twitter's) v2 filtered or sample stream; see {@link TwitterSource}.
 *
 * @example
 * const tweets = env.fromSource(
 *   twitterSource({ bearerToken: process.env.X_BEARER_TOKEN!, rules: [{ value: 'cats has:images', tag: 'cats' }], backfillMinutes: 2 }),
 *   { uid: 'tweets' },
 * )
 */
export function twitterSource(options: TwitterSourceOptions): TwitterSource {
  return new TwitterSource(options)
}
