import { ConfigError } from '../../errors.js'
import { finiteNumber, nonEmptyString, oneOf, optionsObject, wholeNumber } from '../../util/options.js'
import {
  type ConnectionRetryOptions,
  CONNECTION_RETRY_OPTIONS,
  type RetrySettings,
  connectionRetry,
} from '../base/retry-options.js'

/** Which of X's v2 streams to read. */
export type TwitterStreamKind = 'filtered' | 'sample'

/** One filtered-stream rule: X's rule syntax, and the tag that identifies it when rules are synced. */
export interface TwitterRule {
  readonly value: string
  readonly tag: string
}

/** The `*.fields` parameters of the stream request (X's field names, e.g. `tweet: ['created_at', 'lang']`). */
export interface TwitterFields {
  readonly tweet?: readonly string[]
  readonly user?: readonly string[]
  readonly media?: readonly string[]
  readonly place?: readonly string[]
  readonly poll?: readonly string[]
}

/** Options of {@link TwitterSource}. Connection retries use the flat backoff vocabulary for HTTP errors. */
export interface TwitterSourceOptions extends ConnectionRetryOptions {
  /** The app's bearer token (OAuth 2.0 app-only). Never logged, never in an error message. */
  bearerToken: string
  /** 'filtered' (default): `/2/tweets/search/stream`; 'sample': `/2/tweets/sample/stream`. */
  stream?: TwitterStreamKind
  /**
   * The filtered stream's rules, declaratively: at start the server's rules are synced to this set
   * by tag (missing ones added, others deleted), after a dry run that fails the job with X's message
   * when a rule is invalid. Undefined (default): the server's rules are left as they are.
   */
  rules?: readonly TwitterRule[]
  /** The `*.fields` of the request; `created_at` is always added to `tweet` (event time). */
  fields?: TwitterFields
  /** The `expansions` of the request (e.g. `['author_id']`); default none. */
  expansions?: readonly string[]
  /**
   * Minutes of backfill (`backfill_minutes`, 0–5) asked for after a reconnect or a restore, where the
   * account allows it; tweets already emitted are dropped by id. Default 0: no backfill, at-most-once.
   */
  backfillMinutes?: number
  /** Silence (no tweet, no keep-alive) longer than this is a stall: reconnect. Default 20,000 ms (X's keep-alive interval). */
  stallTimeoutMs?: number
  /** Network errors back off linearly by this step; default 250 ms. */
  networkDelayStepMs?: number
  /** Ceiling of the linear network backoff; default 16,000 ms. */
  networkMaxDelayMs?: number
  /** Wait after a 429 that carries no `x-rate-limit-reset`; default 60,000 ms (doubling on repeats). */
  rateLimitDelayMs?: number
  /** Tweets received and not yet emitted before the connection is paused; default 10,000. */
  maxBufferedTweets?: number
  /** The API's base URL; default `https://api.x.com/2/` (a proxy or a test server otherwise). */
  baseUrl?: string
}

/** A tweet as X sends it: `id` and `text`, plus the requested fields. */
export interface Tweet {
  readonly id: string
  readonly text: string
  readonly created_at?: string
  readonly [field: string]: unknown
}

/** The objects that expansions pulled in (`users`, `tweets`, `media`, `places`, `polls`). */
export type TweetIncludes = { readonly [kind: string]: readonly Record<string, unknown>[] | undefined }

/** A rule of the filtered stream that a tweet matched. */
export interface MatchingRule {
  readonly id: string
  readonly tag?: string
}

/** A record of the Twitter source: one stream message. */
export interface TweetRecord {
  readonly tweet: Tweet
  readonly includes: TweetIncludes | undefined
  /** Empty on the sample stream. */
  readonly matchingRules: readonly MatchingRule[]
  /** Partial errors X sent along with the tweet (an expansion it could not resolve). */
  readonly errors: readonly unknown[] | undefined
}

/** What the first checkpoints kept: the ids emitted in the recent window, in segments, in decimal. */
export interface TwitterSourceStateV1 {
  readonly v: 1
  /** Since when tweets may be missing after a restore (the snapshot, or the oldest tweet still buffered then). */
  readonly at: number
  /** Ids emitted together, space-joined, with the time of the newest. */
  readonly segments: ReadonlyArray<{ readonly at: number; readonly ids: string }>
}

/**
 * What a checkpoint keeps: as v1, each segment's ids written compactly — the first in decimal, then
 * each as its difference from the one before in base 36 (an id far from the one before whole, after `=`).
 */
export interface TwitterSourceStateV2 {
  readonly v: 2
  readonly at: number
  readonly segments: ReadonlyArray<{ readonly at: number; readonly ids: string }>
}

/** A checkpoint of the source, of either version (v2 is written; v1 is still read). */
export type TwitterSourceState = TwitterSourceStateV1 | TwitterSourceStateV2

/** The source's settings after validation. */
export interface TwitterSourceSettings {
  readonly bearerToken: string
  readonly stream: TwitterStreamKind
  readonly rules: readonly TwitterRule[] | undefined
  /** Query parameters of the stream request (`tweet.fields`, `expansions`, …), comma-joined. */
  readonly query: Readonly<Record<string, string>>
  readonly backfillMinutes: number
  readonly stallTimeoutMs: number
  readonly networkDelayStepMs: number
  readonly networkMaxDelayMs: number
  readonly rateLimitDelayMs: number
  readonly maxBufferedTweets: number
  readonly baseUrl: string
  /** How long emitted ids are remembered: the backfill window plus a minute; 0 without backfill. */
  readonly dedupWindowMs: number
  readonly retry: RetrySettings
}

