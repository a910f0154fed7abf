import type { Sink, SinkWriterContext } from '../../runtime/sink.js'
import { checkElasticsearchClient, elasticsearchClient } from './connection.js'
import { type ElasticsearchSinkOptions, type ElasticsearchSinkSettings, elasticsearchSinkSettings } from './options.js'
import { ElasticsearchSinkWriter } from './writer.js'

/**
 * Writes records to Elasticsearch with the bulk API (Flink's ElasticsearchSink): an emitter turns each
 * record into index, create, update or delete actions; bulk requests go out by count, size and time;
 * each item of an answer is judged on its own — rejected and failed ones retried alone with backoff,
 * conflicts and invalid ones failed, ignored, dropped or dead-lettered as configured.
 *
 * Guarantee: at-least-once (default) — a checkpoint barrier waits until every action written before
 * it is acknowledged; with ids that a replay reproduces, the documents end up as if written once.
 * `guarantee: 'none'`: a barrier only sends.
 *
 * @example
 * stream.sinkTo(new ElasticsearchSink({ nodes: 'http://es:9200',
 *   emitter: (e: Click) => ({ type: 'index', index: dailyIndex('clicks-', e.time), id: e.id, document: e }) }))
 */
export class ElasticsearchSink<T> implements Sink<T> {
  readonly name = 'elasticsearch'
  readonly guarantee: 'at-least-once' | 'at-most-once'
  readonly settings: ElasticsearchSinkSettings<T>

  constructor(options: ElasticsearchSinkOptions<T>) {
    this.settings = elasticsearchSinkSettings(options)
    checkElasticsearchClient('elasticsearchSink')
    this.guarantee = this.settings.guarantee === 'none' ? 'at-most-once' : 'at-least-once'
  }

  createWriter(context: SinkWriterContext): ElasticsearchSinkWriter<T> {
    return new ElasticsearchSinkWriter(this.settings, elasticsearchClient(this.settings.connection), context)
  }
}
