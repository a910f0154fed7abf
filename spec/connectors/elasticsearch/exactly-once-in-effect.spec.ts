import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ElasticsearchSink } from '../../../lib/connectors/elasticsearch/index.js'
import { checkCounts } from '../../support/fault-checks.js'
import { describePlan, FaultLog, mulberry32, planFromSeed, seedsFromEnv } from '../../support/fault-injection.js'
import { runSchedule } from '../../support/fault-jobs.js'
import {
  type ElasticsearchServer,
  REJECTED,
  startElasticsearchServer,
  UNAVAILABLE,
} from '../../support/elasticsearch-server.js'

/**
 * Exactly-once in effect: the keyed-count job of the fault harness writes `x@key:n` for each input x
 * to Elasticsearch with the deterministic id `x` (at-least-once sink, exactly-once checkpoints), under
 * seeded schedules of user-function throws, snapshot failures and declined checkpoints (the sink had
 * flushed, the checkpoint did not complete) — and, from the same seed, a node that rejects items (429,
 * 503) and drops connections. Whatever was written twice was written with the same id and, after a
 * restore, the same content: the documents read back equal the expected ones exactly.
 *
 * Replay one schedule: SEED=3 node --import tsx node_modules/uvu/bin.js spec/connectors/elasticsearch exactly-once
 */
const ExactlyOnce = suite('elasticsearch exactly-once in effect')
const SPEC = 'spec/connectors/elasticsearch/exactly-once-in-effect.spec.ts'
let es: ElasticsearchServer
/** What the schedules went through, checked at the end: the faults did fire. */
const seen = { schedules: 0, restarted: 0, itemFaults: 0, drops: 0 }

ExactlyOnce.before(async () => {
  es = await startElasticsearchServer()
})
ExactlyOnce.after(async () => {
  await es.stop()
})

for (const seed of seedsFromEnv(100, 1, 10)) {
  const plan = planFromSeed(seed, {
    kinds: ['throw-in-function', 'snapshot-fails', 'storage-write-fails'],
    modes: ['exactly-once'],
    records: [400, 1_200],
    busyTotalMs: [10, 25],
  })
  ExactlyOnce(`seed ${seed}: the documents equal the keyed count exactly`, async () => {
    const index = `eo-${seed}`
    const random = mulberry32(seed ^ 0x5eed)
    const itemFaultRate = random() * 0.05
    const dropRate = random() * 0.05
    es.itemFault = (action) => {
      if (action.meta._index !== index || random() >= itemFaultRate) return undefined
      seen.itemFaults++
      return random() < 0.5 ? REJECTED : UNAVAILABLE
    }
    es.requestFault = () => {
      if (random() >= dropRate) return undefined
      seen.drops++
      return { drop: true, afterApply: random() < 0.5 }
    }
    const sink = new ElasticsearchSink<string>({
      nodes: es.url,
      emitter: (line) => ({ type: 'index', index, id: line.slice(0, line.indexOf('@')), document: { line } }),
      maxActions: [50, 200, 1000][seed % 3],
      flushIntervalMs: 5,
      maxInFlightRequests: 1 + (seed % 3),
      bulkRetry: { initialDelayMs: 1, maxDelayMs: 10, maxRetries: 20 },
    })
    try {
      const run = await runSchedule(plan, new FaultLog(plan), { sink, timeoutMs: 30_000 })
      seen.schedules++
      if (run.restarts > 0) seen.restarted++
    } finally {
      es.itemFault = undefined
      es.requestFault = undefined
    }
    const docs = es.documents(index)
    const lines = [...docs.values()].map((doc) => String(doc._source.line))
    const check = checkCounts(lines, plan.records, plan.keys, 'exactly-once')
    assert.equal(check.problems, [], describePlan(plan, SPEC))
    assert.is(docs.size, plan.records, describePlan(plan, SPEC))
    for (const [id, doc] of docs) assert.ok(String(doc._source.line).startsWith(`${id}@`), `document ${id}`)
  })
}

ExactlyOnce('the schedules restarted jobs, rejected items and dropped connections', () => {
  if (seen.schedules < 10) return // a replay of one seed
  assert.ok(seen.restarted >= seen.schedules / 3, `${seen.restarted} of ${seen.schedules} schedules restarted`)
  assert.ok(seen.itemFaults > 0 && seen.drops > 0, JSON.stringify(seen))
})

ExactlyOnce.run()
