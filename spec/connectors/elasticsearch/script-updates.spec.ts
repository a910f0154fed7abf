import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { ElasticsearchSinkOptions } from '../../../lib/connectors/elasticsearch/index.js'
import type { DeadLetter } from '../../../lib/runtime/output-tag.js'
import { type ElasticsearchServer, startElasticsearchServer } from '../../support/elasticsearch-server.js'
import { runPainless, type ScriptContext } from '../../support/painless-subset.js'
import { sinkWriter } from './support.js'

/**
 * Update actions by script against the loopback node, which runs a Painless subset
 * (spec/support/painless-subset.ts) as Elasticsearch runs scripts: counters kept by script with an
 * upsert, scripted upserts, `ctx.op = 'noop'`, and scripts that fail to compile or to run.
 */
const Scripts = suite('elasticsearch sink: script updates')
let es: ElasticsearchServer
let n = 0

Scripts.before(async () => {
  es = await startElasticsearchServer()
})
Scripts.after(async () => {
  await es.stop()
})

interface Hit {
  readonly page: string
  readonly n: number
}

const freshIndex = () => `scripts-${++n}`

const writerFor = (options: Omit<ElasticsearchSinkOptions<Hit>, 'nodes'>, letters: DeadLetter[] = []) =>
  sinkWriter<Hit>({ nodes: es.url, ...options }, letters)

const hits = (...pairs: [string, number][]): Hit[] => pairs.map(([page, n]) => ({ page, n }))

Scripts('a counter kept by script: the upsert creates the document, the script adds to it', async () => {
  const index = freshIndex()
  const { writer } = writerFor({
    emitter: (hit) => ({
      type: 'update',
      index,
      id: hit.page,
      script: { source: 'ctx._source.count += params.n', params: { n: hit.n } },
      upsert: { count: hit.n },
    }),
  })
  for (const hit of hits(['a', 1], ['b', 2], ['a', 3], ['a', 4])) writer.write(hit, undefined)
  await writer.flush()
  assert.equal(es.sources(index).get('a'), { count: 8 })
  assert.equal(es.sources(index).get('b'), { count: 2 })
  assert.is(es.documents(index).get('a')?._version, 3)
  await writer.close()
})

Scripts('scriptedUpsert runs the script on the upsert document; without it the upsert is stored as it is', async () => {
  const index = freshIndex()
  const source =
    'if (ctx._source.count == null) { ctx._source.count = 0 } ctx._source.count += params.n; ctx._source.last = params.n'
  const { writer } = writerFor({
    emitter: (hit) => ({
      type: 'update',
      index,
      id: hit.page,
      script: { source, params: { n: hit.n } },
      upsert: {},
      scriptedUpsert: hit.page === 'scripted',
    }),
  })
  for (const hit of hits(['scripted', 2], ['scripted', 3], ['plain', 2], ['plain', 3])) writer.write(hit, undefined)
  await writer.flush()
  assert.equal(es.sources(index).get('scripted'), { count: 5, last: 3 })
  assert.equal(es.sources(index).get('plain'), { count: 3, last: 3 }, 'the first update stored {}')
  const sent = es.actions().filter((a) => a.meta._index === index)
  assert.is(sent[0]!.source?.scripted_upsert, true)
  assert.is(sent[2]!.source?.scripted_upsert, undefined)
  await writer.close()
})

Scripts("ctx.op = 'noop' leaves the document and its version alone", async () => {
  const index = freshIndex()
  const { writer } = writerFor({
    emitter: (hit) => ({
      type: 'update',
      index,
      id: hit.page,
      script: {
        source: "if (ctx._source.n == params.n) { ctx.op = 'noop' } else { ctx._source.n = params.n }",
        params: { n: hit.n },
      },
      upsert: { n: hit.n },
    }),
  })
  for (const hit of hits(['a', 1], ['a', 1], ['a', 1], ['a', 2])) writer.write(hit, undefined)
  await writer.flush()
  assert.equal(es.sources(index).get('a'), { n: 2 })
  assert.is(es.documents(index).get('a')?._version, 2, 'created, then changed once')
  await writer.close()
})

Scripts(
  'a script that fails to run or to compile is an invalid item: dead-lettered with the cause, the others land',
  async () => {
    const index = freshIndex()
    const letters: DeadLetter[] = []
    const { writer, metrics } = writerFor(
      {
        emitter: (hit) => ({
          type: 'update',
          index,
          id: hit.page,
          script: {
            source: hit.page === 'typo' ? 'ctx._source.count++' : 'ctx._source.count += params.n',
            params: { n: hit.n },
          },
          upsert: hit.page === 'no-count' ? { other: 1 } : { count: hit.n },
        }),
        onInvalid: 'dead-letter',
      },
      letters,
    )
    for (const hit of hits(['ok', 1], ['no-count', 1], ['no-count', 1], ['typo', 1], ['typo', 1], ['ok', 1]))
      writer.write(hit, undefined)
    await writer.flush()
    assert.equal(es.sources(index).get('ok'), { count: 2 })
    assert.equal(es.sources(index).get('no-count'), { other: 1 }, 'the failed script changed nothing')
    assert.equal(
      letters.map((l) => l.reason),
      [
        '400 illegal_argument_exception: failed to execute script (script_exception: runtime error; null_pointer_exception: cannot apply arithmetic to null (NullPointerException))',
        '400 illegal_argument_exception: failed to execute script (script_exception: compile error; illegal_argument_exception: unexpected token [+])',
      ],
    )
    assert.is(metrics.value('failuresInvalid'), 2)
    await writer.close()
  },
)

Scripts('the Painless subset refuses what it does not know rather than guessing', () => {
  const ctx: ScriptContext = { _source: { list: [1], nested: { a: 1 } }, op: 'index' }
  runPainless("ctx._source.list.add(params.x); ctx._source.nested.a *= 3; ctx._source.remove('gone')", { x: 2 }, ctx)
  assert.equal(ctx._source, { list: [1, 2], nested: { a: 3 } })
  for (const source of [
    'ctx._source.a = Math.max(1, 2)',
    'for (x in y) {}',
    'ctx._source.a = params.n ?: 0',
    'ctx._source = params',
  ])
    assert.throws(() => runPainless(source, {}, { _source: {}, op: 'index' }), /compile error|unexpected|cannot/)
})

Scripts.run()
