import * as assert from 'uvu/assert'
import { StreamEnvironment, map } from '../../lib/index.js'
import type { MetricGroup } from '../../lib/runtime/metric-group.js'
import type { Source, SourceReader, SourceReaderContext } from '../../lib/runtime/source.js'
import { watchJob } from './amqp-broker.js'
import { Ledger, LedgerSink } from './ledger-sink.js'
import { watchReaders } from './reader-gauges.js'
import { sharedRecord } from './shared-flags.js'
import { waitFor } from './wait-for.js'

/** A queue connector's reader: its metrics show its window and what it held unacknowledged. */
type QueueReader<M> = SourceReader<M> & { readonly metrics: MetricGroup; readonly unacknowledged: number }

/** What {@link growingWindowRun} needs of one queue connector's exactly-once source. */
export interface GrowingWindowCase<M> {
  readonly source: Source<M> & { createReader(context: SourceReaderContext, restored?: unknown[]): QueueReader<M> }
  /** The message's text: `m<i>` followed by padding. */
  readonly text: (message: M) => string
  readonly messages: number
  readonly prefetch: number
  readonly maxUnacknowledgedBytes: number
  /** The message whose first arrival fails the job (after the window grew). */
  readonly failAt: string
}

/**
 * Runs an exactly-once queue source with 1 s checkpoints through one injected failure, and asserts
 * what the issue's "window" asks: the window grew beyond the prefetch (the connector's `maxWindow`),
 * the unacknowledged bytes stayed within the budget (`maxUnacknowledgedBytes`), and every message was
 * committed exactly once. The readers' gauges are kept in memory every thread shares, so the first
 * reader's still show after the restart, on worker threads too.
 *
 * @example
 * await growingWindowRun({ source, text, messages: 5000, prefetch: 50, maxUnacknowledgedBytes: 80_000, failAt: 'm2500' })
 */
export async function growingWindowRun<M>(c: GrowingWindowCase<M>): Promise<void> {
  const ledger = new Ledger<string>()
  const fault = sharedRecord({ failed: false })
  const metric = (name: string) => (reader: QueueReader<M>) => reader.metrics.value(name) ?? -1
  const readers = watchReaders(c.source, {
    unacknowledged: (reader) => reader.unacknowledged,
    maxWindow: metric('maxWindow'),
    windowChanges: metric('windowChanges'),
    maxUnacknowledged: metric('maxUnacknowledged'),
    maxUnacknowledgedBytes: metric('maxUnacknowledgedBytes'),
  })
  const env = StreamEnvironment.create({
    logLevel: 'silent',
    checkpointing: { intervalMs: 1000 },
    restartStrategy: { kind: 'fixed-delay', attempts: 3, delayMs: 5 },
  })
  env
    .fromSource(c.source, { uid: 'src' })
    .pipe(
      map(
        (m: M) => {
          const name = c.text(m).replace(/\.+$/, '')
          if (!fault.failed && name === c.failAt) {
            fault.failed = true
            throw new Error(`injected failure at ${name}`)
          }
          return name
        },
        { uid: 'faulty' },
      ),
    )
    .sinkTo(new LedgerSink(ledger), { uid: 'ledger' })
  const job = env.executeAsync()
  const watch = watchJob(job)
  try {
    await waitFor(() => watch.check() && ledger.committed.length >= c.messages && readers.at(-1).unacknowledged === 0, {
      timeoutMs: 40_000,
      description: `every message committed and acknowledged (have ${ledger.committed.length})`,
    })
  } finally {
    await job.cancel()
  }
  assert.ok(fault.failed, 'the failure was injected')
  assert.is(readers.count, 2, 'one restart')
  const sorted = [...ledger.committed].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)))
  assert.equal(
    sorted,
    Array.from({ length: c.messages }, (_, i) => `m${i}`),
    'no loss, no duplicate',
  )
  const first = readers.at(0)
  assert.ok(
    first.maxWindow > c.prefetch && first.windowChanges >= 1,
    `the window grew beyond the prefetch of ${c.prefetch} before the failure (max ${first.maxWindow})`,
  )
  assert.ok(
    first.maxUnacknowledged > c.prefetch,
    `the broker applied it: ${first.maxUnacknowledged} delivered and unacknowledged at once`,
  )
  for (let i = 0; i < readers.count; i++) {
    const bytes = readers.at(i).maxUnacknowledgedBytes
    assert.ok(
      bytes > 0 && bytes <= c.maxUnacknowledgedBytes,
      `${bytes} bytes unacknowledged at most, within the budget`,
    )
  }
}
