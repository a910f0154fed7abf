import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { type RabbitMQMessage, RabbitMQSink, RabbitMQSource } from '../../../lib/connectors/rabbitmq/index.js'
import { StreamEnvironment, map } from '../../../lib/index.js'
import { AmqpAdmin, operatorMetrics, uniqueName, watchJob } from '../../support/amqp-broker.js'
import { PrivateRabbitNode } from '../../support/amqp-private-node.js'
import { Ledger, LedgerSink } from '../../support/ledger-sink.js'
import { waitFor } from '../../support/wait-for.js'
import { busyWait } from '../../support/fault-injection.js'

/**
 * A broker restart mid-stream, on a private RabbitMQ node of the test's own (127.0.0.1:5673; the
 * shared broker on 5672 is never disturbed): the whole Erlang node stops and boots again while a job
 * reads 10,000 messages exactly-once from one of its queues and publishes them to another. The source
 * and the sink reconnect with backoff; nothing is lost, and the exactly-once output has no duplicate.
 * The reader's and the writer's connections and what they wait for are read from the job's metrics,
 * so the test runs on the worker executor too (the connectors then live in a worker thread).
 */
const Restart = suite('rabbitmq broker restart')
let node: PrivateRabbitNode

Restart.before(async () => {
  node = await PrivateRabbitNode.start()
})
Restart.after(async () => {
  await node?.stop()
})

Restart(
  'source (exactly-once) and sink reconnect across a full broker restart; nothing lost, no duplicate',
  async () => {
    const N = 10_000
    const admin = await AmqpAdmin.open(node.url)
    const input = await admin.queue(uniqueName('restart-in'))
    const output = await admin.queue(uniqueName('restart-out'))
    await admin.publish(input, N, { properties: (i) => ({ correlationId: `c${i}` }) })
    await admin.disconnect()

    const retry = { url: node.url, retry: { initialDelayMs: 100, maxDelayMs: 500, maxRetries: 100 } }
    const source = new RabbitMQSource({ ...retry, queue: input, prefetch: 300, guarantee: 'exactly-once' })
    const sink = new RabbitMQSink<string>({ ...retry, exchange: '', routingKey: output })
    const ledger = new Ledger<string>()
    let seen = 0
    const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: 20 } })
    const texts = env.fromSource(source, { uid: 'src' }).pipe(
      map(
        (m: RabbitMQMessage) => {
          if (++seen % 10 === 0) busyWait(2) // about 2 s of work: the restart lands mid-stream
          return m.content.toString()
        },
        { uid: 'slow' },
      ),
    )
    texts.sinkTo(new LedgerSink(ledger), { uid: 'ledger' })
    texts.sinkTo(sink, { uid: 'rabbit' })
    const job = env.executeAsync()
    const watch = watchJob(job)
    // the reader's and the writer's gauges, as their thread last reported them
    const reader = (): Readonly<Record<string, number>> => operatorMetrics(job, 'src')[0] ?? {}
    const writer = (): Readonly<Record<string, number>> => operatorMetrics(job, 'rabbit')[0] ?? {}
    let duplicates = 0
    try {
      await waitFor(() => watch.check() && ledger.committed.length >= 1500, {
        timeoutMs: 15_000,
        description: '1500 committed',
      })
      const started = performance.now()
      await node.restart()
      const atRestart = ledger.committed.length
      console.log(
        `  broker restart took ${((performance.now() - started) / 1000).toFixed(1)} s, ${atRestart} of ${N} committed before it`,
      )
      assert.ok(atRestart < N, 'the restart happened mid-stream')
      await waitFor(
        () =>
          watch.check() && ledger.committed.length >= N && reader().unacknowledged === 0 && writer().unconfirmed === 0,
        {
          timeoutMs: 30_000,
          description: () =>
            `all committed after the restart (have ${ledger.committed.length}; reader ${JSON.stringify(reader())}; writer ${JSON.stringify(writer())})`,
        },
      )
      assert.is(job.metrics().restarts, 0, 'no job restart: the connectors reconnected')
      assert.ok(
        reader().connections! >= 2 && writer().connections! >= 2,
        `both reconnected: reader ${reader().connections}, writer ${writer().connections} connections`,
      )
      duplicates = reader().duplicates!
    } finally {
      await job.cancel()
    }
    const expected = Array.from({ length: N }, (_, i) => `m${i}`)
    const byNumber = (a: string, b: string): number => Number(a.slice(1)) - Number(b.slice(1))
    const committed = [...ledger.committed]
    const distinct = new Set(committed)
    const missing = expected.filter((m) => !distinct.has(m))
    assert.equal(
      { duplicates: committed.length - distinct.size, missing },
      { duplicates: 0, missing: [] },
      `exactly once (${committed.length} committed)`,
    )
    assert.equal(committed.sort(byNumber), expected, 'exactly once')
    const reader2 = await AmqpAdmin.open(node.url)
    const published = (await reader2.drainAll(output)).map((m) => m.content.toString())
    assert.equal([...new Set(published)].sort(byNumber), expected, 'the sink lost nothing')
    for (const queue of [input, output]) await reader2.channel.deleteQueue(queue)
    await reader2.disconnect()
    console.log(
      `  after the restart: ${duplicates} redelivery(ies) skipped by the source, ${published.length - N} duplicate(s) from the sink`,
    )
  },
)

Restart.run()
