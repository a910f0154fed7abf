import type { ElasticsearchSinkOptions } from './options.js'
import { ElasticsearchSink } from './sink.js'

export type { ClientTls } from '../base/client-tls.js'
export { dailyIndex } from './index-names.js'
export type {
  ElasticsearchAction,
  ElasticsearchActionTarget,
  ElasticsearchAuth,
  ElasticsearchConnectionOptions,
  ElasticsearchEmitter,
  ElasticsearchScript,
  ElasticsearchSinkOptions,
  EmitterContext,
} from './options.js'
export { ElasticsearchSink } from './sink.js'
export { ElasticsearchSinkWriter } from './writer.js'

/**
 * An Elasticsearch sink.
 *
 * @example
 * orders.sinkTo(elasticsearchSink({ nodes: 'http://127.0.0.1:9200',
 *   emitter: (o: Order) => ({ type: 'index', index: 'orders', id: o.id, document: o }) }))
 */
export function elasticsearchSink<T>(options: ElasticsearchSinkOptions<T>): ElasticsearchSink<T> {
  return new ElasticsearchSink<T>(options)
}