const SOURCE_OPTIONS: Record<keyof TwitterSourceOptions, true> = {
  ...CONNECTION_RETRY_OPTIONS,
  bearerToken: true,
  stream: true,
  rules: true,
  fields: true,
  expansions: true,
  backfillMinutes: true,
  stallTimeoutMs: true,
  networkDelayStepMs: true,
  networkMaxDelayMs: true,
  rateLimitDelayMs: true,
  maxBufferedTweets: true,
  baseUrl: true,
}

const FIELD_KINDS: Record<keyof TwitterFields, true> = { tweet: true, user: true, media: true, place: true, poll: true }

/**
 * Validates the source's options and applies the defaults; a bad value fails here, when the job is
 * built, naming its path (`twitterSource.rules[1].tag`). The bearer token's value is never shown.
 *
 * @example
 * twitterSourceSettings({ bearerToken: 'AAAA…', rules: [{ value: 'cats has:images', tag: 'cats' }] }).stream // 'filtered'
 */
export function twitterSourceSettings(options: TwitterSourceOptions): TwitterSourceSettings {
  const o = optionsObject('twitterSource', options, Object.keys(SOURCE_OPTIONS))
  // ConfigError never prints the value of a …token option
  const bearerToken = nonEmptyString('twitterSource.bearerToken', o.bearerToken)
  const stream = oneOf('twitterSource.stream', o.stream, ['filtered', 'sample'] as const, 'filtered')
  const rules = o.rules === undefined ? undefined : validRules(o.rules)
  if (rules !== undefined && stream === 'sample')
    throw new ConfigError(
      'twitterSource.rules',
      'rules',
      'no rules with stream "sample" (rules filter the filtered stream)',
    )
  const backfillMinutes = wholeNumber('twitterSource.backfillMinutes', o.backfillMinutes, 0, 0, 5)
  const networkDelayStepMs = finiteNumber('twitterSource.networkDelayStepMs', o.networkDelayStepMs, 250, 0)
  const networkMaxDelayMs = finiteNumber('twitterSource.networkMaxDelayMs', o.networkMaxDelayMs, 16_000, 0)
  if (networkMaxDelayMs < networkDelayStepMs)
    throw new ConfigError(
      'twitterSource.networkMaxDelayMs',
      networkMaxDelayMs,
      `at least networkDelayStepMs (${networkDelayStepMs})`,
    )
  const baseUrl = nonEmptyString('twitterSource.baseUrl', o.baseUrl, 'https://api.x.com/2/')
  if (!/^https?:\/\/[^@/]+\/(.+\/)?$/.test(baseUrl))
    throw new ConfigError('twitterSource.baseUrl', baseUrl, 'an http(s) URL without credentials, ending in "/"')
  return Object.freeze({
    bearerToken,
    stream,
    rules,
    query: Object.freeze(streamQuery(o.fields, o.expansions)),
    backfillMinutes,
    stallTimeoutMs: finiteNumber('twitterSource.stallTimeoutMs', o.stallTimeoutMs, 20_000),
    networkDelayStepMs,
    networkMaxDelayMs,
    rateLimitDelayMs: finiteNumber('twitterSource.rateLimitDelayMs', o.rateLimitDelayMs, 60_000, 0),
    maxBufferedTweets: wholeNumber('twitterSource.maxBufferedTweets', o.maxBufferedTweets, 10_000, 1),
    baseUrl,
    dedupWindowMs: backfillMinutes === 0 ? 0 : (backfillMinutes + 1) * 60_000,
    retry: connectionRetry('twitterSource', o, { maxRetries: 10, initialDelayMs: 5_000, maxDelayMs: 320_000 }),
  })
}

function validRules(rules: unknown): readonly TwitterRule[] {
  if (!Array.isArray(rules)) throw new ConfigError('twitterSource.rules', rules, 'an array of { value, tag }')
  const tags = new Set<string>()
  return Object.freeze(
    rules.map((rule: unknown, i) => {
      const r = optionsObject(`twitterSource.rules[${i}]`, rule as TwitterRule, ['value', 'tag'])
      const value = nonEmptyString(`twitterSource.rules[${i}].value`, r.value)
      const tag = nonEmptyString(`twitterSource.rules[${i}].tag`, r.tag)
      if (tags.has(tag)) throw new ConfigError(`twitterSource.rules[${i}].tag`, tag, 'a tag no other rule has')
      tags.add(tag)
      return Object.freeze({ value, tag })
    }),
  )
}

function streamQuery(
  fields: TwitterFields | undefined,
  expansions: readonly string[] | undefined,
): Record<string, string> {
  const f = optionsObject('twitterSource.fields', fields ?? {}, Object.keys(FIELD_KINDS))
  const query: Record<string, string> = {}
  for (const kind of Object.keys(FIELD_KINDS) as Array<keyof TwitterFields>) {
    const names = stringList(`twitterSource.fields.${kind}`, f[kind])
    if (kind === 'tweet' && !names.includes('created_at')) names.push('created_at')
    if (names.length > 0) query[`${kind}.fields`] = names.join(',')
  }
  const expanded = stringList('twitterSource.expansions', expansions)
  if (expanded.length > 0) query.expansions = expanded.join(',')
  return query
}

function stringList(path: string, value: unknown): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '' || v.includes(',')))
    throw new ConfigError(path, value, 'an array of names (non-empty strings without commas)')
  return [...value]
}
