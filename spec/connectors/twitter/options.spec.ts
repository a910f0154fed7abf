import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment } from '../../../lib/api/stream-environment.js'
import { TwitterSource, twitterSource } from '../../../lib/connectors/twitter/index.js'
import { configError } from '../../support/config-error.js'

/** The Twitter source's options: defaults, every bad value named by its path, the token never shown, parallelism 1. */
const Options = suite('twitter source options')
const bearerToken = 'AAAA-options-secret-token'

Options(
  'defaults: filtered stream, X backoff, 20 s stall, no backfill and no dedup window, created_at always asked',
  () => {
    const s = twitterSource({ bearerToken }).settings
    assert.is(s.stream, 'filtered')
    assert.is(s.rules, undefined)
    assert.equal(s.query, { 'tweet.fields': 'created_at' })
    assert.is(s.backfillMinutes, 0)
    assert.is(s.dedupWindowMs, 0)
    assert.is(s.stallTimeoutMs, 20_000)
    assert.is(s.networkDelayStepMs, 250)
    assert.is(s.networkMaxDelayMs, 16_000)
    assert.is(s.rateLimitDelayMs, 60_000)
    assert.equal(
      [s.retry.initialDelayMs, s.retry.maxDelayMs, s.retry.multiplier, s.retry.maxRetries],
      [5000, 320_000, 2, 10],
    )
    assert.is(s.baseUrl, 'https://api.x.com/2/')
    const t = twitterSource({
      bearerToken,
      backfillMinutes: 5,
      fields: { tweet: ['created_at', 'lang'], user: ['username'] },
      expansions: ['author_id'],
    }).settings
    assert.equal(t.query, { 'tweet.fields': 'created_at,lang', 'user.fields': 'username', expansions: 'author_id' })
    assert.is(t.dedupWindowMs, 6 * 60_000, 'the backfill window plus a minute')
  },
)

Options('every bad value fails when the source is built, naming its path', () => {
  const cases: Array<[object, string]> = [
    [{ bearerToken: '' }, 'twitterSource.bearerToken'],
    [{}, 'twitterSource.bearerToken'],
    [{ bearerToken, stream: 'firehose' }, 'twitterSource.stream'],
    [{ bearerToken, rules: 'cats' }, 'twitterSource.rules'],
    [{ bearerToken, rules: [{ value: '', tag: 'a' }] }, 'twitterSource.rules[0].value'],
    [{ bearerToken, rules: [{ value: 'cats' }] }, 'twitterSource.rules[0].tag'],
    [
      {
        bearerToken,
        rules: [
          { value: 'cats', tag: 'a' },
          { value: 'dogs', tag: 'a' },
        ],
      },
      'twitterSource.rules[1].tag',
    ],
    [{ bearerToken, rules: [{ value: 'cats', tag: 'a', id: '1' }] }, 'twitterSource.rules[0].id'],
    [{ bearerToken, stream: 'sample', rules: [] }, 'twitterSource.rules'],
    [{ bearerToken, fields: { tweets: ['lang'] } }, 'twitterSource.fields.tweets'],
    [{ bearerToken, fields: { tweet: 'lang' } }, 'twitterSource.fields.tweet'],
    [{ bearerToken, fields: { tweet: ['lang,text'] } }, 'twitterSource.fields.tweet'],
    [{ bearerToken, expansions: [''] }, 'twitterSource.expansions'],
    [{ bearerToken, backfillMinutes: 6 }, 'twitterSource.backfillMinutes'],
    [{ bearerToken, backfillMinutes: 1.5 }, 'twitterSource.backfillMinutes'],
    [{ bearerToken, stallTimeoutMs: 0 }, 'twitterSource.stallTimeoutMs'],
    [{ bearerToken, networkDelayStepMs: -1 }, 'twitterSource.networkDelayStepMs'],
    [{ bearerToken, networkDelayStepMs: 500, networkMaxDelayMs: 100 }, 'twitterSource.networkMaxDelayMs'],
    [{ bearerToken, rateLimitDelayMs: Number.NaN }, 'twitterSource.rateLimitDelayMs'],
    [{ bearerToken, maxBufferedTweets: 0 }, 'twitterSource.maxBufferedTweets'],
    [{ bearerToken, baseUrl: 'ftp://x/2/' }, 'twitterSource.baseUrl'],
    [{ bearerToken, baseUrl: 'https://user:pw@api.x.com/2/' }, 'twitterSource.baseUrl'],
    [{ bearerToken, retry: { maxRetries: -1 } }, 'twitterSource.retry.maxRetries'],
    [{ bearerToken, retry: { initialDelayMs: 10, maxDelayMs: 5 } }, 'twitterSource.retry.maxDelayMs'],
    [{ bearerToken, retry: { multiplier: 0.5 } }, 'twitterSource.retry.multiplier'],
  ]
  for (const [options, path] of cases) {
    const error = configError(() => twitterSource(options as never))
    assert.is(error.option, path, `${JSON.stringify(options)} → ${error.message}`)
    assert.not.ok(error.message.includes(bearerToken), 'the token is not in the message')
  }
})

Options('a misspelt key is refused with a suggestion; the value of the token is never shown', () => {
  const error = configError(() => twitterSource({ bearerToken, backfilMinutes: 2 } as never))
  assert.is(error.option, 'twitterSource.backfilMinutes')
  assert.match(error.message, 'did you mean backfillMinutes?')
  const bad = configError(() => twitterSource({ bearerToken: 42 } as never))
  assert.match(bad.message, '[redacted]')
  assert.not.ok(bad.message.includes('42'))
})

Options('parallelism above 1 fails when the job is built (X allows one connection per app)', async () => {
  const env = StreamEnvironment.create({ logLevel: 'silent', parallelism: 4 })
  const source = new TwitterSource({ bearerToken })
  assert.is(source.maxParallelism, 1)
  env.fromSource(source, { uid: 'x', parallelism: 2 }).print()
  const error = configError(() => env.executeAsync('x job'))
  assert.is(error.option, 'twitter.parallelism')
  assert.match(error.message, 'at most 1')
  assert.not.ok(error.message.includes(bearerToken))
})

Options.run()
