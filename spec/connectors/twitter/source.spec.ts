import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { RecentIds } from '../../../lib/connectors/twitter/index.js'
import { ConnectorError } from '../../../lib/errors.js'
import { XStreamServer } from '../../support/x-stream-server.js'
import { waitFor } from '../../support/wait-for.js'
import { TweetDriver } from './reader-driver.js'

/**
 * The Twitter source against the X protocol server (spec/support/x-stream-server.ts): the filtered
 * and sample streams, fields and expansions, rules sync with its dry run, dead letters, reconnects
 * after cuts, operational disconnects and restarts, backfill with de-duplication, and the errors that
 * end the source (the backoff policy and stalls: reconnect.spec.ts, on a manual clock).
 */
const Source = suite('twitter source')
let x: XStreamServer
const token = 'AAAAAAAAAAAAAAAAAAAAA-secret-bearer-token'

const fast = () => ({
  bearerToken: token,
  baseUrl: x.baseUrl,
  retry: { initialDelayMs: 20, maxDelayMs: 100 },
  networkDelayStepMs: 10,
  networkMaxDelayMs: 50,
})

Source.before(async () => {
  x = await XStreamServer.start({ token })
})
Source.after(async () => {
  await x.close()
})
Source.before.each(async () => {
  // the stream of the test before is closed by the client: wait until the server saw it go
  await waitFor(() => x.connections === 0, { timeoutMs: 5000 })
  x.rules.clear()
  x.requests.length = 0
  x.tweets.length = 0 // no backfill of an earlier test's tweets
})

Source(
  'filtered stream: rules synced by tag after a dry run; thousands of tweets with fields, includes, matching rules and event time',
  async () => {
    const kept = x.addRule('cats', 'cats')
    x.addRule('dogs', 'old')
    const d = TweetDriver.start({
      ...fast(),
      rules: [
        { value: 'cats', tag: 'cats' },
        { value: 'birds', tag: 'birds' },
      ],
      fields: { tweet: ['lang', 'author_id'] },
      expansions: ['author_id'],
    })
    try {
      await waitFor(() => x.connections === 1, { timeoutMs: 5000 })
      assert.equal(
        [...x.rules.values()].map((r) => `${r.tag}:${r.value}`).sort(),
        ['birds:birds', 'cats:cats'],
        'the server holds exactly the configured rules',
      )
      assert.ok(x.rules.has(kept.id), 'a rule with the same tag and value is kept, not re-added')
      const posts = x.requests.filter((r) => r.method === 'POST')
      assert.equal(
        posts.map((r) => `${r.query.dry_run ?? ''} ${Object.keys(JSON.parse(r.body))[0]}`),
        ['true add', ' delete', ' add'],
        'dry run of the additions first, then the deletion, then the additions',
      )
      const stream = x.streamRequests()[0]!
      assert.is(stream.query['tweet.fields'], 'lang,author_id,created_at', 'created_at is always asked for')
      assert.is(stream.query.expansions, 'author_id')
      assert.is(stream.query.backfill_minutes, undefined, 'no backfill on the first connection')
      const published = x.publish(3000, 'cats and birds')
      x.publish(50, 'fish only')
      await waitFor(() => d.records.length >= 3000, {
        timeoutMs: 10_000,
        description: () => `${d.records.length} of 3000`,
      })
      assert.equal(
        d.ids,
        published.map((t) => t.id),
        'every matching tweet once, in order; others not delivered',
      )
      const first = d.records[0]!
      assert.is(first.tweet.lang, 'en')
      assert.equal(first.includes?.users?.[0], {
        id: published[0]!.author_id,
        name: `User ${published[0]!.author_id}`,
        username: `user${published[0]!.author_id}`,
      })
      assert.equal(first.matchingRules.map((r) => r.tag).sort(), ['birds', 'cats'])
      assert.is(d.timestamps[0], Date.parse(published[0]!.created_at), 'event time from created_at')
      assert.is(d.metric('tweets'), 3000)
      assert.is(d.letters.length, 0)
    } finally {
      await d.close()
    }
  },
)

Source('sample stream: every tweet, no rules touched, empty matching rules', async () => {
  x.addRule('untouched', 'keep')
  const d = TweetDriver.start({ ...fast(), stream: 'sample' })
  try {
    await waitFor(() => x.connections === 1, { timeoutMs: 5000 })
    const published = x.publish(500, 'anything')
    await waitFor(() => d.records.length >= 500, { timeoutMs: 5000 })
    assert.equal(
      d.ids,
      published.map((t) => t.id),
    )
    assert.equal(d.records[0]!.matchingRules, [])
    assert.is(x.streamRequests()[0]!.path, '/2/tweets/sample/stream')
    assert.is(x.requests.filter((r) => r.path.endsWith('/rules')).length, 0, 'rules are not read or changed')
    assert.is(x.rules.size, 1)
  } finally {
    await d.close()
  }
})

Source(
  'messages cut across HTTP chunks (inside a multi-byte character, the delimiter alone) arrive whole, none a dead letter',
  async () => {
    x.cutMessages = true
    const d = TweetDriver.start({ ...fast(), stream: 'sample' })
    try {
      await waitFor(() => x.connections === 1, { timeoutMs: 5000 })
      const published = x.publish(300, 'café ☕ naïve €')
      await waitFor(() => d.records.length + d.letters.length >= 300, {
        timeoutMs: 5000,
        description: () => `${d.records.length} records, ${d.letters.length} dead letters`,
      })
      assert.equal(d.letters, [], 'no dead letter')
      assert.equal(
        d.ids,
        published.map((t) => t.id),
      )
      assert.equal(
        d.records.map((r) => r.tweet.text),
        published.map((t) => t.text),
        'every text decoded whole',
      )
    } finally {
      x.cutMessages = false
      await d.close()
    }
  },
)

Source(
  "an invalid rule fails the start with X's message, and the dry run leaves the server's rules unchanged",
  async () => {
    x.addRule('dogs', 'old')
    const d = TweetDriver.start({ ...fast(), rules: [{ value: 'cats (unbalanced', tag: 'bad' }] })
    try {
      await waitFor(() => d.failure !== undefined, { timeoutMs: 5000 })
      const error = d.failure as ConnectorError
      assert.instance(error, ConnectorError)
      assert.ok(error.message.includes('rule "bad"'), error.message)
      assert.ok(error.message.includes('UnprocessableEntity: There are unbalanced parentheses in rule'), error.message)
      assert.equal(
        [...x.rules.values()].map((r) => r.tag),
        ['old'],
        'nothing deleted, nothing added',
      )
      assert.is(x.streamRequests().length, 0, 'no stream opened')
    } finally {
      await d.close()
    }
  },
)

Source(
  "malformed lines, non-tweet messages and ids not in X's form go to the dead-letter output with their reason; the stream goes on",
  async () => {
    const d = TweetDriver.start({ ...fast(), stream: 'sample' })
    try {
      await waitFor(() => x.connections === 1, { timeoutMs: 5000 })
      x.publish(2)
      x.sendRaw('{"data":{"id":"1", oops')
      x.sendRaw('{"something":"else"}')
      x.sendRaw('{"data":{"id":"0042","text":"an id X never writes"}}')
      x.keepAlive()
      const after = x.publish(3)
      await waitFor(() => d.records.length >= 5 && d.letters.length >= 3, { timeoutMs: 5000 })
      assert.is(d.letters.length, 3)
      assert.match(d.letters[0]!.reason, /^malformed stream line: /)
      assert.match(d.letters[1]!.reason, /not a tweet/)
      assert.equal(d.letters[1]!.record, { something: 'else' })
      assert.is(d.letters[2]!.reason, "stream message is not a tweet (data.id is not X's decimal id)")
      assert.is(d.metric('malformedMessages'), 3)
      assert.equal(
        d.ids.slice(2),
        after.map((t) => t.id),
      )
    } finally {
      await d.close()
    }
  },
)

Source(
  'with backfill: cuts mid-message, an operational disconnect and a server restart lose nothing and duplicate nothing',
  async () => {
    const d = TweetDriver.start({ ...fast(), stream: 'sample', backfillMinutes: 2 })
    try {
      await waitFor(() => x.connections === 1, { timeoutMs: 5000 })
      const all = x.publish(400)
      await waitFor(() => d.records.length >= 400, { timeoutMs: 5000 })
      x.disconnectAll()
      all.push(...x.publish(100)) // published while no one listens
      await waitFor(() => x.connections === 1, { timeoutMs: 5000 })
      all.push(...x.publish(100))
      x.operationalDisconnect()
      all.push(...x.publish(100))
      await waitFor(() => x.connections === 1, { timeoutMs: 5000 })
      await x.restart(100)
      all.push(...x.publish(100))
      await waitFor(() => x.connections === 1, { timeoutMs: 5000 })
      all.push(...x.publish(200))
      await waitFor(() => d.records.length >= all.length, {
        timeoutMs: 10_000,
        description: () => `${d.records.length} of ${all.length}`,
      })
      assert.equal(new Set(d.ids).size, d.ids.length, 'no tweet twice')
      assert.equal([...d.ids].sort(), all.map((t) => t.id).sort(), 'every tweet')
      assert.ok(
        d.metric('duplicatesSkipped') >= 400,
        `backfill resent tweets, skipped by id (${d.metric('duplicatesSkipped')})`,
      )
      assert.is(d.metric('operationalDisconnects'), 1)
      const backfills = x.streamRequests().map((r) => r.query.backfill_minutes)
      assert.equal(backfills[0], undefined)
      assert.ok(
        backfills.slice(1).every((m) => m === '1'),
        `reconnects ask for the gap, rounded up: ${backfills}`,
      )
      assert.ok(d.logs.some((l) => l.includes('twitter operational disconnect')))
    } finally {
      await d.close()
    }
  },
)

Source(
  'a checkpoint of either version restores the recent ids: the backfill after it skips the tweets they name',
  async () => {
    const published = x.publish(10)
    const emitted = published.slice(0, 6).map((t) => t.id)
    const now = Date.now()
    const v1 = { v: 1 as const, at: now - 1000, segments: [{ at: now - 1000, ids: emitted.join(' ') }] }
    const ids = new RecentIds(120_000)
    for (const id of emitted) ids.add(id, now)
    const v2 = { v: 2 as const, at: now - 1000, segments: ids.snapshot(now - 1000) }
    for (const state of [v1, v2]) {
      const d = TweetDriver.start({ ...fast(), stream: 'sample', backfillMinutes: 1 }, [state])
      try {
        const ours = (): string[] => d.ids.filter((id) => published.some((t) => t.id === id))
        await waitFor(() => ours().length >= 4 && d.metric('duplicatesSkipped') >= 6, { timeoutMs: 5000 })
        // the backfill also replays the earlier tests' tweets of the last minute: only these ten count here
        assert.equal(
          ours(),
          published.slice(6).map((t) => t.id),
          `v${state.v}`,
        )
        assert.is(d.metric('duplicatesSkipped'), 6)
        assert.is(x.streamRequests().at(-1)!.query.backfill_minutes, '1')
      } finally {
        await d.close()
      }
    }
  },
)

Source(
  'without backfill (at-most-once): what was published while disconnected is lost, and no backfill is asked for',
  async () => {
    const d = TweetDriver.start({ ...fast(), stream: 'sample' })
    try {
      await waitFor(() => x.connections === 1, { timeoutMs: 5000 })
      x.publish(10)
      await waitFor(() => d.records.length >= 10)
      x.disconnectAll()
      x.publish(5)
      await waitFor(() => x.connections === 1, { timeoutMs: 5000 })
      const later = x.publish(10)
      await waitFor(() => d.records.length >= 20)
      assert.equal(
        d.ids.slice(10),
        later.map((t) => t.id),
      )
      assert.ok(x.streamRequests().every((r) => r.query.backfill_minutes === undefined))
    } finally {
      await d.close()
    }
  },
)

Source("refused credentials fail at once, with X's reason and without the token", async () => {
  const wrong = 'wrong-token-0123456789'
  const d = TweetDriver.start({ ...fast(), bearerToken: wrong, stream: 'sample' })
  try {
    await waitFor(() => d.failure !== undefined, { timeoutMs: 5000 })
    const error = d.failure as ConnectorError
    assert.is(error.code, 'ERR_TWITTER')
    assert.is(error.retriable, false)
    assert.match(error.message, /HTTP 401 Unauthorized/)
    assert.is(x.streamRequests().length, 1, 'no retry of a refused token')
    assert.is(x.requests[0]!.authorization, `Bearer ${wrong}`, 'the server did receive the token')
    const everything = JSON.stringify([error.message, String(error.stack), d.logs, d.letters, Object.entries(error)])
    assert.not.ok(everything.includes(wrong), 'the token is in no message, log line, letter or error field')
  } finally {
    await d.close()
  }
})

Source('an unreachable endpoint ends in ERR_CONNECT after maxRetries, with linear network backoff', async () => {
  const d = TweetDriver.start({
    ...fast(),
    baseUrl: 'http://127.0.0.1:1/2/',
    stream: 'sample',
    retry: { ...fast().retry, maxRetries: 3 },
  })
  try {
    await waitFor(() => d.failure !== undefined, { timeoutMs: 5000 })
    const error = d.failure as ConnectorError
    assert.is(error.code, 'ERR_CONNECT')
    assert.match(error.message, /no connection after 4 attempts \(maxRetries 3\)/)
    assert.match(error.message, /ECONNREFUSED/, error.message)
    assert.not.ok(JSON.stringify([error.message, d.logs]).includes(token))
  } finally {
    await d.close()
  }
})

Source('the token is in no log line or dead letter through reconnects and errors', async () => {
  const d = TweetDriver.start({ ...fast(), stream: 'sample', backfillMinutes: 1 })
  try {
    await waitFor(() => x.connections === 1, { timeoutMs: 5000 })
    x.sendRaw(`not json ${token}`)
    await waitFor(() => d.letters.length === 1, { timeoutMs: 5000 })
    x.disconnectAll()
    await waitFor(() => d.logs.some((l) => l.includes('twitter stream lost')) && x.connections === 1, {
      timeoutMs: 5000,
    })
    assert.ok(d.logs.length > 0)
    assert.not.ok(JSON.stringify([d.logs, d.letters.map((l) => [l.reason, l.record])]).includes(token))
  } finally {
    await d.close()
  }
})

Source.run()
